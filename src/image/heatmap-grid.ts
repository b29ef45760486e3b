import { KryptonError } from '../errors.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import type { AxisMapping } from './source-region.js';

/** One occlusion experiment's results on the model-input image's pixel grid. */
export interface HeatmapGrid {
  /** Cells per row and per column. */
  width: number;
  height: number;
  /** Row-major: the class probability with the patch at each position. */
  values: Float32Array;
  patchWidth: number;
  patchHeight: number;
  strideX: number;
  strideY: number;
  /** Pixel position of cell (0,0)'s patch top-left. */
  originX: number;
  originY: number;
}

/** An occlusion grid's heatmap in the overlay's terms. */
export function heatmapGridOf(grid: OcclusionGrid, values: Float32Array): HeatmapGrid {
  return {
    width: grid.columns, height: grid.rows, values, patchWidth: grid.patchWidth, patchHeight: grid.patchHeight,
    strideX: grid.strideX, strideY: grid.strideY, originX: grid.originX, originY: grid.originY,
  };
}

/** The grid's patches where an axis mapping puts them (fractional pixels; the values are the same). */
export function mapHeatmapGrid(grid: HeatmapGrid, mapping: AxisMapping): HeatmapGrid {
  return {
    ...grid,
    patchWidth: grid.patchWidth * mapping.scaleX,
    patchHeight: grid.patchHeight * mapping.scaleY,
    strideX: grid.strideX * mapping.scaleX,
    strideY: grid.strideY * mapping.scaleY,
    originX: grid.originX * mapping.scaleX + mapping.offsetX,
    originY: grid.originY * mapping.scaleY + mapping.offsetY,
  };
}

/** The pixels the patches cover, clipped to the image: [x0, x1) × [y0, y1). */
export interface CoveredArea {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function validateHeatmapGrid(grid: HeatmapGrid): void {
  const fail = (problem: string): never => {
    throw new KryptonError(`Invalid heatmap grid: ${problem}`, 'argument');
  };
  if (!Number.isInteger(grid.width) || !Number.isInteger(grid.height) || grid.width < 1 || grid.height < 1) {
    fail(`size must be at least 1×1 cells, got ${grid.width}×${grid.height}`);
  }
  if (grid.values.length !== grid.width * grid.height) fail(`${grid.values.length} values for ${grid.width}×${grid.height} cells`);
  if (!(grid.patchWidth > 0 && grid.patchHeight > 0)) fail('patch size must be positive');
  if (!(grid.strideX > 0 && grid.strideY > 0)) fail('strides must be positive');
  if (!Number.isFinite(grid.originX) || !Number.isFinite(grid.originY)) fail('origin must be finite');
}

export function coveredArea(grid: HeatmapGrid, imageWidth: number, imageHeight: number): CoveredArea {
  return {
    x0: clamp(Math.floor(grid.originX), 0, imageWidth),
    y0: clamp(Math.floor(grid.originY), 0, imageHeight),
    x1: clamp(Math.ceil(grid.originX + (grid.width - 1) * grid.strideX + grid.patchWidth), 0, imageWidth),
    y1: clamp(Math.ceil(grid.originY + (grid.height - 1) * grid.strideY + grid.patchHeight), 0, imageHeight),
  };
}

/** For each pixel along one axis: the two cells to blend and the weight of the second. */
export interface AxisSamples {
  low: Int32Array;
  high: Int32Array;
  weight: Float32Array;
}

/**
 * Bilinear sampling positions along one axis for pixels [from, to): each cell's value sits at its
 * patch centre; pixels beyond the first or last centre take the edge cell's value.
 */
export function axisSamples(from: number, to: number, origin: number, stride: number, patch: number, cells: number): AxisSamples {
  const count = Math.max(0, to - from);
  const samples = { low: new Int32Array(count), high: new Int32Array(count), weight: new Float32Array(count) };
  for (let k = 0; k < count; k++) {
    const pixelCentre = from + k + 0.5;
    const u = clamp((pixelCentre - origin - patch / 2) / stride, 0, cells - 1);
    const low = Math.floor(u);
    samples.low[k] = low;
    samples.high[k] = Math.min(low + 1, cells - 1);
    samples.weight[k] = u - low;
  }
  return samples;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
