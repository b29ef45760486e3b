import * as arrow from 'apache-arrow';
import { KryptonError } from '../../src/errors.js';
import { openStore, rowsToArrow } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';

let store: Store;
beforeAll(async () => {
  store = await openStore(':memory:');
});
afterAll(() => store.close());

describe('Store.query', () => {
  test('DDL gives no rows; DML reports the rows it changed', async () => {
    const created = await store.query('CREATE TABLE patients (image_id VARCHAR, age INTEGER)');
    expect(created.rows).toEqual([]);
    expect(created.rowsChanged).toBe(0);
    const inserted = await store.query(`INSERT INTO patients VALUES ('a', 61), ('b', 7)`);
    expect(inserted.rowsChanged).toBe(2);
    const deleted = await store.query(`DELETE FROM patients WHERE age < 18`);
    expect(deleted.rowsChanged).toBe(1);
  });

  test('64-bit and wider integers are numbers when safe, bigints when not', async () => {
    const { rows, columns } = await store.query(
      `SELECT count(*) AS n, 9007199254740993::BIGINT AS big, sum(x) AS total, (2::HUGEINT ** 100)::HUGEINT AS huge
       FROM range(3) t(x)`,
    );
    expect(columns.map((c) => c.type)).toEqual(['BIGINT', 'BIGINT', 'HUGEINT', 'HUGEINT']);
    expect(rows).toEqual([{ n: 3, big: 9007199254740993n, total: 3, huge: 2n ** 100n }]);
  });

  test('timestamps are Dates, lists arrays, structs objects, decimals numbers', async () => {
    const { rows } = await store.query(
      `SELECT TIMESTAMP '2024-03-01 12:30:00.250' AS at, [1.5, 2.5]::FLOAT[] AS floats, ['a', NULL] AS texts,
              {'x': 1, 'y': 'z'} AS point, 12.345::DECIMAL(6,3) AS price, DATE '2024-03-01' AS day,
              'infinity'::TIMESTAMP AS forever, NULL::FLOAT[] AS nothing`,
    );
    expect(rows[0]).toEqual({
      at: new Date('2024-03-01T12:30:00.250Z'),
      floats: [1.5, 2.5],
      texts: ['a', null],
      point: { x: 1, y: 'z' },
      price: 12.345,
      day: new Date('2024-03-01T00:00:00Z'),
      forever: 'infinity',
      nothing: null,
    });
  });

  test('repeated column names are made unique', async () => {
    const { columns, rows } = await store.query('SELECT 1 AS a, 2 AS a');
    expect(columns.map((c) => c.name)).toEqual(['a', 'a:1']);
    expect(rows).toEqual([{ a: 1, 'a:1': 2 }]);
  });

  test('the Arrow table holds the same values with types derived from DuckDB', async () => {
    const result = await store.query(
      `SELECT * FROM (VALUES (1::INTEGER, 'x', [0.25, 0.5]::FLOAT[], 10::BIGINT, TIMESTAMP '2024-01-02 03:04:05'),
                             (2, NULL, NULL, NULL, NULL)) t(id, name, values, big, ts)`,
    );
    const table = result.arrow;
    expect(table.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'id: Int32',
      'name: Utf8',
      'values: List<Float32>',
      'big: Int64',
      'ts: Timestamp<MILLISECOND>',
    ]);
    expect(table.numRows).toBe(2);
    expect(table.getChild('name')?.toArray()).toEqual(['x', null]);
    expect(Array.from(table.getChild('values')?.get(0) as arrow.Vector)).toEqual([0.25, 0.5]);
    expect(table.getChild('values')?.get(1)).toBeNull();
    expect(table.getChild('big')?.get(0)).toBe(10n);
    expect(table.getChild('ts')?.get(0)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
  });

  test('SQL errors are one-line KryptonErrors', async () => {
    const error: unknown = await store.query('SELEC 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KryptonError);
    expect((error as KryptonError).code).toBe('store');
    expect((error as KryptonError).message).toMatch(/^Parser Error: syntax error at or near "SELEC"$/);
    await expect(store.query('SELECT * FROM no_such_table')).rejects.toThrow(/^Catalog Error: Table with name no_such_table does not exist/);
  });
});

describe('rowsToArrow', () => {
  test('infers column types from plain rows', () => {
    const table = rowsToArrow([
      { id: 'a', p: 0.5, n: 3n, ok: true, at: new Date(0), map: new Float32Array([1, 2]), tags: ['x'] },
      { id: null, p: null, n: null, ok: null, at: null, map: null, tags: null },
    ]);
    expect(table.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'id: Utf8',
      'p: Float64',
      'n: Int64',
      'ok: Bool',
      'at: Timestamp<MILLISECOND>',
      'map: List<Float32>',
      'tags: List<Utf8>',
    ]);
    expect(table.getChild('p')?.toArray()).toEqual(new Float64Array([0.5, 0]));
    expect(table.getChild('p')?.get(1)).toBeNull();
    expect(Array.from(table.getChild('map')?.get(0) as arrow.Vector)).toEqual([1, 2]);
    expect(table.getChild('tags')?.get(1)).toBeNull();
  });

  test('uses the given types when there are some', () => {
    const table = rowsToArrow([{ k: 1 }, { k: 2 }], [{ name: 'k', type: new arrow.Int16() }]);
    expect(String(table.schema.fields[0].type)).toBe('Int16');
    expect(Array.from(table.getChild('k')?.toArray() as Int16Array)).toEqual([1, 2]);
  });
});

describe('lists of numbers', () => {
  test('every element type reads back, with NULL lists and NULL elements, across chunks', async () => {
    const { rows } = await store.query(
      `SELECT i,
              CASE WHEN i % 7 = 3 THEN NULL ELSE [i % 100, NULL, -(i % 100)]::TINYINT[] END AS tiny,
              [i * 1000, -1]::INTEGER[] AS ints, [i / 4]::DOUBLE[] AS doubles, []::FLOAT[] AS empty,
              [i, 65535]::USMALLINT[] AS unsigned
       FROM range(5000) t(i) ORDER BY i`,
    );
    expect(rows).toHaveLength(5000);
    rows.forEach((row, i) => {
      expect(row).toEqual({
        i,
        tiny: i % 7 === 3 ? null : [i % 100, null, 0 - (i % 100) || 0],
        ints: [i * 1000, -1],
        doubles: [i / 4],
        empty: [],
        unsigned: [i, 65535],
      });
    });
  });
});
