// Module-level aliases: a global lookup of `Math` inside hot loops is slow in vm contexts (jest).
const { imul, sqrt, log, cos, sin, PI } = Math;

/**
 * A deterministic pseudo-random source (mulberry32), so that a seed always gives the same model.
 * Math.random is never used: tests and benchmarks must be reproducible.
 */
export class SeededRandom {
  private state: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    // Mix the seed once so that neighbouring seeds (0, 1, 2…) start far apart.
    this.state = (imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A uniform integer in [low, high], both ends included. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks by relative weight: entries are [item, weight]. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let r = this.next() * total;
    for (const [item, weight] of entries) {
      r -= weight;
      if (r < 0) return item;
    }
    return entries[entries.length - 1][0];
  }

  /** A standard normal sample (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    const u = 1 - this.next(); // (0, 1]: log stays finite
    const v = this.next();
    const radius = sqrt(-2 * log(u));
    this.spareNormal = radius * sin(2 * PI * v);
    return radius * cos(2 * PI * v);
  }

  /**
   * Fills `target` with zero-mean uniform values of standard deviation `std`. Uniform rather than
   * normal because it costs one generator step per value: VGG16 has 138M weights.
   */
  fillUniform(target: Float32Array, std: number): Float32Array {
    const half = std * sqrt(3); // U(-a, a) has std a/√3
    // mulberry32 inlined with the state in a local: same stream as next(), several times faster.
    const scale = (2 * half) / 4294967296;
    let state = this.state;
    for (let i = 0; i < target.length; i++) {
      let t = (state = (state + 0x6d2b79f5) | 0);
      t = imul(t ^ (t >>> 15), t | 1);
      t ^= t + imul(t ^ (t >>> 7), t | 61);
      target[i] = ((t ^ (t >>> 14)) >>> 0) * scale - half;
    }
    this.state = state >>> 0;
    return target;
  }

  fillNormal(target: Float32Array, mean: number, std: number): Float32Array {
    for (let i = 0; i < target.length; i++) target[i] = mean + std * this.normal();
    return target;
  }
}
