import { KryptonError } from '../../src/errors.js';
import { ssim } from '../../src/operators/ssim.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { heatmapValues } from './fixtures.js';

let store: Store;
beforeAll(async () => {
  store = await openStore(':memory:');
});
afterAll(() => store.close());

/** Each value as a DOUBLE literal: DuckDB's DECIMAL → FLOAT cast would round float32 values off. */
const sqlList = (values: ArrayLike<number>) => `[${Array.from(values, (v) => `${v}::DOUBLE`).join(', ')}]::FLOAT[]`;

describe('krypton_ssim', () => {
  const width = 14;
  const height = 12;
  const exact = heatmapValues(width, height, 1);
  // A blurred-ish copy: each cell averaged with its right neighbour.
  const approximate = exact.map((v, i) => ((i + 1) % width === 0 ? v : (v + exact[i + 1]) / 2));

  beforeAll(async () => {
    await store.query('CREATE TABLE pairs (id INTEGER, a FLOAT[], b FLOAT[], w INTEGER, h INTEGER)');
    await store.query(`INSERT INTO pairs VALUES
      (1, ${sqlList(exact)}, ${sqlList(approximate)}, ${width}, ${height}),
      (2, ${sqlList(exact)}, ${sqlList(exact)}, ${width}, ${height}),
      (3, NULL, ${sqlList(exact)}, ${width}, ${height}),
      (4, ${sqlList(exact)}, ${sqlList(approximate)}, NULL, ${height}),
      (5, [0.4]::FLOAT[], [0.3]::FLOAT[], 1, 1)`);
  });

  test('equals ssim() of the same float32 values, row by row', async () => {
    const { rows, columns } = await store.query('SELECT id, krypton_ssim(a, b, w, h) AS s FROM pairs ORDER BY id');
    expect(columns[1].type).toBe('DOUBLE');
    expect(rows.map((row) => row.id)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0].s).toBe(ssim(exact, approximate, width, height));
    expect(rows[0].s).toBeLessThan(1);
    expect(rows[1].s).toBe(1);
    expect(rows[2].s).toBeNull();
    expect(rows[3].s).toBeNull();
    expect(rows[4].s).toBe(ssim(new Float32Array([0.4]), new Float32Array([0.3]), 1, 1));
  });

  test('identical lists give 1; NULL arguments give NULL', async () => {
    const { rows } = await store.query(
      `SELECT krypton_ssim([0.1, 0.5, 0.9, 0.3], [0.1, 0.5, 0.9, 0.3], 2, 2) AS same,
              krypton_ssim(NULL, [0.1], 1, 1) AS no_exact,
              krypton_ssim([0.1], [0.1], 1, NULL) AS no_height`,
    );
    expect(rows).toEqual([{ same: 1, no_exact: null, no_height: null }]);
  });

  test('DOUBLE[] lists and BIGINT sizes work too', async () => {
    const { rows } = await store.query(
      `SELECT krypton_ssim(a::DOUBLE[], b, w, len(a) // w) AS s FROM pairs WHERE id = 1`,
    );
    expect(rows[0].s).toBeCloseTo(ssim(exact, approximate, width, height), 12);
  });

  test('many rows in one query (several data chunks)', async () => {
    const { rows } = await store.query(
      `SELECT count(*) AS n, min(krypton_ssim(a, b, w, h)) AS low, max(krypton_ssim(a, a, w, h)) AS high
       FROM pairs, range(3000) WHERE id = 1`,
    );
    expect(rows[0]).toEqual({ n: 3000, low: ssim(exact, approximate, width, height), high: 1 });
  });

  test('a size that does not fit the lists is a query error naming the problem', async () => {
    const query = store.query(`SELECT krypton_ssim(a, b, w + 1, h) FROM pairs WHERE id = 1`);
    await expect(query).rejects.toThrow(KryptonError);
    await expect(store.query(`SELECT krypton_ssim(a, b, w + 1, h) FROM pairs WHERE id = 1`)).rejects.toThrow(
      `Invalid Input Error: krypton_ssim: exact heatmap has ${width * height} values, expected ${width + 1}×${height} = ${(width + 1) * height}`,
    );
    await expect(store.query(`SELECT krypton_ssim([0.1, 0.2], [0.1], 2, 1)`)).rejects.toThrow(
      'krypton_ssim: approximate heatmap has 1 values, expected 2×1 = 2',
    );
    await expect(store.query(`SELECT krypton_ssim([0.1, 0.2], [0.1, 0.2], 0, 2)`)).rejects.toThrow(
      'krypton_ssim: width must be a positive integer, got 0',
    );
    await expect(store.query(`SELECT krypton_ssim([0.1, NULL], [0.1, 0.2], 2, 1)`)).rejects.toThrow(
      'krypton_ssim: exact heatmap has NULL at index 1',
    );
    await expect(store.query(`SELECT krypton_ssim(['nan'::FLOAT, 0.2], [0.1, 0.2], 2, 1)`)).rejects.toThrow(
      'krypton_ssim: exact heatmap has NaN at index 0',
    );
    // The connection is still usable afterwards.
    const { rows } = await store.query('SELECT krypton_ssim(a, a, w, h) AS s FROM pairs WHERE id = 1');
    expect(rows).toEqual([{ s: 1 }]);
  });
});
