import { freemem, totalmem } from 'node:os';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import { cellCount } from '../model/occlusion-grid.js';
import { KryptonError } from '../errors.js';
import { classIndexOf } from '../model/labels.js';

/** The class whose probability the heatmap records. */
export type TargetClass = number | 'predicted';

export interface OcclusionTask {
  /** The clean model input [C, H, W], already resized and normalised. */
  readonly input: Float32Array;
  /** The patch in model space: one value per channel. */
  readonly patchValues: Float32Array;
  readonly target: TargetClass;
  /** Positions per inference call; chosen from memory when absent. */
  readonly batchSize?: number;
  /** The most positions per call when the size is chosen from memory (64 unless set). */
  readonly batchLimit?: number;
  /** After each batch: cells done, cells to do, and the heatmap as far as it is computed. */
  readonly onProgress?: (done: number, total: number, partial?: PartialHeatmap) => void;
  /** Checked between batches: an aborted run stops with an 'interrupted' error. */
  readonly signal?: AbortSignal;
}

/** A heatmap while it is computed, for callers that show it filling in. */
export interface PartialHeatmap {
  /** 'all': every cell in one pass; 'coarse' and 'fine': drill-down's two stages (fine over the coarse estimate). */
  readonly stage: 'all' | 'coarse' | 'fine';
  /** Grid-sized, row-major; NaN where no value is known yet. The operator's live array: read it during the call. */
  readonly values: Float32Array;
  /** The class the heatmap is for, and its probability on the clean image (known from the clean pass). */
  readonly classIndex: number;
  readonly baseProbability: number;
}

export interface Heatmap {
  readonly grid: OcclusionGrid;
  /** grid.rows × grid.columns, row-major: the target class's probability with the patch at each cell. */
  readonly values: Float32Array;
  readonly classIndex: number;
  readonly baseProbability: number;
  readonly batchSize: number;
  /** Cells actually run through the model, when fewer than all (drill-down). */
  readonly cellsComputed?: number;
}

/**
 * A way of computing a whole heatmap. Operators hold what every image shares (sessions, the plan)
 * and keep nothing of an image between runs, so one operator serves a whole query.
 */
export interface OcclusionOperator {
  /** How it computes, as results rows record it: 'naive', 'incremental', 'threshold', 'drilldown+…'. */
  readonly strategy: string;
  readonly grid: OcclusionGrid;
  run(task: OcclusionTask): Promise<Heatmap>;
  release(): Promise<void>;
}

/**
 * An operator that can compute any subset of its grid's cells against one clean pass of an image:
 * what drill-down needs to run a coarse and a fine stage on the same image.
 */
export interface CellOperator extends OcclusionOperator {
  /** The clean pass of one image: its class and everything the cells read (the run's own state). */
  prepare(task: OcclusionTask): Promise<ImageRun>;
}

/** One image's state inside a CellOperator, from its clean pass on. */
export interface ImageRun {
  readonly classIndex: number;
  readonly baseProbability: number;
  /** Positions per inference call. */
  readonly batchSize: number;
  /**
   * The target class's probability with the patch at each of `cells` (row-major cell indices of
   * the grid), written into `values` at those indices. `onProgress` gets the cells done so far.
   */
  evaluate(cells: Int32Array, values: Float32Array, onProgress?: (done: number) => void): Promise<void>;
  /**
   * The groups `evaluate` runs `cells` in, one inference call each, in its order: evaluating a
   * group alone computes exactly what it computes inside the whole (what a pool hands out).
   */
  batchesOf(cells: Int32Array): Promise<Int32Array[]>;
}

/** Every cell of the grid, in row-major order. */
export function allCells(grid: OcclusionGrid): Int32Array {
  return Int32Array.from({ length: cellCount(grid) }, (_, i) => i);
}

/** A whole heatmap from a CellOperator: the clean pass, then every cell. */
export async function runAllCells(operator: CellOperator, task: OcclusionTask): Promise<Heatmap> {
  const run = await operator.prepare(task);
  const total = cellCount(operator.grid);
  // NaN until computed, so a partial heatmap tells the cells not yet run from the others; every cell is run.
  const values = new Float32Array(total).fill(NaN);
  const partial: PartialHeatmap = { stage: 'all', values, classIndex: run.classIndex, baseProbability: run.baseProbability };
  await run.evaluate(allCells(operator.grid), values, (done) => task.onProgress?.(done, total, partial));
  return { grid: operator.grid, values, classIndex: run.classIndex, baseProbability: run.baseProbability, batchSize: run.batchSize };
}

/** Throws when the caller has asked to stop. */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KryptonError('interrupted', 'interrupted');
}

export function resolveClass(target: TargetClass, probabilities: ArrayLike<number>): number {
  if (target === 'predicted') {
    let best = 0;
    for (let k = 1; k < probabilities.length; k++) if (probabilities[k] > probabilities[best]) best = k;
    return best;
  }
  return classIndexOf(target, undefined, probabilities.length);
}

const MIN_BATCH_MEMORY = 256 * 1024 * 1024;
const MAX_BATCH_MEMORY = 2 * 1024 * 1024 * 1024;
/** Past a few positions per call throughput stays flat (measured for naive and exact alike), so more only costs memory. */
const MAX_BATCH = 64;

/**
 * Memory for the tensors of one batch: a sixteenth of the machine's memory, at most a quarter of
 * what is free now, within 256 MB – 2 GB. A fixed small budget gave whole-model batches of 1 or 2
 * on large models, which run a sixth slower than batches of 4 or more.
 */
export function batchMemoryBudget(total = totalmem(), free = freemem()): number {
  return Math.min(MAX_BATCH_MEMORY, Math.max(MIN_BATCH_MEMORY, Math.min(total / 16, free / 4)));
}

export function chooseBatchSize(
  bytesPerPosition: number, positions: number, requested?: number, limit = MAX_BATCH, budget = batchMemoryBudget(),
): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested <= 0) throw new KryptonError(`batch size must be a positive integer, got ${requested}`);
    return Math.min(requested, positions);
  }
  const fits = Math.floor(budget / Math.max(bytesPerPosition, 1));
  return Math.max(1, Math.min(limit, fits, positions));
}
