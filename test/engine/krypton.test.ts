import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageFailures, open, SyntaxErrors, type Krypton } from '../../src/krypton';
import { KryptonError } from '../../src/errors';
import { openStore } from '../../src/store';
import { machineThroughput } from '../../src/planner/throughput';
import { DATA } from '../support/heatmaps';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const XRAYS = join(DATA, 'images/chest-xray-hannover');
const CREATE_CXR = `CREATE MODEL cxr FROM '${join(DATA, 'models/cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`;

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-engine-'));
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(CREATE_CXR);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<KryptonError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KryptonError);
    return error as KryptonError;
  }
  throw new Error('expected a KryptonError');
}

describe('OCCLUDE into DuckDB, then plain SQL over the results', () => {
  it('chooses images by metadata, stores one row per image, renders overlays and joins with the metadata', async () => {
    const results = await db.execute(`
      OCCLUDE (SELECT '${XRAYS}/png/' || image_id || '.png' AS path, image_id
               FROM read_csv('${XRAYS}/metadata.csv') WHERE image_id IN ('0578e08b', '00870a9c', '073a8f93'))
        USING MODEL cxr WITH PATCH 56 STRIDE 42 RENDER TO '${dir}/overlays' INTO xray_maps;
      SELECT m.projection, count(*)::INTEGER AS images, min(h.width)::INTEGER AS w, min(h.height)::INTEGER AS h
        FROM xray_maps h JOIN read_csv('${XRAYS}/metadata.csv') m USING (image_id) GROUP BY ALL ORDER BY 1;
    `);
    const [occlusion, joined] = results;
    expect(occlusion.message).toMatch(/^occluded 3 images into xray_maps \((incremental|naive)\) in [\d.]+ s$/);
    expect(occlusion.rows.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(occlusion.rows.every((r) => r.class_label === 'ap' || r.class_label === 'pa')).toBe(true);
    expect(joined.rows.reduce((n, r) => n + (r.images as number), 0)).toBe(3);
    expect(joined.rows[0]).toMatchObject({ w: 5, h: 5 });
    expect(readdirSync(join(dir, 'overlays')).sort()).toEqual(['00870a9c.png', '0578e08b.png', '073a8f93.png']);
    // The heatmap column is FLOAT[] and unnests through the cells macro.
    const cells = await db.query(`SELECT count(*)::INTEGER AS n FROM heatmap_cells('xray_maps') WHERE image_id = '0578e08b'`);
    expect(cells.rows[0].n).toBe(25);
    expect(joined.arrow.numRows).toBe(joined.rows.length);
  });

  it('does only the missing images when the same statement runs again', async () => {
    const statement = `OCCLUDE ('${XRAYS}/png/0578e08b.png', '${XRAYS}/png/09258248.png') USING MODEL cxr WITH PATCH 56 STRIDE 42 INTO xray_maps`;
    const again = await db.query(statement);
    // 0578e08b was done under another query id (a different source does not matter: same parameters, same id).
    expect(again.rows.map((r) => [r.image_id, r.status])).toEqual([['0578e08b', 'already done'], ['09258248', 'done']]);
    const third = await db.query(statement);
    expect(third.message).toMatch(/^occluded 0 images into xray_maps .* 2 already done$/);
    // A RENDER TO added on a rerun draws the stored heatmaps; nothing is computed again.
    const rendered = await db.query(`${statement.replace(' INTO ', ` RENDER TO '${dir}/later' INTO `)}`);
    expect(rendered.rows.map((r) => r.status)).toEqual(['already done', 'already done']);
    expect(readdirSync(join(dir, 'later')).sort()).toEqual(['0578e08b.png', '09258248.png']);
    const counts = await db.query(`SELECT image_id, count(*)::INTEGER AS n FROM xray_maps GROUP BY ALL HAVING n > 1`);
    expect(counts.rows).toEqual([]);
  });

  it('completes the others around an unreadable image, then fails loudly with every failure in the result', async () => {
    const broken = join(dir, 'broken.png');
    writeFileSync(broken, 'not an image at all');
    const good = join(dir, 'copy-of-0957ce54.png');
    copyFileSync(join(XRAYS, 'png/0957ce54.png'), good);
    const statement = `OCCLUDE ('${XRAYS}/png/0ac7580d.png', '${broken}', '${good}') USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO partial`;
    const error = await db.query(statement).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFailures);
    const failure = error as ImageFailures;
    expect(failure.message).toMatch(/^1 of 3 images failed: broken: .*broken\.png/);
    expect(failure.result.rows.map((r) => r.status)).toEqual(['done', 'failed', 'done']);
    expect(failure.result.failures).toEqual([{ imageId: 'broken', imagePath: broken, error: expect.stringMatching(/broken\.png/) }]);
    expect(failure.result.message).toMatch(/1 failed: broken \(/);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM partial')).rows[0].n).toBe(2);
    // Asked to keep going, the same statement resolves, and its result still carries the failure.
    const kept = await db.query(statement, { keepGoing: true });
    expect(kept.rows.map((r) => r.status)).toEqual(['already done', 'failed', 'already done']);
    expect(kept.failures?.map((f) => f.imageId)).toEqual(['broken']);
  });

  it('uses the predicted class by default, and a class named by label on request', async () => {
    const image = `'${XRAYS}/png/00870a9c.png'`;
    const predicted = await db.query(`OCCLUDE ${image} USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO by_class`);
    const other = predicted.rows[0].class_label === 'ap' ? 'pa' : 'ap';
    const named = await db.query(`OCCLUDE ${image} USING MODEL cxr FOR CLASS '${other}' WITH PATCH 112 STRIDE 112 INTO by_class`);
    expect(named.rows[0].class_label).toBe(other);
    expect((named.rows[0].base_probability as number) + (predicted.rows[0].base_probability as number)).toBeCloseTo(1, 5);
  });
});

describe('bad input: one clear error, nothing changed', () => {
  it.each([
    ['a syntax error', `OCCLUDE 'x.png' USING MODEL cxr WITH PATCH 16 STRIDES 4`, /line 1, column 47: expected/],
    ['an unknown model', `OCCLUDE '${XRAYS}/png/0578e08b.png' USING MODEL nope WITH PATCH 16 STRIDE 4`, /model 'nope'|unknown model|no model/i],
    ['an unknown table', `SELECT * FROM no_such_table`, /no_such_table/],
    ['a glob that matches nothing', `OCCLUDE '${dir}/nothing/*.png' USING MODEL cxr WITH PATCH 16 STRIDE 4`, /no images match/],
    ['a SELECT source without a path column', `OCCLUDE (SELECT 1) USING MODEL cxr WITH PATCH 16 STRIDE 4`, /first column .* must hold image paths/],
    ['a patch larger than the image', `OCCLUDE '${XRAYS}/png/0578e08b.png' USING MODEL cxr WITH PATCH 300 STRIDE 4`, /patch 300x300 is larger than the 224x224 model-input image/],
    ['a class out of range', `OCCLUDE '${XRAYS}/png/0578e08b.png' USING MODEL cxr FOR CLASS 7 WITH PATCH 16 STRIDE 4`, /class index 7 is out of range/],
    ['a missing model file', `CREATE MODEL ghost FROM '${dir}/ghost.onnx'`, /model file not found/],
  ])('%s', async (_, statement, message) => {
    const before = (await db.query('SELECT count(*)::INTEGER AS n FROM xray_maps')).rows[0].n;
    const error = await rejection(db.query(statement));
    expect(error.message).toMatch(message);
    expect(error.message.split('\n').length).toBe(1);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM xray_maps')).rows[0].n).toBe(before);
  });

  it('runs nothing from a script with a syntax error anywhere', async () => {
    const error = await rejection(db.execute(`CREATE TABLE should_not_exist AS SELECT 1; OCCLUDE 'x' USING MODEL cxr WITH PATCH 0 STRIDE 4;`));
    expect(error).toBeInstanceOf(SyntaxErrors);
    expect((error as SyntaxErrors).problems[0]).toMatch(/^line 1, column \d+: PATCH must be a positive integer/);
    expect(await db.listTables()).not.toContain('should_not_exist');
  });
});

describe('the machine calibration', () => {
  it('is measured once and then read from the database', async () => {
    const store = await openStore(':memory:');
    try {
      const first = await machineThroughput(store);
      expect(first.fullMacsPerSecond).toBeGreaterThan(1e8);
      expect(first.copyFloatsPerSecond).toBeGreaterThan(1e6);
      // A second measurement would never repeat the same figures to the last bit.
      expect(await machineThroughput(store)).toEqual(first);
    } finally {
      await store.close();
    }
  });
});

describe('the typed occlusion call', () => {
  it('runs the same occlusion as the statement, with typed options', async () => {
    const options = {
      images: [`${XRAYS}/png/1663b242.png`],
      model: 'cxr',
      patch: { width: 64, height: 48 },
      stride: { x: 40, y: 44 },
      color: 'black' as const,
      targetClass: { label: 'pa' },
      region: { x: 0, y: 10, width: 224, height: 200 },
      into: 'typed maps',
    };
    const result = await db.occlude(options);
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]).toMatchObject({ status: 'done', class_label: 'pa' });
    const stored = await db.query(`SELECT patch_w, patch_h, stride_x, stride_y, width, height, origin_y FROM "typed maps"`);
    expect(stored.rows[0]).toEqual({ patch_w: 64, patch_h: 48, stride_x: 40, stride_y: 44, width: 5, height: 4, origin_y: 10 });
    const explained = await db.explain(options);
    expect(explained.rows.some((r) => String(r.line).includes('patch=64x48 stride=40x44 color=black'))).toBe(true);
    const same = await db.query(`OCCLUDE '${XRAYS}/png/1663b242.png' USING MODEL cxr FOR CLASS 'pa' WITH PATCH 64 x 48 COLOR BLACK STRIDE 40 x 44 REGION (0, 10, 224, 200) INTO "typed maps"`);
    expect(same.rows[0].status).toBe('already done');
  });
});

describe('interrupting an occlusion', () => {
  it('stops between batches, keeps the finished images, and a rerun does the rest', async () => {
    const images = ['1f8a4a54', '2e0bdd1e', '2fdd55b8'].map((id) => `'${XRAYS}/png/${id}.png'`).join(', ');
    const statement = `OCCLUDE (${images}) USING MODEL cxr WITH PATCH 112 STRIDE 56 INTO interrupted_maps`;
    const controller = new AbortController();
    const error = await rejection(db.query(statement, {
      signal: controller.signal,
      onProgress: (p) => { if (p.imagesDone === 1) controller.abort(); },
    }));
    expect(error.message).toBe('interrupted: 1 image finished in this run is kept in interrupted_maps; run the statement again to do the rest');
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM interrupted_maps')).rows[0].n).toBe(1);
    const rerun = await db.query(statement);
    expect(rerun.rows.map((r) => r.status)).toEqual(['already done', 'done', 'done']);
    expect((await db.query('SELECT count(DISTINCT image_id)::INTEGER AS n, count(*)::INTEGER AS rows FROM interrupted_maps')).rows[0]).toEqual({ n: 3, rows: 3 });
  });
});
