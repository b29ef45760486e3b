/**
 * SSIM between an exact heatmap and an approximate one (Wang et al. 2004, as in Wang's MATLAB
 * ssim_index and skimage's `structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False)`):
 *
 * - an 11×11 Gaussian window, σ = 1.5, normalised to sum 1; local means μ, population variances σ²
 *   and covariance σxy weighted by it;
 * - K1 = 0.01, K2 = 0.03, C1 = (K1·L)², C2 = (K2·L)², where L is max − min of the EXACT heatmap:
 *   the approximation is judged on the exact heatmap's own scale, however small its range. A range
 *   below 1e-8 (a flat exact heatmap) counts as 1e-8, so identical maps still give exactly 1;
 * - the SSIM map only where the whole window lies inside the heatmap ('valid' filtering, which is
 *   what skimage's crop of the (win − 1)/2 border amounts to); the result is its mean.
 *
 * Heatmaps narrower than 11 along an axis get a smaller window along that axis: the largest odd
 * size ≤ the axis's length (so 10 → 9, 2 → 1), the Gaussian keeping σ = 1.5, truncated to that size
 * and renormalised. A 1×1 heatmap thus compares its two cells' values alone (the luminance term).
 */
export function ssim(exact: ArrayLike<number>, approximate: ArrayLike<number>, width: number, height: number): number {
  checkSize('width', width);
  checkSize('height', height);
  const cells = width * height;
  checkLength('exact', exact, cells, width, height);
  checkLength('approximate', approximate, cells, width, height);

  const x = finiteCopy('exact', exact);
  const y = finiteCopy('approximate', approximate);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < cells; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  const range = Math.max(max - min, MIN_RANGE);
  const c1 = (K1 * range) ** 2;
  const c2 = (K2 * range) ** 2;

  /*
   * σ² = E[v²] − E[v]² cancels badly for heatmaps far from 0, and for a flat map it can come out
   * a hair below 0, more than C2 of a 1e-8 range. Both are shift-invariant, so they are taken on
   * values centred on each map's mean; the means μ are the centred means plus that shift.
   */
  const shiftX = meanOf(x);
  const shiftY = meanOf(y);
  for (let i = 0; i < cells; i++) {
    x[i] -= shiftX;
    y[i] -= shiftY;
  }

  const kernelX = gaussianWindow(windowSize(width));
  const kernelY = gaussianWindow(windowSize(height));
  const outWidth = width - kernelX.length + 1;
  const outHeight = height - kernelY.length + 1;

  // Along rows first: five moments per cell, `outWidth` wide, every row.
  const rowCells = outWidth * height;
  const rx = new Float64Array(rowCells);
  const ry = new Float64Array(rowCells);
  const rxx = new Float64Array(rowCells);
  const ryy = new Float64Array(rowCells);
  const rxy = new Float64Array(rowCells);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < outWidth; column++) {
      const start = row * width + column;
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < kernelX.length; k++) {
        const vx = x[start + k];
        const vy = y[start + k];
        const weightedX = kernelX[k] * vx;
        const weightedY = kernelX[k] * vy;
        sx += weightedX;
        sy += weightedY;
        sxx += weightedX * vx;
        syy += weightedY * vy;
        sxy += weightedX * vy;
      }
      const at = row * outWidth + column;
      rx[at] = sx;
      ry[at] = sy;
      rxx[at] = sxx;
      ryy[at] = syy;
      rxy[at] = sxy;
    }
  }

  // Then down columns, and the SSIM of each window straight away.
  let total = 0;
  for (let row = 0; row < outHeight; row++) {
    for (let column = 0; column < outWidth; column++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < kernelY.length; k++) {
        const weight = kernelY[k];
        const at = (row + k) * outWidth + column;
        sx += weight * rx[at];
        sy += weight * ry[at];
        sxx += weight * rxx[at];
        syy += weight * ryy[at];
        sxy += weight * rxy[at];
      }
      const meanX = sx + shiftX;
      const meanY = sy + shiftY;
      const varianceX = sxx - sx * sx;
      const varianceY = syy - sy * sy;
      const covariance = sxy - sx * sy;
      total +=
        ((2 * meanX * meanY + c1) * (2 * covariance + c2)) /
        ((meanX * meanX + meanY * meanY + c1) * (varianceX + varianceY + c2));
    }
  }
  return total / (outWidth * outHeight);
}

const K1 = 0.01;
const K2 = 0.03;
const SIGMA = 1.5;
const MAX_WINDOW = 11;
/** Dynamic range used for a flat exact heatmap: C1 and C2 must stay positive. */
const MIN_RANGE = 1e-8;

/** The largest odd window ≤ 11 that fits an axis of `length` cells. */
function windowSize(length: number): number {
  const size = Math.min(MAX_WINDOW, length);
  return size % 2 === 1 ? size : size - 1;
}

const windows = new Map<number, Float64Array>();

/** A 1-D Gaussian of σ 1.5 over `size` taps, centred and normalised to sum 1. */
function gaussianWindow(size: number): Float64Array {
  let window = windows.get(size);
  if (!window) {
    window = new Float64Array(size);
    const centre = (size - 1) / 2;
    let sum = 0;
    for (let k = 0; k < size; k++) sum += window[k] = Math.exp(-((k - centre) ** 2) / (2 * SIGMA * SIGMA));
    for (let k = 0; k < size; k++) window[k] /= sum;
    windows.set(size, window);
  }
  return window;
}

function meanOf(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`ssim: ${name} must be a positive integer, got ${value}`);
  }
}

function checkLength(name: string, values: ArrayLike<number>, cells: number, width: number, height: number): void {
  if (values.length !== cells) {
    throw new Error(`ssim: ${name} heatmap has ${values.length} values, expected ${width}×${height} = ${cells}`);
  }
}

/**
 * Taken once: hot loops here avoid reaching globals, which is slow inside a vm context such as
 * jest's test realm (a `Number.isFinite` per cell made a call 20× slower there).
 */
const isFiniteNumber = Number.isFinite;

/** A Float64 copy (the arithmetic needs it, and centring must not touch the caller's array). */
function finiteCopy(name: string, values: ArrayLike<number>): Float64Array {
  const copy = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!isFiniteNumber(value)) {
      throw new Error(`ssim: ${name} heatmap has ${value} at index ${i}; values must be finite numbers`);
    }
    copy[i] = value;
  }
  return copy;
}
