import { join } from 'node:path';
import { KryptonError } from '../../src/errors.js';
import { RESULTS_COLUMNS, imageKey, openStore, quoteString } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { makeRecord, useTempDir } from './fixtures.js';

const dir = useTempDir();

let store: Store;
beforeEach(async () => {
  store = await openStore(':memory:');
});
afterEach(() => store.close());

async function storeError(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KryptonError);
  expect((error as KryptonError).code).toBe('store');
  return (error as KryptonError).message;
}

describe('results tables', () => {
  test('are created with exactly the documented schema', async () => {
    await store.ensureResultsTable();
    const { rows } = await store.query('DESCRIBE heatmaps');
    expect(rows.map((r) => [r.column_name, r.column_type, r.null])).toEqual(
      RESULTS_COLUMNS.map((c) => [c.name, c.type, c.nullable ? 'YES' : 'NO']),
    );
    expect(RESULTS_COLUMNS.slice(0, 21).map((c) => `${c.name} ${c.type}`)).toEqual([
      'query_id VARCHAR',
      'image_path VARCHAR',
      'image_id VARCHAR',
      'model VARCHAR',
      'class_index INTEGER',
      'class_label VARCHAR',
      'base_probability DOUBLE',
      'patch_h INTEGER',
      'patch_w INTEGER',
      'stride_y INTEGER',
      'stride_x INTEGER',
      'strategy VARCHAR',
      'height INTEGER',
      'width INTEGER',
      'heatmap FLOAT[]',
      'min_probability DOUBLE',
      'max_drop DOUBLE',
      'max_drop_x INTEGER',
      'max_drop_y INTEGER',
      'elapsed_ms DOUBLE',
      'created_at TIMESTAMP',
    ]);
  });

  test('an existing table of another shape is a clear error', async () => {
    await store.query('CREATE TABLE heatmaps (query_id VARCHAR, image_path VARCHAR, score DOUBLE)');
    expect(await storeError(store.ensureResultsTable('heatmaps'))).toBe(
      'table "heatmaps" exists but is not a Krypton results table (column 3 is score DOUBLE, expected image_id VARCHAR); choose another INTO name',
    );
    await store.query('CREATE TABLE scans AS SELECT * FROM (SELECT 1) WHERE false');
    expect(await storeError(store.insertHeatmaps('scans', [makeRecord({ imagePath: 'a.png' })]))).toMatch(
      /^table "scans" exists but is not a Krypton results table \(column 1 is 1 INTEGER, expected query_id VARCHAR\)/,
    );
  });

  test('a table with a missing trailing column is told apart', async () => {
    await store.ensureResultsTable('short');
    await store.query('ALTER TABLE short DROP COLUMN ssim');
    expect(await storeError(store.ensureResultsTable('short'))).toMatch(/\(column 24 is tau DOUBLE, expected ssim DOUBLE\)/);
  });

  test('a table from before the approximation and file-hash columns gets them, NULL in its old rows', async () => {
    await store.insertHeatmaps('older', [makeRecord({ imagePath: 'old.png' })]);
    for (const column of ['frame', 'model_sha256', 'image_sha256', 'drill_fraction', 'coarse_stride_y', 'coarse_stride_x', 'tau']) await store.query(`ALTER TABLE older DROP COLUMN ${column}`);
    await store.ensureResultsTable('older');
    expect(await store.insertHeatmaps('older', [makeRecord({ imagePath: 'new.png', tau: 0.5, coarseStrideX: 8, coarseStrideY: 12, drillFraction: 0.25 })])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
    const { rows } = await store.query('SELECT image_path, tau, coarse_stride_x, coarse_stride_y, drill_fraction, image_sha256 FROM older ORDER BY image_path');
    expect(rows).toEqual([
      { image_path: 'new.png', tau: 0.5, coarse_stride_x: 8, coarse_stride_y: 12, drill_fraction: 0.25, image_sha256: null },
      { image_path: 'old.png', tau: null, coarse_stride_x: null, coarse_stride_y: null, drill_fraction: null, image_sha256: null },
    ]);
  });

  test('a table from before frames gets the frame column, 1 in its old rows, and its rows are told apart by frame', async () => {
    const hashes = { imageSha256: 'a'.repeat(64), modelSha256: 'm'.repeat(64) };
    await store.insertHeatmaps('unframed', [makeRecord({ imagePath: 'series.dcm', ...hashes })]);
    await store.query('ALTER TABLE unframed DROP COLUMN frame');
    await store.ensureResultsTable('unframed');
    expect((await store.query('SELECT frame FROM unframed')).rows).toEqual([{ frame: 1 }]);
    // Frame 1 is the row already there; frame 2 of the same file is another image.
    expect(await store.insertHeatmaps('unframed', [makeRecord({ imagePath: 'series.dcm', frame: 1, ...hashes })])).toEqual({ inserted: 0, skipped: 1, replaced: 0 });
    expect(await store.insertHeatmaps('unframed', [makeRecord({ imagePath: 'series.dcm', frame: 2, baseProbability: 0.3, ...hashes })])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
    const stored = await store.storedInputs('unframed', 'q1');
    expect([...stored.keys()].sort()).toEqual([imageKey({ path: 'series.dcm', frame: 1 }), imageKey({ path: 'series.dcm', frame: 2 })]);
    // A changed file replaces only the frame whose row is written.
    const changed = { imageSha256: 'b'.repeat(64), modelSha256: 'm'.repeat(64) };
    expect(await store.insertHeatmaps('unframed', [makeRecord({ imagePath: 'series.dcm', frame: 2, baseProbability: 0.2, ...changed })])).toEqual({ inserted: 1, skipped: 0, replaced: 1 });
    const { rows } = await store.query('SELECT frame, base_probability, image_sha256 FROM unframed ORDER BY frame');
    expect(rows).toEqual([
      { frame: 1, base_probability: 0.97, image_sha256: 'a'.repeat(64) },
      { frame: 2, base_probability: 0.2, image_sha256: 'b'.repeat(64) },
    ]);
  });

  test('a record with file hashes replaces its stored row when they differ, in one transaction, and is skipped when they agree', async () => {
    const hashes = (image: string, model: string) => ({ imageSha256: image.repeat(64), modelSha256: model.repeat(64) });
    const first = makeRecord({ imagePath: 'a.png', baseProbability: 0.9, ...hashes('a', 'm') });
    expect(await store.insertHeatmaps('hashed', [first])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
    expect(await store.insertHeatmaps('hashed', [first])).toEqual({ inserted: 0, skipped: 1, replaced: 0 });
    expect(await store.storedInputs('hashed', 'q1')).toEqual(new Map([[imageKey({ path: 'a.png' }), hashes('a', 'm')]]));
    const newImage = makeRecord({ imagePath: 'a.png', baseProbability: 0.5, ...hashes('b', 'm') });
    expect(await store.insertHeatmaps('hashed', [newImage])).toEqual({ inserted: 1, skipped: 0, replaced: 1 });
    const newModel = makeRecord({ imagePath: 'a.png', baseProbability: 0.4, ...hashes('b', 'n') });
    expect(await store.insertHeatmaps('hashed', [newModel])).toEqual({ inserted: 1, skipped: 0, replaced: 1 });
    const { rows } = await store.query('SELECT base_probability, image_sha256 FROM hashed');
    expect(rows).toEqual([{ base_probability: 0.4, image_sha256: 'b'.repeat(64) }]);
    // A row that records no hashes (written before they existed) is replaced by one that does.
    await store.insertHeatmaps('hashed', [makeRecord({ imagePath: 'old.png' })]);
    expect((await store.storedInputs('hashed', 'q1')).get(imageKey({ path: 'old.png' }))).toEqual({ imageSha256: null, modelSha256: null });
    expect(await store.insertHeatmaps('hashed', [makeRecord({ imagePath: 'old.png', ...hashes('c', 'n') })])).toEqual({ inserted: 1, skipped: 0, replaced: 1 });
    expect((await store.query("SELECT count(*)::INTEGER AS n FROM hashed WHERE image_path = 'old.png'")).rows[0].n).toBe(1);
  });

  test('quoted and schema-qualified names work for every operation', async () => {
    for (const name of ['"My Heatmaps"', 'analytics.maps', 'analytics."Odd.Name x"', 'ANALYTICS.Maps2']) {
      const record = makeRecord({ imagePath: `scans/${name}.png` });
      expect(await store.insertHeatmaps(name, [record])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
      expect(await store.completedImages(name, 'q1')).toEqual(new Set([record.imagePath]));
      const { rows } = await store.query(`SELECT count(*) AS n FROM heatmap_cells(${quoteString(name)})`);
      expect(rows).toEqual([{ n: 12 }]);
    }
    expect((await store.query(`SELECT count(*) AS n FROM analytics."Odd.Name x"`)).rows).toEqual([{ n: 1 }]);
  });

  test('a name with a double quote in it works except in heatmap_cells, whose query_table cannot parse it', async () => {
    const name = '"Odd ""Name"""';
    expect(await store.insertHeatmaps(name, [makeRecord({ imagePath: 'a.png' })])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
    expect(await store.completedImages(name, 'q1')).toEqual(new Set(['a.png']));
    expect((await store.query(`SELECT count(*) AS n FROM ${name}`)).rows).toEqual([{ n: 1 }]);
  });

  test('an invalid name is an argument error', async () => {
    for (const name of ['', 'a b', '1abc', 'a.', '"unclosed', 'a.b.c.d', '""']) {
      const error: unknown = await store.ensureResultsTable(name).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KryptonError);
      expect((error as KryptonError).code).toBe('argument');
      expect((error as KryptonError).message).toContain('is not a valid table name');
    }
  });

  test('summary columns come from the heatmap: lowest value, its drop and its patch position', async () => {
    const heatmap = new Float32Array([0.9, 0.8, 0.7, 0.6, 0.2, 0.5, 0.2, 0.9, 0.9]);
    await store.insertHeatmaps('heatmaps', [
      makeRecord({ imagePath: 'a.png', width: 3, height: 3, heatmap, baseProbability: 0.95, strideX: 8, strideY: 4, originX: 2, originY: 1 }),
    ]);
    const { rows } = await store.query('SELECT min_probability, max_drop, max_drop_x, max_drop_y, ssim, origin_x FROM heatmaps');
    // The first of the two lowest cells in row-major order: cell (1, 1).
    expect(rows[0]).toEqual({
      min_probability: Math.fround(0.2),
      max_drop: 0.95 - Math.fround(0.2),
      max_drop_x: 2 + 1 * 8,
      max_drop_y: 1 + 1 * 4,
      ssim: null,
      origin_x: 2,
    });
  });

  test('a heatmap whose length does not match its size is refused', async () => {
    await expect(
      store.insertHeatmaps('heatmaps', [makeRecord({ imagePath: 'a.png', width: 3, height: 3, heatmap: [1, 2] })]),
    ).rejects.toThrow('heatmap of a.png has 2 values, expected 3×3');
  });
});

describe('reruns', () => {
  test('images already stored for the query are skipped whole, other queries are not affected', async () => {
    const batch = (image: string, queryId = 'q1') =>
      [0, 1].map((classIndex) => makeRecord({ queryId, imagePath: image, classIndex }));
    expect(await store.insertHeatmaps('heatmaps', batch('a.png'))).toEqual({ inserted: 2, skipped: 0, replaced: 0 });
    expect(await store.insertHeatmaps('heatmaps', batch('b.png'))).toEqual({ inserted: 2, skipped: 0, replaced: 0 });
    expect(await store.completedImages('heatmaps', 'q1')).toEqual(new Set(['a.png', 'b.png']));
    expect(await store.completedImages('heatmaps', 'q2')).toEqual(new Set());

    // A rerun that sends a finished image again adds nothing for it.
    expect(await store.insertHeatmaps('heatmaps', [...batch('a.png'), ...batch('c.png')])).toEqual({ inserted: 2, skipped: 2, replaced: 0 });
    expect(await store.insertHeatmaps('heatmaps', batch('a.png', 'q2'))).toEqual({ inserted: 2, skipped: 0, replaced: 0 });
    const { rows } = await store.query(
      'SELECT query_id, image_path, count(*) AS n FROM heatmaps GROUP BY ALL ORDER BY ALL',
    );
    expect(rows).toEqual([
      { query_id: 'q1', image_path: 'a.png', n: 2 },
      { query_id: 'q1', image_path: 'b.png', n: 2 },
      { query_id: 'q1', image_path: 'c.png', n: 2 },
      { query_id: 'q2', image_path: 'a.png', n: 2 },
    ]);
  });

  test('the same image and class twice in one batch is refused and writes nothing', async () => {
    const record = makeRecord({ imagePath: 'a.png' });
    await expect(store.insertHeatmaps('heatmaps', [record, record])).rejects.toThrow(/appears twice in one batch/);
    expect(await store.completedImages('heatmaps', 'q1')).toEqual(new Set());
  });

  test('a batch with one bad record writes none of it', async () => {
    const good = makeRecord({ imagePath: 'a.png', classIndex: 0 });
    const bad = makeRecord({ imagePath: 'a.png', classIndex: 1, width: 2, height: 2, heatmap: [1, 2, 3] });
    await expect(store.insertHeatmaps('heatmaps', [good, bad])).rejects.toThrow(/has 3 values, expected 2×2/);
    expect(await store.completedImages('heatmaps', 'q1')).toEqual(new Set());
    // The connection is usable afterwards, with no transaction left open.
    expect(await store.insertHeatmaps('heatmaps', [good])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
  });

  test('completed images survive reopening the file', async () => {
    const path = join(dir(), 'rerun.duckdb');
    const first = await openStore(path);
    await first.insertHeatmaps('heatmaps', [makeRecord({ imagePath: 'a.png' })]);
    await first.close();
    const second = await openStore(path);
    expect(await second.completedImages('heatmaps', 'q1')).toEqual(new Set(['a.png']));
    expect(await second.insertHeatmaps('heatmaps', [makeRecord({ imagePath: 'a.png' })])).toEqual({ inserted: 0, skipped: 1, replaced: 0 });
    await second.close();
  });

  test('a table dropped by a user statement is recreated on the next insert', async () => {
    await store.insertHeatmaps('heatmaps', [makeRecord({ imagePath: 'a.png' })]);
    await store.query('DROP TABLE heatmaps');
    expect(await store.insertHeatmaps('heatmaps', [makeRecord({ imagePath: 'a.png' })])).toEqual({ inserted: 1, skipped: 0, replaced: 0 });
  });
});

describe('heatmap_cells', () => {
  test('unnests a heatmap into one row per cell with cell and pixel positions', async () => {
    const heatmap = Float32Array.from({ length: 6 }, (_, i) => i / 10);
    await store.insertHeatmaps('heatmaps', [
      makeRecord({ imagePath: 'scans/p1.png', width: 3, height: 2, heatmap, strideX: 5, strideY: 7, originX: 1, originY: 2 }),
      makeRecord({ imagePath: 'scans/p2.png', width: 2, height: 1, heatmap: [0.5, 0.25] }),
    ]);
    const { rows, columns } = await store.query(
      `SELECT * FROM heatmap_cells('heatmaps') ORDER BY image_id, y, x`,
    );
    expect(columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'query_id VARCHAR',
      'image_id VARCHAR',
      'image_path VARCHAR',
      'model VARCHAR',
      'class_index INTEGER',
      'x INTEGER',
      'y INTEGER',
      'pixel_x INTEGER',
      'pixel_y INTEGER',
      'value FLOAT',
    ]);
    expect(rows.map((r) => [r.image_id, r.x, r.y, r.pixel_x, r.pixel_y, r.value])).toEqual([
      ['p1', 0, 0, 1, 2, Math.fround(0)],
      ['p1', 1, 0, 6, 2, Math.fround(0.1)],
      ['p1', 2, 0, 11, 2, Math.fround(0.2)],
      ['p1', 0, 1, 1, 9, Math.fround(0.3)],
      ['p1', 1, 1, 6, 9, Math.fround(0.4)],
      ['p1', 2, 1, 11, 9, Math.fround(0.5)],
      ['p2', 0, 0, 0, 0, 0.5],
      ['p2', 1, 0, 4, 0, 0.25],
    ]);
  });

  test('joins with metadata in plain SQL', async () => {
    await store.insertHeatmaps('heatmaps', [
      makeRecord({ imagePath: 'scans/p1.png', width: 2, height: 1, heatmap: [0.9, 0.1], baseProbability: 1 }),
      makeRecord({ imagePath: 'scans/p2.png', width: 2, height: 1, heatmap: [0.7, 0.8], baseProbability: 1 }),
    ]);
    const { rows } = await store.query(
      `SELECT p.sex, round(avg(h.max_drop), 4) AS drop
       FROM heatmaps h JOIN (VALUES ('p1', 'F'), ('p2', 'M')) p(image_id, sex) ON h.image_id = p.image_id
       GROUP BY ALL ORDER BY p.sex`,
    );
    expect(rows).toEqual([
      { sex: 'F', drop: 0.9 },
      { sex: 'M', drop: 0.3 },
    ]);
  });
});

describe('Parquet export', () => {
  test('COPY … TO parquet round-trips a heatmap exactly', async () => {
    const record = makeRecord({ imagePath: 'scans/p1.png', width: 56, height: 56 });
    await store.insertHeatmaps('heatmaps', [record]);
    const file = join(dir(), 'heatmaps.parquet');
    await store.query(`COPY (SELECT * FROM heatmaps) TO ${quoteString(file)} (FORMAT parquet)`);
    const { rows, columns } = await store.query(`SELECT * FROM read_parquet(${quoteString(file)})`);
    expect(columns.map((c) => `${c.name} ${c.type}`)).toEqual(RESULTS_COLUMNS.map((c) => `${c.name} ${c.type}`));
    expect(rows).toHaveLength(1);
    expect(Float32Array.from(rows[0].heatmap as number[])).toEqual(record.heatmap);
    expect(rows[0].image_id).toBe('p1');
  });
});
