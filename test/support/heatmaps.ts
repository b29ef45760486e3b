import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { buildZooModel, type ZooArchitecture } from '../../src/zoo/build-zoo-model';
import { imagenetInputSpec } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { patchValues } from '../../src/image/patch-color';
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

/**
 * A zoo architecture with seeded weights written into `dir`, the astronaut photo at its input size,
 * a square grid and the task of occluding it with the mean colour for the predicted class.
 */
export async function zooOcclusionCase(
  dir: string, arch: ZooArchitecture, { input, patch, stride, seed }: { input: number; patch: number; stride: number; seed: number },
): Promise<{ model: LoadedModel; grid: OcclusionGrid; task: OcclusionTask }> {
  const file = join(dir, `${arch}-${input}-${seed}.onnx`);
  writeFileSync(file, buildZooModel(arch, { input, classes: 10, seed }));
  const model = await loadModel(file);
  const spec = imagenetInputSpec({ width: input, height: input });
  const image = await prepareImage(join(DATA, 'images/natural-skimage/astronaut.png'), spec);
  const grid = occlusionGrid({ image: { width: input, height: input }, patch: { width: patch, height: patch }, stride: { x: stride, y: stride } });
  const task = { input: image.tensor, patchValues: patchValues({ kind: 'mean' }, image, spec), target: 'predicted' as const };
  return { model, grid, task };
}
