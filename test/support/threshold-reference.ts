import type { LoadedModel } from '../../src/model/load-model';
import type { OcclusionGrid } from '../../src/model/occlusion-grid';
import { cellCount, patchCorners } from '../../src/model/occlusion-grid';
import { planIncremental, regionsForPositions } from '../../src/model/incremental-plan';
import { selectPositions, type RegionSet } from '../../src/model/regions';
import { createSession, float32Tensor, type Session } from '../../src/model/session';
import { singleNodeModel } from '../../src/model/submodels';
import { classProbabilities } from '../../src/operators/class-probability';
import { pastePatch } from '../../src/image/patch-color';
import type { OcclusionTask } from '../../src/operators/occlusion-task';

/**
 * The propagation threshold by its definition, one node at a time in full: every prefix node is
 * computed on whole (approximate) inputs, and then everything outside its changed region is put
 * back to the clean activation. Slow and independent of the operator's crops, batching and fusing.
 */
export async function thresholdReference(model: LoadedModel, grid: OcclusionGrid, task: OcclusionTask, threshold: number): Promise<Float32Array> {
  const { graph } = model;
  const corners = patchCorners(grid);
  const plan = planIncremental(graph, { height: grid.patchHeight, width: grid.patchWidth, tops: corners.tops, lefts: corners.lefts }, { threshold });
  const nodes = graph.nodes.filter((node) => plan.kinds.get(node)!.kind !== 'constant');
  const sessions = new Map<(typeof nodes)[number], Session>();
  for (const node of nodes) sessions.set(node, await createSession(singleNodeModel(graph, node)));
  const prefix = new Set(plan.prefix);
  const run = async (input: Float32Array, regions?: ReadonlyMap<string, RegionSet>): Promise<Map<string, Float32Array>> => {
    const values = new Map<string, Float32Array>([[graph.inputName, input]]);
    for (const node of nodes) {
      const feeds: Record<string, ReturnType<typeof float32Tensor>> = {};
      for (const name of graph.activationInputs(node)) feeds[name] = float32Tensor(values.get(name)!, [1, ...graph.shapeOf(name)!.slice(1)]);
      const out = (await sessions.get(node)!.run(feeds))[node.outputs[0]].data as Float32Array;
      values.set(node.outputs[0], regions && prefix.has(node) ? keepRegion(clean!.get(node.outputs[0])!, out, graph.shapeOf(node.outputs[0])!, regions.get(node.outputs[0])!) : Float32Array.from(out));
    }
    return values;
  };
  let clean: Map<string, Float32Array> | undefined;
  try {
    clean = await run(task.input);
    const cleanProbabilities = classProbabilities(clean.get(graph.outputName)!, model.output.classes, 0, model.output.activation);
    let classIndex = 0;
    for (let k = 1; k < cleanProbabilities.length; k++) if (cleanProbabilities[k] > cleanProbabilities[classIndex]) classIndex = k;
    if (task.target !== 'predicted') classIndex = task.target;
    const all = plan.regions.get(graph.inputName)!;
    const size = { channelCount: model.input.channels, height: model.input.height, width: model.input.width };
    const values = new Float32Array(cellCount(grid));
    for (let p = 0; p < values.length; p++) {
      const occluded = Float32Array.from(task.input);
      pastePatch(occluded, size, task.patchValues, { x: corners.lefts[p], y: corners.tops[p], width: grid.patchWidth, height: grid.patchHeight });
      const result = await run(occluded, regionsForPositions(plan, selectPositions(all, p, 1)));
      values[p] = classProbabilities(result.get(graph.outputName)!, model.output.classes, 0, model.output.activation)[classIndex];
    }
    return values;
  } finally {
    for (const session of sessions.values()) await session.release();
  }
}

/** The computed values inside the position's region, the clean ones elsewhere (NCHW, batch 1). */
function keepRegion(clean: Float32Array, computed: Float32Array, shape: readonly number[], region: RegionSet): Float32Array {
  const [, channels, height, width] = shape;
  const out = Float32Array.from(clean);
  const top = region.tops[0];
  const left = region.lefts[0];
  for (let c = 0; c < channels; c++) {
    for (let y = top; y < top + region.height; y++) {
      const row = (c * height + y) * width;
      out.set(computed.subarray(row + left, row + left + region.width), row + left);
    }
  }
  return out;
}
