import * as arrow from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendArrowTable, heatmapsToArrow, openStore } from '../../src/store/index.js';
import type { HeatmapRecord, Store } from '../../src/store/index.js';
import { heatmapValues, makeRecord } from './fixtures.js';

/** Bit patterns, so -0, NaN and the last bit of every value count. */
const bits = (values: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(values).buffer));

const SPECIAL = new Float32Array([0, -0, 1, 0.1, 1e-45, 1.17549435e-38, 3.4028235e38, -2.5, NaN, Infinity, 0.333333343267]);

let store: Store;
beforeAll(async () => {
  store = await openStore(':memory:');
});
afterAll(() => store.close());

describe('heatmaps through Arrow into DuckDB and back', () => {
  test('float32 values come back bit for bit through SQL, rows and Arrow', async () => {
    const records = [
      makeRecord({ queryId: 'exact', imagePath: 'special.png', width: SPECIAL.length, height: 1, heatmap: SPECIAL }),
      makeRecord({ queryId: 'exact', imagePath: 'random.png', width: 56, height: 56 }),
    ];
    await store.insertHeatmaps('heatmaps', records);
    const result = await store.query(`SELECT image_path, heatmap FROM heatmaps WHERE query_id = 'exact' ORDER BY image_path DESC`);
    const arrowColumn = result.arrow.getChild('heatmap');
    records.forEach((record, i) => {
      expect(bits(result.rows[i].heatmap as number[])).toEqual(bits(record.heatmap));
      expect(bits((arrowColumn?.get(i) as arrow.Vector<arrow.Float32>).toArray())).toEqual(bits(record.heatmap));
    });
    // Element access in SQL sees the same float (lists count from 1).
    const element = await store.query(`SELECT heatmap[4] AS v, heatmap[2] AS negative_zero FROM heatmaps WHERE image_path = 'special.png'`);
    expect(element.rows[0].v).toBe(Math.fround(0.1));
    expect(Object.is(element.rows[0].negative_zero, -0)).toBe(true);
  });

  test('more rows than one DuckDB chunk, with NULLs on both sides of the chunk boundary', async () => {
    const count = 2500;
    const records: HeatmapRecord[] = Array.from({ length: count }, (_, i) => {
      const width = 1 + (i % 7);
      const height = 1 + (i % 3);
      return makeRecord({
        queryId: 'many',
        imagePath: `scans/${i}-ü.png`,
        classIndex: i % 5,
        classLabel: i % 3 === 0 ? null : `label ${i} with a longer text than twelve bytes`,
        ssim: i % 4 === 0 ? null : i / count,
        width,
        height,
        heatmap: heatmapValues(width, height, i + 1),
        elapsedMs: i * 0.5,
      });
    });
    expect(await store.insertHeatmaps('heatmaps', records)).toEqual({ inserted: count, skipped: 0, replaced: 0 });
    const { rows } = await store.query(
      `SELECT image_path, class_index, class_label, ssim, width, height, heatmap, elapsed_ms
       FROM heatmaps WHERE query_id = 'many' ORDER BY elapsed_ms`,
    );
    expect(rows).toHaveLength(count);
    rows.forEach((row, i) => {
      const record = records[i];
      expect(row).toEqual({
        image_path: record.imagePath,
        class_index: record.classIndex,
        class_label: record.classLabel,
        ssim: record.ssim,
        width: record.width,
        height: record.height,
        heatmap: Array.from(record.heatmap),
        elapsed_ms: record.elapsedMs,
      });
    });
  });

  test('created_at is the record time to the microsecond DuckDB keeps', async () => {
    const createdAt = new Date('2025-06-30T23:59:58.125Z');
    await store.insertHeatmaps('heatmaps', [makeRecord({ queryId: 'time', imagePath: 't.png', createdAt })]);
    const { rows } = await store.query(`SELECT created_at, epoch_us(created_at) AS us FROM heatmaps WHERE query_id = 'time'`);
    expect(rows[0]).toEqual({ created_at: createdAt, us: createdAt.getTime() * 1000 });
  });

  test('the Arrow table built for ingestion has the documented column types', () => {
    const table = heatmapsToArrow([makeRecord({ imagePath: 'a.png' })]);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      query_id: 'Utf8',
      class_index: 'Int32',
      base_probability: 'Float64',
      heatmap: 'List<Float32>',
      created_at: 'Timestamp<MICROSECOND>',
      ssim: 'Float64',
    });
  });
});

