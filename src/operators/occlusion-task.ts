import type { OcclusionGrid } from '../model/occlusion-grid.js';
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
  readonly onProgress?: (done: number, total: number) => void;
  /** Checked between batches: an aborted run stops with an 'interrupted' error. */
  readonly signal?: AbortSignal;
}

export interface Heatmap {
  readonly grid: OcclusionGrid;
  /** grid.rows × grid.columns, row-major: the target class's probability with the patch at each cell. */
  readonly values: Float32Array;
  readonly classIndex: number;
  readonly baseProbability: number;
  readonly batchSize: number;
}

export interface OcclusionOperator {
  readonly strategy: 'naive' | 'incremental';
  readonly grid: OcclusionGrid;
  run(task: OcclusionTask): Promise<Heatmap>;
  release(): Promise<void>;
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

/** Default memory for the tensors of one batch. */
export const BATCH_MEMORY_BUDGET = 256 * 1024 * 1024;
const MAX_BATCH = 64;

export function chooseBatchSize(bytesPerPosition: number, positions: number, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested <= 0) throw new KryptonError(`batch size must be a positive integer, got ${requested}`);
    return Math.min(requested, positions);
  }
  const fits = Math.floor(BATCH_MEMORY_BUDGET / Math.max(bytesPerPosition, 1));
  return Math.max(1, Math.min(MAX_BATCH, fits, positions));
}
