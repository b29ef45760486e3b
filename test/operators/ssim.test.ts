import { ssim } from '../../src/operators/ssim.js';

/**
 * Two smooth, deterministic heatmaps, row-major (the reference values below were computed from the
 * same formula in numpy, as arrays of shape (height, width)).
 */
function testMaps(width: number, height: number): { exact: Float64Array; approximate: Float64Array } {
  const exact = new Float64Array(width * height);
  const approximate = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = 0.5 + 0.4 * Math.sin(0.3 * x + 0.2 * y) * Math.cos(0.15 * x - 0.25 * y);
      exact[y * width + x] = value;
      approximate[y * width + x] = value + 0.05 * Math.sin(1.7 * x + 0.9 * y) - 0.02;
    }
  }
  return { exact, approximate };
}

/*
 * Reference values from scikit-image 0.19.3 (Debian's python3-skimage; not a dependency, only
 * used once to get these numbers):
 *
 *   structural_similarity(exact, approx, gaussian_weights=True, sigma=1.5,
 *                         use_sample_covariance=False, data_range=exact.max() - exact.min())
 *
 * skimage always filters with an 11-tap Gaussian when gaussian_weights is set (win_size only sets
 * the border it crops), so for the 8×7 case its `gaussian` was wrapped to pass truncate = 3 / 1.5
 * (a 7-tap window) together with win_size=7. The 30×8 case (window 11 wide, 7 high) has no skimage
 * equivalent: its value comes from the formula written out in numpy (which also reproduces the
 * two skimage values to 1e-15).
 */
const SKIMAGE_30x24 = 0.9559711382304236;
const SKIMAGE_8x7_WIN7 = 0.906853122911375;
const NUMPY_30x8_WIN11x7 = 0.9537994238373522;
const NUMPY_5x3_WIN5x3 = 0.9374387449075579;

