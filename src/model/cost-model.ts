import type { GraphNode, ModelGraph } from './graph.js';
import type { IncrementalPlanOptions } from './incremental-plan.js';
import { floatsPerPosition, planIncremental } from './incremental-plan.js';
import { uniformRegions } from './regions.js';
import type { Size } from './occlusion-grid.js';

export interface LayerCost {
  readonly node: GraphNode;
  readonly kind: 'pointwise' | 'window' | 'merge' | 'global';
  readonly outputShape: readonly number[];
  /** Changed output region with the patch at the centre; undefined where the layer runs in full. */
  readonly changed?: { readonly height: number; readonly width: number };
  /** Multiply-adds of a Conv, Gemm or MatMul (0 for other layers), in full and on the changed region. */
  readonly fullMacs: number;
  readonly incrementalMacs: number;
  /** Why the layer runs in full, if it does. */
  readonly fullReason?: string;
}

export interface CostReport {
  readonly patch: Size;
  readonly layers: readonly LayerCost[];
  readonly convFullMacs: number;
  readonly convIncrementalMacs: number;
  /** Σ conv multiply-adds in full / Σ on changed regions: the ideal exact speedup. */
  readonly redundancyRatio: number;
  readonly totalFullMacs: number;
  readonly totalIncrementalMacs: number;
  /** Multiply-adds of the layers that run on changed regions (the rest run in full). */
  readonly regionMacs: number;
  /** Floats one position copies (crops and frontier copies) and the incremental segments it runs. */
  readonly copiedFloats: number;
  readonly segments: number;
}

/**
 * Per-layer cost of one occlusion position with the patch at the centre of the image (the worst
 * case). With the default options regions grow until they cover the layer (the ideal); pass the
 * planner's options to see what the incremental operator actually does.
 */
export function costModel(graph: ModelGraph, patch: Size, options: IncrementalPlanOptions = { fullFraction: Infinity, fuseBranches: false }): CostReport {
  const [, , height, width] = graph.shapeOf(graph.inputName)!;
  const top = Math.floor((height - patch.height) / 2);
  const left = Math.floor((width - patch.width) / 2);
  const plan = planIncremental(graph, uniformRegions(1, top, left, patch.height, patch.width), options);
  const layers: LayerCost[] = [];
  let convFullMacs = 0, convIncrementalMacs = 0, totalFullMacs = 0, totalIncrementalMacs = 0, regionMacs = 0;
  for (const node of graph.nodes) {
    const kind = plan.kinds.get(node)!;
    if (kind.kind === 'constant') continue;
    const outputShape = graph.shapeOf(node.outputs[0]) ?? [];
    const region = plan.regions.get(node.outputs[0]);
    const changed = plan.fullReasons.has(node) || !region ? undefined : { height: region.height, width: region.width };
    const fullMacs = macs(graph, node, outputShape);
    const area = outputShape.length === 4 ? outputShape[2] * outputShape[3] : 1;
    const incrementalMacs = changed ? (fullMacs * changed.height * changed.width) / area : fullMacs;
    if (node.opType === 'Conv') {
      convFullMacs += fullMacs;
      convIncrementalMacs += incrementalMacs;
    }
    totalFullMacs += fullMacs;
    totalIncrementalMacs += incrementalMacs;
    if (changed) regionMacs += incrementalMacs;
    layers.push({ node, kind: kind.kind, outputShape, changed, fullMacs, incrementalMacs, fullReason: plan.fullReasons.get(node) });
  }
  return {
    patch,
    layers,
    convFullMacs,
    convIncrementalMacs,
    redundancyRatio: convIncrementalMacs > 0 ? convFullMacs / convIncrementalMacs : 1,
    totalFullMacs,
    totalIncrementalMacs,
    regionMacs,
    copiedFloats: floatsPerPosition(plan).copied,
    segments: plan.segments.length,
  };
}

function macs(graph: ModelGraph, node: GraphNode, outputShape: readonly number[]): number {
  const count = outputShape.reduce((a, b) => a * b, 1);
  if (node.opType === 'Conv') {
    const weight = graph.shapeOf(node.inputs[1]) ?? dims(graph, node.inputs[1]);
    if (!weight) return 0;
    return count * weight.slice(1).reduce((a, b) => a * b, 1);
  }
  if (node.opType === 'Gemm' || node.opType === 'MatMul') {
    const input = graph.shapeOf(node.inputs[0]);
    if (!input) return 0;
    const transA = node.opType === 'Gemm' && (node.proto.attribute ?? []).some((a) => a.name === 'transA' && Number(a.i) === 1);
    const inner = transA ? input[input.length - 2] : input[input.length - 1];
    return count * inner;
  }
  return 0;
}

function dims(graph: ModelGraph, name: string): number[] | undefined {
  const tensor = graph.initializers.get(name);
  return tensor ? (tensor.dims ?? []).map(Number) : undefined;
}