describe('appendArrowTable', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  test('copies every supported column type, from a slice that starts mid-byte of the null bitmap', async () => {
    await connection.run(
      `CREATE TABLE mixed (flag BOOLEAN, small SMALLINT, big BIGINT, ratio DOUBLE, day DATE, ts TIMESTAMP, name VARCHAR, tags VARCHAR[], nested INTEGER[][])`,
    );
    const n = 3000;
    const nth = <T>(make: (i: number) => T) => Array.from({ length: n }, (_, i) => (i % 5 === 2 ? null : make(i)));
    const source = new arrow.Table({
      flag: arrow.vectorFromArray(nth((i) => i % 2 === 0), new arrow.Bool()),
      small: arrow.vectorFromArray(nth((i) => i - 1500), new arrow.Int16()),
      big: arrow.vectorFromArray(nth((i) => BigInt(i) * 10_000_000_000n), new arrow.Int64()),
      ratio: arrow.vectorFromArray(nth((i) => i / 7), new arrow.Float64()),
      day: arrow.vectorFromArray(nth((i) => new Date(Date.UTC(2020, 0, 1 + i))), new arrow.DateDay()),
      ts: arrow.vectorFromArray(nth((i) => Date.UTC(2024, 0, 1) + i * 1000), new arrow.TimestampMicrosecond()),
      name: arrow.vectorFromArray(nth((i) => `name-${i}`), new arrow.Utf8()),
      tags: arrow.vectorFromArray(nth((i) => [`t${i}`, `a much longer tag number ${i}`]), new arrow.List(new arrow.Field('item', new arrow.Utf8(), true))),
      nested: arrow.vectorFromArray(
        nth((i) => [[i], [i + 1, i + 2]]),
        new arrow.List(new arrow.Field('item', new arrow.List(new arrow.Field('item', new arrow.Int32(), true)), true)),
      ),
    });
    const slice = source.slice(3, 2900);
    const appender = await connection.createAppender('mixed');
    appendArrowTable(appender, slice);
    appender.closeSync();

    const reader = await connection.runAndReadAll(
      `SELECT flag, small, big::VARCHAR AS big, ratio, day::VARCHAR AS day, epoch_ms(ts) AS ts, name, tags, nested FROM mixed`,
    );
    const rows = reader.getRowObjectsJS();
    expect(rows).toHaveLength(2897);
    rows.forEach((row, k) => {
      const i = k + 3;
      if (i % 5 === 2) {
        expect(Object.values(row).every((v) => v === null)).toBe(true);
        return;
      }
      expect(row).toEqual({
        flag: i % 2 === 0,
        small: i - 1500,
        big: String(BigInt(i) * 10_000_000_000n),
        ratio: i / 7,
        day: new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10),
        ts: BigInt(Date.UTC(2024, 0, 1) + i * 1000),
        name: `name-${i}`,
        tags: [`t${i}`, `a much longer tag number ${i}`],
        nested: [[i], [i + 1, i + 2]],
      });
    });
  });

  test('refuses an Arrow column that does not fit the DuckDB column', async () => {
    await connection.run('CREATE TABLE narrow (v INTEGER)');
    const appender = await connection.createAppender('narrow');
    const wrong = new arrow.Table({ v: arrow.vectorFromArray([1.5], new arrow.Float64()) });
    expect(() => appendArrowTable(appender, wrong)).toThrow('Arrow column v (Float64) cannot be copied into DuckDB INTEGER');
    const wide = new arrow.Table({ v: arrow.vectorFromArray([1], new arrow.Int32()), w: arrow.vectorFromArray([1], new arrow.Int32()) });
    expect(() => appendArrowTable(appender, wide)).toThrow('Arrow table has 2 columns, the DuckDB table 1');
    appender.closeSync();
  });
});
