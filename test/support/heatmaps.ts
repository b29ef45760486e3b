import { join } from 'node:path';
import type { Heatmap, OcclusionTask } from '../../src/operators/occlusion-task';
import { NaiveOcclusion } from '../../src/operators/naive-inference';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import type { LoadedModel } from '../../src/model/load-model';
import type { OcclusionGrid } from '../../src/model/occlusion-grid';

/** The models and images shipped with Krypton (see data/README.md). */
export const DATA = join(__dirname, '..', '..', 'data');

export interface HeatmapDifference {
  readonly maxAbs: number;
  readonly range: number;
}

/** The largest difference and the expected heatmap's range; Infinity when they cannot be compared (lengths, non-finite values). */
export function heatmapDifference(expected: Float32Array, actual: Float32Array): HeatmapDifference {
  if (expected.length !== actual.length) return { maxAbs: Infinity, range: 0 };
  let maxAbs = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(actual[i]) || !Number.isFinite(expected[i])) return { maxAbs: Infinity, range: 0 };
    maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
    min = Math.min(min, expected[i]);
    max = Math.max(max, expected[i]);
  }
  return { maxAbs, range: max - min };
}

/**
 * Same heatmap in float32: max abs difference ≤ 1e-4 and ≤ 1e-3 of the exact heatmap's range (a
 * nearly flat heatmap makes any absolute bound weak); an exactly flat one must match to 1e-7.
 */
export function expectSameHeatmap(expected: Float32Array, actual: Float32Array, label = ''): void {
  const { maxAbs, range } = heatmapDifference(expected, actual);
  const bound = Math.min(1e-4, Math.max(1e-3 * range, 1e-7));
  if (!(maxAbs <= bound)) {
    throw new Error(`${label}: heatmaps differ by ${maxAbs} (range ${range}, allowed ${bound})`);
  }
}

/** Runs naive and incremental occlusion on the same task; both heatmaps and the incremental operator. */
export async function runBoth(model: LoadedModel, grid: OcclusionGrid, task: OcclusionTask): Promise<{ naive: Heatmap; incremental: Heatmap; plan: IncrementalOcclusion['plan'] }> {
  const naiveOp = await NaiveOcclusion.create(model, grid);
  const incrementalOp = await IncrementalOcclusion.create(model, grid);
  try {
    const naive = await naiveOp.run(task);
    const incremental = await incrementalOp.run(task);
    return { naive, incremental, plan: incrementalOp.plan };
  } finally {
    await naiveOp.release();
    await incrementalOp.release();
  }
}
