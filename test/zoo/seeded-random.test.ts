import { SeededRandom } from '../../src/zoo/seeded-random.js';

describe('SeededRandom', () => {
  test('the same seed gives the same stream, different seeds different ones', () => {
    const draw = (seed: number) => Array.from({ length: 20 }, ((r) => () => r.next())(new SeededRandom(seed)));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(0)).not.toEqual(draw(1));
  });

  test('next() is uniform in [0, 1)', () => {
    const random = new SeededRandom(1);
    const bins = new Array(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const value = random.next();
      if (value < 0 || value >= 1) outside++;
      else bins[Math.floor(value * 10)]++;
    }
    expect(outside).toBe(0);
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  test('int() covers both ends and nothing outside', () => {
    const random = new SeededRandom(2);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(random.int(3, 7));
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  test('normal() has mean 0 and standard deviation 1', () => {
    const random = new SeededRandom(3);
    const values = Array.from({ length: 50_000 }, () => random.normal());
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  test('fillUniform() has the asked standard deviation and continues the same stream as next()', () => {
    const filled = new SeededRandom(4).fillUniform(new Float32Array(100_000), 0.5);
    const std = Math.sqrt(filled.reduce((a, b) => a + b * b, 0) / filled.length);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.01);
    expect(Math.max(...filled)).toBeLessThanOrEqual(0.5 * Math.sqrt(3));

    const a = new SeededRandom(5);
    const b = new SeededRandom(5);
    const head = a.fillUniform(new Float32Array(3), 1);
    for (const value of head) expect(value).toBeCloseTo((2 * b.next() - 1) * Math.sqrt(3), 5);
    expect(a.next()).toBe(b.next());
  });

  test('weighted() follows the weights', () => {
    const random = new SeededRandom(6);
    let heavy = 0;
    for (let i = 0; i < 10_000; i++) if (random.weighted([['a', 1], ['b', 3]] as const) === 'b') heavy++;
    expect(heavy / 10_000).toBeGreaterThan(0.72);
    expect(heavy / 10_000).toBeLessThan(0.78);
  });
});
