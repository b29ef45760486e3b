import type { AxisWindow } from './layer-kinds.js';

/**
 * The region arithmetic of incremental inference, in one place: the operators, the planner's
 * cost model and `inspect` all call these functions.
 *
 * A changed region is tracked per occlusion position, but all positions of one query share one
 * region size per tensor (regions that would run past an edge are moved inward, keeping their
 * size), so a batch of positions becomes one dense [B, C, h, w] tensor per layer.
 */

/** A half-open interval [start, start + size) along one axis. */
export interface Span {
  readonly start: number;
  readonly size: number;
}

/** One region size shared by a batch of positions, and where each position's region starts. */
export interface RegionSet {
  readonly height: number;
  readonly width: number;
  readonly tops: Int32Array;
  readonly lefts: Int32Array;
}

/** Extent of a window: (kernel - 1) * dilation + 1 input positions. */
export function windowSpan(axis: AxisWindow): number {
  return (axis.kernel - 1) * axis.dilation + 1;
}

/**
 * The outputs whose windows touch any changed input position, clipped to the output. Exact for
 * any stride, dilation, asymmetric padding and ceil-mode overhang; may be empty when a strided
 * window skips the change entirely.
 */
export function touchedOutputs(axis: AxisWindow, changed: Span): Span {
  const span = windowSpan(axis);
  const first = Math.max(Math.ceil((changed.start + axis.padBegin - span + 1) / axis.stride), 0);
  const last = Math.min(Math.floor((changed.start + changed.size - 1 + axis.padBegin) / axis.stride), axis.outSize - 1);
  return { start: first, size: Math.max(last - first + 1, 0) };
}

/** The input positions read to compute the outputs `out`; may reach into the padding. */
export function readInSpan(axis: AxisWindow, out: Span): Span {
  return { start: out.start * axis.stride - axis.padBegin, size: windowSpan(axis) + (out.size - 1) * axis.stride };
}

/** Where each position's read-in window starts, per axis, for a batch of output regions. */
export function readInRegions(rows: AxisWindow, cols: AxisWindow, out: RegionSet): RegionSet {
  const count = out.tops.length;
  const tops = new Int32Array(count);
  const lefts = new Int32Array(count);
  for (let p = 0; p < count; p++) {
    tops[p] = readInSpan(rows, { start: out.tops[p], size: out.height }).start;
    lefts[p] = readInSpan(cols, { start: out.lefts[p], size: out.width }).start;
  }
  return {
    height: readInSpan(rows, { start: 0, size: out.height }).size,
    width: readInSpan(cols, { start: 0, size: out.width }).size,
    tops,
    lefts,
  };
}

/** Moves [start, start + size) inside [0, limit) without changing its size. */
export function placeInside(start: number, size: number, limit: number): number {
  return Math.max(0, Math.min(start, limit - size));
}

export function regionArea(region: RegionSet): number {
  return region.height * region.width;
}

export function uniformRegions(count: number, top: number, left: number, height: number, width: number): RegionSet {
  return { height, width, tops: new Int32Array(count).fill(top), lefts: new Int32Array(count).fill(left) };
}

/**
 * The propagation threshold's cap on a changed span along an axis of `size` outputs: round(τ·size),
 * at least 1. With τ = 1 it is the whole axis, which no touched span exceeds.
 */
export function thresholdCap(threshold: number, size: number): number {
  return Math.max(1, Math.round(threshold * size));
}

/**
 * A span cut to at most `cap` positions around its centre. What lies outside the cut keeps its
 * clean value: the approximation of the propagation threshold.
 */
export function capSpan(span: Span, cap: number): Span {
  if (span.size <= cap) return span;
  return { start: span.start + Math.floor((span.size - cap) / 2), size: cap };
}

/**
 * The changed output regions of a window layer, given its changed input regions. A threshold
 * τ < 1 caps each axis at round(τ · output size); the input crop that produces the capped region
 * follows from it (readInSpan), so the input region is cut to match.
 */
export function windowOutputRegions(rows: AxisWindow, cols: AxisWindow, input: RegionSet, threshold = 1): RegionSet {
  const count = input.tops.length;
  const rowCap = thresholdCap(threshold, rows.outSize);
  const colCap = thresholdCap(threshold, cols.outSize);
  const rowSpans: Span[] = [];
  const colSpans: Span[] = [];
  let height = 1;
  let width = 1;
  for (let p = 0; p < count; p++) {
    const r = capSpan(touchedOutputs(rows, { start: input.tops[p], size: input.height }), rowCap);
    const c = capSpan(touchedOutputs(cols, { start: input.lefts[p], size: input.width }), colCap);
    rowSpans.push(r);
    colSpans.push(c);
    height = Math.max(height, r.size);
    width = Math.max(width, c.size);
  }
  return placeAll(rowSpans, colSpans, height, width, rows.outSize, cols.outSize);
}

/** The bounding box of several inputs' regions at each position (residual Add, Concat). */
export function unionRegions(inputs: readonly RegionSet[], layerHeight: number, layerWidth: number): RegionSet {
  const count = inputs[0].tops.length;
  const rowSpans: Span[] = [];
  const colSpans: Span[] = [];
  let height = 1;
  let width = 1;
  for (let p = 0; p < count; p++) {
    let top = Infinity, bottom = -Infinity, left = Infinity, right = -Infinity;
    for (const region of inputs) {
      top = Math.min(top, region.tops[p]);
      bottom = Math.max(bottom, region.tops[p] + region.height);
      left = Math.min(left, region.lefts[p]);
      right = Math.max(right, region.lefts[p] + region.width);
    }
    rowSpans.push({ start: top, size: bottom - top });
    colSpans.push({ start: left, size: right - left });
    height = Math.max(height, bottom - top);
    width = Math.max(width, right - left);
  }
  return placeAll(rowSpans, colSpans, Math.min(height, layerHeight), Math.min(width, layerWidth), layerHeight, layerWidth);
}

function placeAll(rowSpans: Span[], colSpans: Span[], height: number, width: number, limitH: number, limitW: number): RegionSet {
  const tops = new Int32Array(rowSpans.length);
  const lefts = new Int32Array(colSpans.length);
  for (let p = 0; p < rowSpans.length; p++) {
    tops[p] = placeInside(rowSpans[p].start, height, limitH);
    lefts[p] = placeInside(colSpans[p].start, width, limitW);
  }
  return { height, width, tops, lefts };
}

/** The regions of a subset of positions (one batch). */
export function selectPositions(region: RegionSet, first: number, count: number): RegionSet {
  return {
    height: region.height,
    width: region.width,
    tops: region.tops.subarray(first, first + count),
    lefts: region.lefts.subarray(first, first + count),
  };
}
