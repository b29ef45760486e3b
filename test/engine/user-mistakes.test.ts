/**
 * Mistakes a user makes in a statement are their errors to fix, said in one line before any work
 * is done, not internal errors after it.
 */
import { join } from 'node:path';
import { open, type Krypton } from '../../src/krypton';
import { KryptonError } from '../../src/errors';
import type { OcclusionProgress } from '../../src/krypton';
import { MNIST_IMAGE, ROOT, runCli } from '../cli/helpers';

const MNIST = `CREATE MODEL mnist FROM '${join(ROOT, 'data/models/mnist.onnx')}' SCALE 255 NORMALIZE NONE`;
const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const OCCLUDE_MNIST = `OCCLUDE ('${MNIST_IMAGE}') USING MODEL mnist WITH PATCH 14 STRIDE 7 STRATEGY NAIVE`;

let db: Krypton;
beforeAll(async () => {
  db = await open(':memory:', { throughput: RATES });
  await db.execute(`${MNIST}; ${OCCLUDE_MNIST};`);
});
afterAll(() => db.close());

async function rejection(promise: Promise<unknown>): Promise<KryptonError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(KryptonError);
  expect((error as Error).message).not.toContain('\n');
  return error as KryptonError;
}

describe('INTO a view', () => {
  test.each([
    ['a view over a results table', 'CREATE VIEW maps_view AS SELECT * FROM heatmaps', 'maps_view', ''],
    ['a view of another shape', 'CREATE VIEW other_view AS SELECT 1 AS a', 'other_view', ''],
    ['a view, with an approximate plan to tune', 'CREATE VIEW tuned_view AS SELECT * FROM heatmaps', 'tuned_view', ' QUALITY SSIM >= 0.9'],
  ])('%s is refused before any image is computed', async (_, createView, view, quality) => {
    await db.query(createView);
    const progress: OcclusionProgress[] = [];
    const statement = `${OCCLUDE_MNIST.replace(' STRATEGY NAIVE', quality)} INTO ${view}`;
    const error = await rejection(db.query(statement, { onProgress: (p) => progress.push(p) }));
    expect(error.code).toBe('store');
    expect(error.message).toBe(`"${view}" is a view, not a table: results cannot be stored in it; choose another INTO name`);
    expect(progress).toEqual([]);
  });

  test('through the CLI it is a one-line error with exit status 1, not an internal error', async () => {
    const run = await runCli(['--db', ':memory:', '-c', `${MNIST}; CREATE VIEW v AS SELECT 1 AS a; ${OCCLUDE_MNIST} INTO v`]);
    expect(run.stderr).toMatch(/^krypton: line 1: "v" is a view, not a table/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.code).toBe(1);
  });
});

test('a glob longer than the matcher takes is the user\'s error, named as such', async () => {
  const pattern = `${ROOT}/${'a'.repeat(70_000)}*.png`;
  const error = await rejection(db.query(`OCCLUDE '${pattern}' USING MODEL mnist WITH PATCH 14 STRIDE 7 STRATEGY NAIVE`));
  expect(error.code).toBe('image');
  expect(error.message).toMatch(/the image pattern '.{1,80}…' \(70,0\d\d characters\) cannot be matched: .*exceeds maximum allowed length/);
  // In the CLI: exit status 1, one line (read from stdin: onnxruntime crashes on a 30,000-character argument).
  const run = await runCli(['--db', ':memory:', 'run', '-'], `${MNIST}; OCCLUDE '${pattern}' USING MODEL mnist WITH PATCH 14 STRIDE 7 STRATEGY NAIVE;`);
  expect(run.code).toBe(1);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/internal error/);
});

describe('heatmap_cells on any table INTO accepted', () => {
  test.each([
    ['"we""ird"', `'"we""ird"'`],
    ['"Odd Maps"', `'"Odd Maps"'`],
    ['analytics."x.y"', `'analytics."x.y"'`],
    ['plain_maps', `'plain_maps'`],
  ])('INTO %s is read by heatmap_cells(%s)', async (into, argument) => {
    if (into.startsWith('analytics.')) await db.query('CREATE SCHEMA IF NOT EXISTS analytics');
    await db.query(`${OCCLUDE_MNIST} INTO ${into}`);
    const cells = await db.query(`SELECT count(*)::INTEGER AS n, min(x)::INTEGER AS x0, max(y)::INTEGER AS y1 FROM heatmap_cells(${argument})`);
    expect(cells.rows[0]).toEqual({ n: 9, x0: 0, y1: 2 });
  });
});
