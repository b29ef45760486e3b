import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Krypton } from '../../src/krypton';
import { sessionsCreated } from '../../src/model/session';
import { buildZooModel } from '../../src/zoo/build-zoo-model';
import { DATA } from '../support/heatmaps';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const XRAYS = join(DATA, 'images/chest-xray-hannover/png');
const [XRAY_A, XRAY_B, XRAY_C] = readdirSync(XRAYS).sort().slice(0, 3).map((name) => join(XRAYS, name));
const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');

// Sessions made in worker threads are not this thread's to count: every operator here runs in this one.
const workers = process.env.KRYPTON_WORKERS;
const cache = process.env.KRYPTON_CACHE_DIR;
let dir: string;
let db: Krypton;
beforeAll(async () => {
  process.env.KRYPTON_WORKERS = '0';
  dir = mkdtempSync(join(tmpdir(), 'krypton-sessions-'));
  // Sessions are counted: a probe kept by another test file for the same model bytes would skip one.
  process.env.KRYPTON_CACHE_DIR = join(dir, 'cache');
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${CXR}' CHANNELS GRAY SCALE 255 NORMALIZE NONE`);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  if (workers === undefined) delete process.env.KRYPTON_WORKERS;
  else process.env.KRYPTON_WORKERS = workers;
  if (cache === undefined) delete process.env.KRYPTON_CACHE_DIR;
  else process.env.KRYPTON_CACHE_DIR = cache;
});

/** Sessions a statement created, and its result. */
async function counted(statement: string): Promise<{ created: number; result: Awaited<ReturnType<Krypton['query']>> }> {
  const before = sessionsCreated();
  const result = await db.query(statement);
  return { created: sessionsCreated() - before, result };
}

const occlude = (image: string, strategy: string, table: string, model = 'cxr', grid = 'PATCH 56 STRIDE 42') =>
  `OCCLUDE ('${image}') USING MODEL ${model} WITH ${grid} STRATEGY ${strategy} INTO ${table}`;

describe('a second statement on the same model builds no sessions', () => {
  it('exact: the first builds its segments and tail, the next (another image) none, another grid only what its plan adds', async () => {
    const first = await counted(occlude(XRAY_A, 'INCREMENTAL', 'exact_maps'));
    expect(first.result.rows[0].status).toBe('done');
    expect(first.created).toBeGreaterThan(1);
    const second = await counted(occlude(XRAY_B, 'INCREMENTAL', 'exact_maps'));
    expect(second.result.rows[0].status).toBe('done');
    expect(second.created).toBe(0);
    const otherStride = await counted(occlude(XRAY_C, 'INCREMENTAL', 'exact_maps', 'cxr', 'PATCH 56 STRIDE 56'));
    expect(otherStride.result.rows[0].status).toBe('done');
    // A coarser grid changes where the tail starts: the segments before it are the same ones.
    expect(otherStride.created).toBeLessThan(first.created);
  });

  it('naive: one session for the whole model, then none', async () => {
    expect((await counted(occlude(XRAY_A, 'NAIVE', 'naive_maps'))).created).toBe(1);
    expect((await counted(occlude(XRAY_B, 'NAIVE', 'naive_maps'))).created).toBe(0);
  });

  it('the reused sessions give the heatmaps fresh ones give', async () => {
    const fresh = await open(join(dir, 'fresh.duckdb'), { throughput: RATES });
    try {
      await fresh.query(`CREATE MODEL cxr FROM '${CXR}' CHANNELS GRAY SCALE 255 NORMALIZE NONE`);
      await fresh.query(occlude(XRAY_B, 'INCREMENTAL', 'exact_maps'));
      const mine = await db.query(`SELECT heatmap FROM exact_maps WHERE image_path = '${XRAY_B}'`);
      const theirs = await fresh.query(`SELECT heatmap FROM exact_maps WHERE image_path = '${XRAY_B}'`);
      expect(mine.rows[0].heatmap).toEqual(theirs.rows[0].heatmap);
    } finally {
      await fresh.close();
    }
  });

  it('a model file overwritten at the same path gets sessions of its own', async () => {
    const modelFile = join(dir, 'replaced.onnx');
    writeFileSync(modelFile, buildZooModel('squeezenet', { input: 64, classes: 3, seed: 1 }));
    await db.query(`CREATE MODEL replaced FROM '${modelFile}'`);
    const grid = 'PATCH 32 STRIDE 32';
    const before = await counted(occlude(XRAY_A, 'INCREMENTAL', 'replaced_maps', 'replaced', grid));
    expect(before.created).toBeGreaterThan(1);
    expect((await counted(occlude(XRAY_B, 'INCREMENTAL', 'replaced_maps', 'replaced', grid))).created).toBe(0);
    writeFileSync(modelFile, buildZooModel('squeezenet', { input: 64, classes: 3, seed: 2 }));
    const after = await counted(occlude(XRAY_A, 'INCREMENTAL', 'replaced_maps', 'replaced', grid));
    expect(after.result.rows[0]).toMatchObject({ status: 'done', replaced: 'the model file changed since it was stored' });
    // The new file's probe, then all its operator's sessions again.
    expect(after.created).toBe(before.created + 1);
    expect(after.result.rows[0].base_probability).not.toBe(before.result.rows[0].base_probability);
  });
});
