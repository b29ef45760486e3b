import type { AxisWindow } from '../../src/model/layer-kinds';
import { placeInside, readInSpan, touchedOutputs, unionRegions, windowOutputRegions } from '../../src/model/regions';

/** Deterministic pseudo-random integers for property tests. */
function generator(seed: number): (lo: number, hi: number) => number {
  let state = seed >>> 0;
  return (lo, hi) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return lo + (state % (hi - lo + 1));
  };
}

function randomAxis(next: (lo: number, hi: number) => number): AxisWindow {
  const kernel = next(1, 7);
  const stride = next(1, 3);
  const dilation = next(1, 3);
  const padBegin = next(0, kernel - 1);
  const padEnd = next(0, kernel - 1);
  const span = (kernel - 1) * dilation + 1;
  const inSize = next(span, span + 40);
  const extent = inSize + padBegin + padEnd - span;
  const ceil = next(0, 1) === 1;
  const outSize = (ceil ? Math.ceil(extent / stride) : Math.floor(extent / stride)) + 1;
  return { kernel, stride, dilation, padBegin, padEnd, inSize, outSize };
}

/** The definition: outputs any of whose window positions falls in the changed span. */
function bruteForceTouched(axis: AxisWindow, start: number, size: number): number[] {
  const touched: number[] = [];
  for (let o = 0; o < axis.outSize; o++) {
    for (let j = 0; j < axis.kernel; j++) {
      const x = o * axis.stride - axis.padBegin + j * axis.dilation;
      if (x >= start && x < start + size) { touched.push(o); break; }
    }
  }
  return touched;
}

describe('touchedOutputs', () => {
  it('covers every output whose window reads a changed input, for random geometries', () => {
    const next = generator(7);
    for (let trial = 0; trial < 3000; trial++) {
      const axis = randomAxis(next);
      const size = next(1, axis.inSize);
      const start = next(0, axis.inSize - size);
      const span = touchedOutputs(axis, { start, size });
      const truth = bruteForceTouched(axis, start, size);
      for (const o of truth) {
        expect(o).toBeGreaterThanOrEqual(span.start);
        expect(o).toBeLessThan(span.start + span.size);
      }
      // Tight without dilation: then windows are contiguous and the span is exactly the truth.
      if (axis.dilation === 1) {
        expect(span.size).toBe(truth.length);
        if (truth.length) expect(span.start).toBe(truth[0]);
      }
      expect(span.start + span.size).toBeLessThanOrEqual(axis.outSize);
    }
  });

  it('matches the textbook formula in the interior', () => {
    const axis: AxisWindow = { kernel: 3, stride: 1, dilation: 1, padBegin: 1, padEnd: 1, inSize: 224, outSize: 224 };
    expect(touchedOutputs(axis, { start: 100, size: 16 })).toEqual({ start: 99, size: 18 });
    const strided: AxisWindow = { kernel: 3, stride: 2, dilation: 1, padBegin: 1, padEnd: 1, inSize: 224, outSize: 112 };
    // outputs 50..58: ceil((16 + 3 - 1) / 2) = 9
    expect(touchedOutputs(strided, { start: 100, size: 16 })).toEqual({ start: 50, size: 9 });
  });

  it('is empty when a strided 1x1 window skips the change', () => {
    const axis: AxisWindow = { kernel: 1, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, inSize: 8, outSize: 4 };
    expect(touchedOutputs(axis, { start: 3, size: 1 }).size).toBe(0);
  });
});

describe('readInSpan', () => {
  it('reads exactly the windows of the requested outputs', () => {
    const axis: AxisWindow = { kernel: 5, stride: 2, dilation: 2, padBegin: 3, padEnd: 1, inSize: 40, outSize: 16 };
    const span = readInSpan(axis, { start: 4, size: 3 });
    expect(span.start).toBe(4 * 2 - 3);
    expect(span.size).toBe((5 - 1) * 2 + 1 + 2 * 2);
  });
});

describe('regions for batches of positions', () => {
  it('moves regions inward at the edges, keeping one size', () => {
    expect(placeInside(-2, 5, 10)).toBe(0);
    expect(placeInside(8, 5, 10)).toBe(5);
    expect(placeInside(3, 5, 10)).toBe(3);
    const axis: AxisWindow = { kernel: 3, stride: 1, dilation: 1, padBegin: 1, padEnd: 1, inSize: 20, outSize: 20 };
    const regions = windowOutputRegions(axis, axis, { height: 4, width: 4, tops: Int32Array.from([0, 8, 16]), lefts: Int32Array.from([16, 8, 0]) });
    expect(regions.height).toBe(6);
    expect(Array.from(regions.tops)).toEqual([0, 7, 14]);
    expect(Array.from(regions.lefts)).toEqual([14, 7, 0]);
  });

  it('takes the largest count over positions when stride alignment differs', () => {
    const pool: AxisWindow = { kernel: 2, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, inSize: 32, outSize: 16 };
    const even = windowOutputRegions(pool, pool, { height: 4, width: 4, tops: Int32Array.from([4, 8]), lefts: Int32Array.from([4, 8]) });
    expect(even.height).toBe(2);
    const mixed = windowOutputRegions(pool, pool, { height: 4, width: 4, tops: Int32Array.from([4, 5]), lefts: Int32Array.from([4, 5]) });
    expect(mixed.height).toBe(3);
  });

  it('unions merge inputs per position', () => {
    const a = { height: 3, width: 3, tops: Int32Array.from([2]), lefts: Int32Array.from([2]) };
    const b = { height: 5, width: 5, tops: Int32Array.from([1]), lefts: Int32Array.from([4]) };
    const union = unionRegions([a, b], 10, 10);
    expect([union.height, union.width, union.tops[0], union.lefts[0]]).toEqual([5, 7, 1, 2]);
  });
});
