/**
 * The typed occlusion call as a pipeline uses it: image lists with globs in them, and EXPLAIN's
 * plan as text next to its rows.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { open, type Krypton } from '../../src/krypton';
import { KryptonError } from '../../src/errors';
import { ResultPrinter } from '../../src/cli/print-result';
import { DATA } from '../support/heatmaps';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const XRAYS = join(DATA, 'images/chest-xray-hannover/png');

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-typed-'));
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${join(DATA, 'models/cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`);
  // Three scans written out of order, a file that is no image, and one whose name looks like a glob.
  mkdirSync(join(dir, 'scans'));
  copyFileSync(join(XRAYS, '0578e08b.png'), join(dir, 'scans/c.png'));
  copyFileSync(join(XRAYS, '00870a9c.png'), join(dir, 'scans/a.png'));
  copyFileSync(join(XRAYS, '073a8f93.png'), join(dir, 'scans/b.png'));
  writeFileSync(join(dir, 'scans/notes.txt'), 'not a scan');
  copyFileSync(join(XRAYS, '09258248.png'), join(dir, 'scan[1].png'));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('images given as a list', () => {
  it('expands a glob entry to its files, sorted, in its place; a plain path is that path', async () => {
    const result = await db.occlude({
      images: [join(XRAYS, '0957ce54.png'), join(dir, 'scans/*.png'), join(dir, 'scan[1].png')],
      model: 'cxr', patch: 112, stride: 112, into: 'listed',
    });
    expect(result.rows.map((r) => [r.image_id, r.status])).toEqual([
      ['0957ce54', 'done'], ['a', 'done'], ['b', 'done'], ['c', 'done'], ['scan[1]', 'done'],
    ]);
  });

  it('is the same occlusion as the glob source of the language', async () => {
    const typed = await db.occlude({ images: [join(dir, 'scans/*.png')], model: 'cxr', patch: 112, stride: 112, into: 'listed' });
    const written = await db.query(`OCCLUDE '${join(dir, 'scans/*.png')}' USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO listed`);
    expect(typed.rows.map((r) => r.image_path)).toEqual(written.rows.map((r) => r.image_path));
    expect(written.rows.map((r) => r.status)).toEqual(['already done', 'already done', 'already done']);
  });

  it('refuses a glob entry that matches nothing, naming it, before anything runs', async () => {
    const pattern = join(dir, 'scans/*.jpg');
    const attempt = db.occlude({ images: [join(XRAYS, '0ac7580d.png'), pattern], model: 'cxr', patch: 112, stride: 112, into: 'never' });
    await expect(attempt).rejects.toThrow(new KryptonError(`occlude option 'images': no images match '${pattern}'`));
    expect(await db.listTables()).not.toContain('never');
  });
});

describe('explain', () => {
  const options = { model: 'cxr', patch: 112, stride: 112 };

  it("gives the plan as EXPLAIN prints it, with the rows it is printed from", async () => {
    const explained = await db.explain({ ...options, images: join(dir, 'scans/*.png') });
    expect(explained.kind).toBe('Explain');
    expect(explained.text).toMatch(/^EXPLAIN OCCLUDE '.*scans\/\*\.png' USING MODEL cxr WITH PATCH 112 STRIDE 112$/);
    const printed = new PassThrough();
    let output = '';
    printed.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    new ResultPrinter({ stdin: new PassThrough(), stdout: printed, stderr: new PassThrough() }, { json: false, maxRows: 100 }).print(explained);
    expect(explained.plan).toBe(output.replace(/\n$/, ''));
    expect(explained.plan).toMatch(/^logical plan:\n {2}\S/);
    expect(explained.plan).toContain('\nphysical plan:\n');
    expect(explained.plan.split('\n').filter((line) => line.startsWith('  '))).toEqual(explained.rows.map((r) => `  ${r.line}`));
  });

  it('with analyze, adds what the run measured', async () => {
    const explained = await db.explain({ ...options, images: [join(XRAYS, '1663b242.png')], into: 'analyzed' }, { analyze: true });
    expect(explained.plan).toContain('\nanalyze:\n');
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM analyzed')).rows[0].n).toBe(1);
  });

  it('EXPLAIN written as a statement carries the same plan', async () => {
    const statement = `EXPLAIN OCCLUDE '${join(dir, 'scans/*.png')}' USING MODEL cxr WITH PATCH 112 STRIDE 112`;
    const [written] = await db.execute(statement);
    expect(written.plan).toMatch(/^logical plan:\n/);
    expect(written.plan).toBe((await db.explain({ ...options, images: join(dir, 'scans/*.png') })).plan);
  });
});
