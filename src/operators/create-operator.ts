import type { LoadedModel } from '../model/load-model.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import type { SessionCache } from '../model/session-cache.js';
import { DrilldownOcclusion } from './drilldown.js';
import type { DrilldownShape } from './drilldown-cells.js';
import { IncrementalOcclusion } from './incremental-inference.js';
import { NaiveOcclusion } from './naive-inference.js';
import type { CellOperator, OcclusionOperator } from './occlusion-task.js';
import { PooledCellOperator, poolSize } from './worker-pool.js';

/** An operator that runs any subset of cells: what drill-down can stand on. */
export type CellOperatorSpec =
  | { readonly kind: 'naive' }
  /** threshold 1 is exact incremental inference; below 1, the propagation threshold τ. */
  | { readonly kind: 'incremental'; readonly threshold: number };

/** Which operator to build, as a physical plan describes it. */
export type OperatorSpec = CellOperatorSpec | { readonly kind: 'drilldown'; readonly shape: DrilldownShape; readonly inner: CellOperatorSpec };

export interface OperatorOptions {
  /** Worker threads to compute with; 0 or 1: this thread. Chosen from the work and the machine when absent. */
  readonly workers?: number;
  /** Where this thread's operators take their sessions from, and leave them for the next statement. */
  readonly sessions?: SessionCache;
}

/** The operator computed in this thread. */
export async function createLocalCellOperator(spec: CellOperatorSpec, model: LoadedModel, grid: OcclusionGrid, sessions?: SessionCache): Promise<CellOperator> {
  return spec.kind === 'naive' ? NaiveOcclusion.create(model, grid, sessions) : IncrementalOcclusion.create(model, grid, { threshold: spec.threshold }, sessions);
}

export async function createCellOperator(spec: CellOperatorSpec, model: LoadedModel, grid: OcclusionGrid, options: OperatorOptions = {}): Promise<CellOperator> {
  const workers = options.workers ?? poolSize(model, grid, spec);
  return workers > 1 ? PooledCellOperator.create(spec, model, grid, workers) : createLocalCellOperator(spec, model, grid, options.sessions);
}

export async function createOperator(spec: OperatorSpec, model: LoadedModel, grid: OcclusionGrid, options: OperatorOptions = {}): Promise<OcclusionOperator> {
  if (spec.kind !== 'drilldown') return createCellOperator(spec, model, grid, options);
  return new DrilldownOcclusion(await createCellOperator(spec.inner, model, grid, options), spec.shape);
}

/** The cell operator a configuration computes with: drill-down's inner one, or itself. */
export function cellSpecOf(spec: OperatorSpec): CellOperatorSpec {
  return spec.kind === 'drilldown' ? spec.inner : spec;
}

/** The propagation threshold a configuration runs at: 1 (exact) for naive. */
export function thresholdOf(spec: OperatorSpec): number {
  const cell = cellSpecOf(spec);
  return cell.kind === 'incremental' ? cell.threshold : 1;
}

/** Whether a configuration computes the exact heatmap: no drill-down, no threshold below 1. */
export function isExact(spec: OperatorSpec): boolean {
  return spec.kind !== 'drilldown' && thresholdOf(spec) >= 1;
}

export const NAIVE: CellOperatorSpec = Object.freeze({ kind: 'naive' });
export const EXACT_INCREMENTAL: CellOperatorSpec = Object.freeze({ kind: 'incremental', threshold: 1 });
