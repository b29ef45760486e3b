import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { open, type Krypton } from '../../src/krypton';
import { assignImageIds, imageKey } from '../../src/executor/image-source';
import { overlayFileNames } from '../../src/executor/execute-occlude';
import { buildZooModel } from '../../src/zoo/build-zoo-model';
import { KryptonError } from '../../src/errors';
import { DATA } from '../support/heatmaps';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const XRAYS = join(DATA, 'images/chest-xray-hannover/png');
const [XRAY_A, XRAY_B] = readdirSync(XRAYS).sort().slice(0, 2).map((name) => join(XRAYS, name));
const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');
const OPTIONS = `CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`;

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-identity-'));
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${CXR}' ${OPTIONS}`);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(KryptonError);
  return (error as Error).message;
}

describe('image ids are unique within a query; the path is the key', () => {
  it('tells files of the same name apart by their folders, and their overlays too', async () => {
    const root = join(dir, 'patients');
    for (const [patient, source] of [['p1', XRAY_A], ['p2', XRAY_B]] as const) {
      mkdirSync(join(root, patient), { recursive: true });
      copyFileSync(source, join(root, patient, 'scan.png'));
    }
    const overlays = join(dir, 'overlays');
    const result = await db.query(`OCCLUDE '${root}/*/scan.png' USING MODEL cxr WITH PATCH 112 STRIDE 112 RENDER TO '${overlays}' INTO same_names`);
    expect(result.rows.map((r) => r.image_id)).toEqual(['p1/scan', 'p2/scan']);
    expect(readdirSync(overlays).sort()).toEqual(['p1_scan.png', 'p2_scan.png']);
    const joined = await db.query(`SELECT count(*)::INTEGER AS n FROM same_names a JOIN same_names b USING (query_id, image_id)`);
    expect(joined.rows[0].n).toBe(2);
  });

  it('keeps the extension where only it differs, and base names where they are unique', () => {
    const { images } = assignImageIds([{ path: '/x/scan.png' }, { path: '/x/scan.jpg' }, { path: '/x/other.png' }]);
    expect(images.map((i) => i.imageId)).toEqual(['scan.png', 'scan.jpg', 'other']);
    const deep = assignImageIds([{ path: '/data/2024/a/scan.png' }, { path: '/data/2025/b/scan.png' }]);
    expect(deep.images.map((i) => i.imageId)).toEqual(['2024/a/scan', '2025/b/scan']);
  });

  it('refuses a query that gives two files the same image_id, or one file two, before computing anything', async () => {
    const message = await failure(db.query(`OCCLUDE (SELECT * FROM (VALUES ('${XRAY_A}', 'x'), ('${XRAY_B}', 'x')) t(path, image_id)) USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO clash`));
    expect(message).toMatch(/image_id 'x' would name two files, .* and .*; image ids must be unique within a query/);
    const twice = await failure(db.query(`OCCLUDE (SELECT * FROM (VALUES ('${XRAY_A}', 'x'), ('${XRAY_A}', 'y')) t(path, image_id)) USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO clash`));
    expect(twice).toMatch(/gives .* two image_ids, 'x' and 'y'/);
    expect((await db.query(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'clash'`)).rows[0].n).toBe(0);
  });

  it('a default id that meets an id the query gives is refused too', () => {
    expect(() => assignImageIds([{ path: '/a/scan.png', imageId: 'scan' }, { path: '/b/scan.png' }])).toThrow(/image_id 'scan' would name two files/);
  });

  it('computes a path named three times once, and says so', async () => {
    const result = await db.query(`OCCLUDE ('${XRAY_A}', '${XRAY_A}', '${XRAY_A}') USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO repeated`);
    expect(result.rows).toHaveLength(1);
    expect(result.message).toMatch(/names a file more than once, each computed and stored once: .* \(3 times\)/);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM repeated')).rows[0].n).toBe(1);
  });

  it('overlay names stay inside the folder and never meet', () => {
    const names = overlayFileNames([
      { path: '/a.png', frame: 1, imageId: '../../etc/passwd' },
      { path: '/b.png', frame: 1, imageId: 'p1/scan' },
      { path: '/c.png', frame: 1, imageId: 'p1_scan' },
      { path: '/d.png', frame: 1, imageId: '.hidden' },
    ]);
    const files = [...names.values()];
    expect(files.every((f) => !f.includes('/') && !f.startsWith('.'))).toBe(true);
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(4);
    expect(names.get(imageKey({ path: '/a.png' }))).toBe('___.._etc_passwd.png');
    expect(names.get(imageKey({ path: '/b.png' }))).toMatch(/^p1_scan-[0-9a-f]{8}\.png$/);
  });
});

describe('a rerun recomputes what changed', () => {
  const statement = (image: string, table: string, model = 'cxr') => `OCCLUDE '${image}' USING MODEL ${model} WITH PATCH 112 STRIDE 112 INTO ${table}`;

  it('an image overwritten at the same path is computed again and its row replaced', async () => {
    const image = join(dir, 'changing.png');
    copyFileSync(XRAY_A, image);
    const first = await db.query(statement(image, 'changing'));
    expect(first.rows[0].status).toBe('done');
    expect((await db.query(statement(image, 'changing'))).rows[0].status).toBe('already done');
    copyFileSync(XRAY_B, image);
    const again = await db.query(statement(image, 'changing'));
    expect(again.rows[0]).toMatchObject({ status: 'done', replaced: 'the image file changed since it was stored' });
    expect(again.message).toMatch(/1 recomputed because its stored row was computed from other file contents/);
    const fresh = await db.query(statement(XRAY_B, 'reference'));
    const { rows } = await db.query(`SELECT c.heatmap = r.heatmap AS same, c.image_sha256 = r.image_sha256 AS same_hash FROM changing c, reference r`);
    expect(rows).toEqual([{ same: true, same_hash: true }]);
    expect(fresh.rows[0].base_probability).toBe(again.rows[0].base_probability);
  });

  it('a model file overwritten at the same path is loaded anew and the heatmaps recomputed', async () => {
    const modelFile = join(dir, 'replaced.onnx');
    writeFileSync(modelFile, buildZooModel('squeezenet', { input: 64, classes: 3, seed: 1 }));
    await db.query(`CREATE MODEL replaced FROM '${modelFile}'`);
    const before = await db.query(statement(XRAY_A, 'by_model', 'replaced').replace('112 STRIDE 112', '32 STRIDE 32'));
    writeFileSync(modelFile, buildZooModel('squeezenet', { input: 64, classes: 3, seed: 2 }));
    const after = await db.query(statement(XRAY_A, 'by_model', 'replaced').replace('112 STRIDE 112', '32 STRIDE 32'));
    expect(after.rows[0]).toMatchObject({ status: 'done', replaced: 'the model file changed since it was stored' });
    expect(after.rows[0].base_probability).not.toBe(before.rows[0].base_probability);
    const { rows } = await db.query('SELECT count(*)::INTEGER AS n, count(DISTINCT model_sha256)::INTEGER AS hashes FROM by_model');
    expect(rows).toEqual([{ n: 1, hashes: 1 }]);
  });
});

describe('overlays', () => {
  it('a broken overlay left in the folder is drawn again by a rerun', async () => {
    const overlays = join(dir, 'redraw');
    const query = `OCCLUDE '${XRAY_A}' USING MODEL cxr WITH PATCH 112 STRIDE 112 RENDER TO '${overlays}' INTO redraw`;
    const first = await db.query(query);
    const file = String(first.rows[0].overlay);
    const whole = await sharp(file).raw().toBuffer();
    writeFileSync(file, (await import('node:fs')).readFileSync(file).subarray(0, 200));
    const again = await db.query(query);
    expect(again.rows[0]).toMatchObject({ status: 'already done', overlay: file });
    expect((await sharp(file).raw().toBuffer()).equals(whole)).toBe(true);
    expect(readdirSync(overlays).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