describe('ssim', () => {
  test('identical heatmaps give exactly 1', () => {
    const { exact } = testMaps(30, 24);
    expect(ssim(exact, exact, 30, 24)).toBe(1);
    expect(ssim(exact, Array.from(exact), 30, 24)).toBe(1);
    expect(ssim(new Float32Array(exact), new Float32Array(exact), 30, 24)).toBe(1);
  });

  test('flat identical heatmaps give exactly 1, with no NaN', () => {
    expect(ssim(new Float64Array(56 * 56).fill(0.7), new Float64Array(56 * 56).fill(0.7), 56, 56)).toBe(1);
    expect(ssim(new Float64Array(20), new Float64Array(20), 5, 4)).toBe(1);
    const differentFlat = ssim(new Float64Array(20).fill(0.7), new Float64Array(20).fill(0.2), 5, 4);
    expect(Number.isFinite(differentFlat)).toBe(true);
    expect(differentFlat).toBeLessThan(1);
  });

  test('agrees with skimage on a 30×24 pair', () => {
    const { exact, approximate } = testMaps(30, 24);
    expect(ssim(exact, approximate, 30, 24)).toBeCloseTo(SKIMAGE_30x24, 6);
  });

  test('a shrunk window (8×7 → 7×7) agrees with skimage', () => {
    const { exact, approximate } = testMaps(8, 7);
    expect(ssim(exact, approximate, 8, 7)).toBeCloseTo(SKIMAGE_8x7_WIN7, 6);
  });

  test('windows shrink per axis (30×8 → 11×7, 5×3 → 5×3)', () => {
    const wide = testMaps(30, 8);
    expect(ssim(wide.exact, wide.approximate, 30, 8)).toBeCloseTo(NUMPY_30x8_WIN11x7, 6);
    const small = testMaps(5, 3);
    expect(ssim(small.exact, small.approximate, 5, 3)).toBeCloseTo(NUMPY_5x3_WIN5x3, 6);
  });

  test('a 1×1 heatmap compares the two values alone', () => {
    expect(ssim([0.4], [0.4], 1, 1)).toBe(1);
    const value = ssim([0.4], [0.3], 1, 1);
    expect(value).toBeGreaterThan(0.9);
    expect(value).toBeLessThan(1);
    expect(ssim([0.4, 0.5], [0.4, 0.5], 2, 1)).toBe(1);
  });

  test('a constant shift costs only luminance, more as it grows', () => {
    const { exact } = testMaps(30, 24);
    const shifted = (by: number) => exact.map((v) => v + by);
    const small = ssim(exact, shifted(0.01), 30, 24);
    const large = ssim(exact, shifted(0.2), 30, 24);
    expect(small).toBeLessThan(1);
    expect(small).toBeGreaterThan(0.99);
    expect(large).toBeLessThan(small);
    expect(large).toBeGreaterThan(0.5);
  });

  test('a scaled copy keeps its structure but loses contrast and luminance', () => {
    const { exact } = testMaps(30, 24);
    const halved = ssim(exact, exact.map((v) => v * 0.5), 30, 24);
    const nearlySame = ssim(exact, exact.map((v) => v * 0.99), 30, 24);
    expect(nearlySame).toBeGreaterThan(0.999);
    expect(halved).toBeLessThan(nearlySame);
    // Contrast × structure of a copy scaled by ½ is 2·½ / (1 + ¼) = 0.8 (C2 aside), luminance ≤ 1 on top.
    expect(halved).toBeLessThan(0.8);
    expect(halved).toBeGreaterThan(0.5);
  });

  test('an inverted map scores far below a noisy one', () => {
    const { exact, approximate } = testMaps(30, 24);
    const inverted = exact.map((v) => 1 - v);
    expect(ssim(exact, inverted, 30, 24)).toBeLessThan(0);
    expect(ssim(exact, approximate, 30, 24)).toBeGreaterThan(0.9);
  });

  test('symmetric when the two maps have the same range', () => {
    const { exact } = testMaps(30, 24);
    const shifted = exact.map((v) => v - 0.03);
    expect(ssim(exact, shifted, 30, 24)).toBeCloseTo(ssim(shifted, exact, 30, 24), 12);
    // With different ranges the roles matter: L is the exact (first) map's range.
    const halved = exact.map((v) => v * 0.5);
    expect(Math.abs(ssim(exact, halved, 30, 24) - ssim(halved, exact, 30, 24))).toBeGreaterThan(1e-3);
  });

  test('transposing both maps leaves SSIM unchanged', () => {
    const { exact, approximate } = testMaps(30, 24);
    const transpose = (values: Float64Array) => {
      const out = new Float64Array(values.length);
      for (let y = 0; y < 24; y++) for (let x = 0; x < 30; x++) out[x * 24 + y] = values[y * 30 + x];
      return out;
    };
    expect(ssim(transpose(exact), transpose(approximate), 24, 30)).toBeCloseTo(ssim(exact, approximate, 30, 24), 12);
  });

  test('does not change its inputs', () => {
    const { exact, approximate } = testMaps(12, 12);
    const before = [Array.from(exact), Array.from(approximate)];
    ssim(exact, approximate, 12, 12);
    expect([Array.from(exact), Array.from(approximate)]).toEqual(before);
  });

  test('refuses bad sizes, mismatched lengths and non-finite values', () => {
    const four = [0.1, 0.2, 0.3, 0.4];
    expect(() => ssim(four, four, 2, 3)).toThrow('ssim: exact heatmap has 4 values, expected 2×3 = 6');
    expect(() => ssim(four, [0.1, 0.2, 0.3], 2, 2)).toThrow('ssim: approximate heatmap has 3 values, expected 2×2 = 4');
    expect(() => ssim(four, four, 0, 4)).toThrow('ssim: width must be a positive integer, got 0');
    expect(() => ssim(four, four, 4, 1.5)).toThrow('ssim: height must be a positive integer, got 1.5');
    expect(() => ssim(four, four, -2, -2)).toThrow('positive integer');
    expect(() => ssim(four, four, Number.NaN, 4)).toThrow('positive integer');
    expect(() => ssim([0.1, Number.NaN, 0.3, 0.4], four, 2, 2)).toThrow('ssim: exact heatmap has NaN at index 1');
    expect(() => ssim(four, [0.1, 0.2, Infinity, 0.4], 2, 2)).toThrow('ssim: approximate heatmap has Infinity at index 2');
    expect(() => ssim(four, four, 2, 2)).not.toThrow();
  });

  test('300 calls on 56×56 heatmaps take well under a second', () => {
    const { exact, approximate } = testMaps(56, 56);
    ssim(exact, approximate, 56, 56);
    const start = performance.now();
    for (let i = 0; i < 300; i++) ssim(exact, approximate, 56, 56);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
