import type { OcclusionGrid } from '../model/occlusion-grid.js';
import { cellCount } from '../model/occlusion-grid.js';

/**
 * The cell arithmetic of adaptive drill-down, shared by the operator and by the tuner that
 * simulates it: stage 1 runs a coarse lattice of the grid's cells (every kx-th column and ky-th
 * row, from cell (0, 0)); the rest of the heatmap is first estimated by bilinear interpolation
 * between lattice cells; stage 2 runs the cells whose estimated probability drop is among the
 * largest fraction r of all cells.
 */
export interface DrilldownShape {
  /** Coarse stride / requested stride, per axis: integers ≥ 1. */
  readonly factorX: number;
  readonly factorY: number;
  /** In (0, 1]: the share of the grid's cells stage 2 runs at the requested stride. */
  readonly fraction: number;
}

/** Cells of the coarse lattice, row-major. */
export function coarseCells(grid: OcclusionGrid, shape: DrilldownShape): Int32Array {
  const cells: number[] = [];
  for (let row = 0; row < grid.rows; row += shape.factorY) {
    for (let col = 0; col < grid.columns; col += shape.factorX) cells.push(row * grid.columns + col);
  }
  return Int32Array.from(cells);
}

/** Number of cells stage 2 may run: ceil(r · cells), counting those stage 1 already has. */
export function fineCellBudget(grid: OcclusionGrid, shape: DrilldownShape): number {
  return Math.min(cellCount(grid), Math.ceil(shape.fraction * cellCount(grid) - 1e-9));
}

/** Interpolation weights along one axis: for each index, the two lattice indices and the weight of the second. */
function axisWeights(length: number, factor: number): { low: Int32Array; high: Int32Array; t: Float64Array } {
  const last = Math.floor((length - 1) / factor) * factor;
  const low = new Int32Array(length);
  const high = new Int32Array(length);
  const t = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    if (i >= last) {
      low[i] = high[i] = last;
      continue;
    }
    low[i] = Math.floor(i / factor) * factor;
    high[i] = low[i] + factor;
    t[i] = (i - low[i]) / factor;
  }
  return { low, high, t };
}

/**
 * The whole heatmap estimated from the lattice cells' values (read from `values`): bilinear
 * between the four lattice cells around each cell; past the last lattice row or column, the
 * nearest lattice value along that axis.
 */
export function interpolateFromLattice(grid: OcclusionGrid, shape: DrilldownShape, values: ArrayLike<number>): Float32Array {
  const { columns, rows } = grid;
  const across = axisWeights(columns, shape.factorX);
  const down = axisWeights(rows, shape.factorY);
  const estimate = new Float32Array(columns * rows);
  for (let row = 0; row < rows; row++) {
    const r0 = down.low[row] * columns;
    const r1 = down.high[row] * columns;
    const ty = down.t[row];
    for (let col = 0; col < columns; col++) {
      const c0 = across.low[col];
      const c1 = across.high[col];
      const tx = across.t[col];
      const top = values[r0 + c0] * (1 - tx) + values[r0 + c1] * tx;
      const bottom = values[r1 + c0] * (1 - tx) + values[r1 + c1] * tx;
      estimate[row * columns + col] = top * (1 - ty) + bottom * ty;
    }
  }
  return estimate;
}

/**
 * The cells stage 2 runs: of the fraction r of all cells with the largest estimated drop
 * (base probability − estimate; ties to the lower index), those stage 1 has not run already.
 */
export function fineCells(grid: OcclusionGrid, shape: DrilldownShape, estimate: Float32Array, coarse: Int32Array): Int32Array {
  const total = cellCount(grid);
  const budget = fineCellBudget(grid, shape);
  // The largest drops are the smallest probabilities: the base probability does not change the order.
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => estimate[a] - estimate[b] || a - b);
  const isCoarse = new Uint8Array(total);
  for (const cell of coarse) isCoarse[cell] = 1;
  return Int32Array.from(order.slice(0, budget).filter((cell) => !isCoarse[cell])).sort();
}

/**
 * One heatmap from the stages: where a cell was run (stage 1 or 2) its value, elsewhere the
 * estimate. `computed` holds the run cells' values at their indices.
 */
export function composeHeatmap(estimate: Float32Array, computed: Float32Array, coarse: Int32Array, fine: Int32Array): Float32Array {
  const values = Float32Array.from(estimate);
  for (const cell of coarse) values[cell] = computed[cell];
  for (const cell of fine) values[cell] = computed[cell];
  return values;
}

/**
 * What drill-down would give, from a heatmap with every cell computed by the inner operator: the
 * tuner prices and scores configurations with it before running the chosen one for real.
 */
export function simulateDrilldown(grid: OcclusionGrid, shape: DrilldownShape, full: Float32Array): Float32Array {
  const coarse = coarseCells(grid, shape);
  const estimate = interpolateFromLattice(grid, shape, full);
  return composeHeatmap(estimate, full, coarse, fineCells(grid, shape, estimate, coarse));
}
