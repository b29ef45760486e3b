import type { GraphNode, ModelGraph } from './graph.js';
import type { AxisWindow, LayerKind, WindowKind } from './layer-kinds.js';
import { classifyNode, isIdentityWindow } from './layer-kinds.js';
import type { RegionSet } from './regions.js';
import { readInRegions, regionArea, uniformRegions, unionRegions, windowOutputRegions, windowSpan } from './regions.js';

/** A tensor a segment reads, and how its crop follows from the segment's output region. */
export interface SegmentRead {
  readonly tensor: string;
  /** The window it is read through (the crop is that window's read-in of the output region); none: the output region itself. */
  readonly window?: WindowKind;
  /** The segment model's input name for it: the tensor's own, unless the segment reads it twice. */
  readonly feed: string;
  /**
   * For a branch under a window head (a convolution computed inside the pool that reads it): the
   * head's window, whose read-in of the output region is the region the branch computes.
   */
  readonly via?: WindowKind;
}

/** The region of a read's crop for a segment's output region: back through the head's window, then the read's own. */
export function cropRegions(read: SegmentRead, outRegion: RegionSet): RegionSet {
  const computed = read.via ? readInRegions(read.via.rows, read.via.cols, outRegion) : outRegion;
  return read.window ? readInRegions(read.window.rows, read.window.cols, computed) : computed;
}

/** Where a branch is computed: on the region of its segment's head output, or on that region's read-in through the head's window. */
export interface BranchRegion {
  readonly head: string;
  readonly through?: WindowKind;
}

/**
 * A window node and the point-wise chain after it, computed inside the segment of the one node
 * that reads it: inside a merge on the merge's output region (a residual block's last convolution
 * before its Add, a fire module's expands before their Concat), inside a pool on the pool's
 * read-in region (VGG's last convolution of a stage before its MaxPool).
 */
export interface SegmentBranch {
  readonly nodes: readonly GraphNode[];
  readonly window: WindowKind;
  readonly output: string;
  /** The segment's read of the branch's input, through the branch's window. */
  readonly read: SegmentRead;
}

/**
 * A step of incremental inference: one window, merge or point-wise node, fused with the chain of
 * point-wise nodes that follow it alone (Conv → BatchNorm → ReLU runs as one small model). A merge
 * also computes the window branches that feed it alone, so that they need no session, no crop and
 * no layout change of their own.
 */
export interface Segment {
  readonly kind: 'window' | 'merge' | 'pointwise';
  /** The head node first, then the point-wise chain after it. */
  readonly nodes: readonly GraphNode[];
  /** The tensors the segment model reads, in its input order. */
  readonly reads: readonly SegmentRead[];
  /** The last node's output. */
  readonly output: string;
  readonly window?: WindowKind;
  /** A merge's or pool's branches, computed before its head. */
  readonly branches: readonly SegmentBranch[];
}

export interface IncrementalPlanOptions {
  /**
   * A layer whose changed region covers at least this fraction of its output is computed in full,
   * and so is everything after it: recomputing nearly everything through crops costs more than
   * computing everything.
   */
  readonly fullFraction?: number;
  /**
   * The propagation threshold τ in (0, 1]: each window layer's changed region is capped at
   * round(τ · size) per axis, values outside it staying clean. 1 (the default) is exact.
   */
  readonly threshold?: number;
  /**
   * Whether merges compute the window branches that feed them alone, on the merge's region
   * (default true). Off, every layer computes its own changed region only: the ideal of the
   * redundancy ratio.
   */
  readonly fuseBranches?: boolean;
}

export const DEFAULT_FULL_FRACTION = 0.9;

/** The options as a plan records them, every default filled in. */
export interface ResolvedPlanOptions {
  readonly fullFraction: number;
  readonly threshold: number;
  readonly fuseBranches: boolean;
}

export function resolvePlanOptions(options: IncrementalPlanOptions = {}): ResolvedPlanOptions {
  const threshold = options.threshold ?? 1;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  return { fullFraction: options.fullFraction ?? DEFAULT_FULL_FRACTION, threshold, fuseBranches: options.fuseBranches ?? true };
}

/**
 * How one model runs incrementally for one set of occlusion positions: which nodes run on changed
 * regions (the prefix, as segments), the changed region of every prefix tensor, and where the
 * rest of the model (the tail) takes over in full.
 */
export interface IncrementalPlan {
  readonly graph: ModelGraph;
  /** What the regions were planned with: the cost model, EXPLAIN and the operator all read these. */
  readonly options: ResolvedPlanOptions;
  readonly segments: readonly Segment[];
  /**
   * Region of every tensor computed incrementally, the model input's being the patch: its changed
   * region, or for a branch the region it is computed on (its merge's, or its pool's read-in).
   */
  readonly regions: ReadonlyMap<string, RegionSet>;
  /** Branch tensors computed on another's region rather than their own changed region. */
  readonly computedOn: ReadonlyMap<string, BranchRegion>;
  /** Tensors whose clean activations are needed: window and merge inputs, and the frontier. */
  readonly materialised: readonly string[];
  /** Incrementally computed tensors the tail reads, in full, with each position's change pasted in. */
  readonly frontier: readonly string[];
  /** Nodes run on changed regions, in topological order. */
  readonly prefix: readonly GraphNode[];
  /** Nodes run in full on the frontier, ending with the model's output. Empty if none. */
  readonly tail: readonly GraphNode[];
  /** Every node's kind and, for nodes run in full, why. */
  readonly kinds: ReadonlyMap<GraphNode, LayerKind>;
  readonly fullReasons: ReadonlyMap<GraphNode, string>;
}

export function planIncremental(graph: ModelGraph, patchRegions: RegionSet, options: IncrementalPlanOptions = {}): IncrementalPlan {
  const resolved = resolvePlanOptions(options);
  const regions = new Map<string, RegionSet>([[graph.inputName, patchRegions]]);
  const kinds = new Map<GraphNode, LayerKind>();
  const fullReasons = new Map<GraphNode, string>();
  const prefix: GraphNode[] = [];
  const tail: GraphNode[] = [];

  for (const node of graph.nodes) {
    const kind = classifyNode(graph, node);
    kinds.set(node, kind);
    if (kind.kind === 'constant') continue;
    const inputs = graph.activationInputs(node);
    const reason = whyFull(graph, node, kind, inputs, regions, resolved);
    if (typeof reason === 'string') {
      fullReasons.set(node, reason);
      tail.push(node);
      continue;
    }
    regions.set(node.outputs[0], reason);
    prefix.push(node);
  }

  let frontier = frontierOf(graph, tail, regions);
  if (resolved.fullFraction <= 1) {
    while (pullIntoTail(graph, prefix, tail, kinds, regions, frontier, fullReasons)) frontier = frontierOf(graph, tail, regions);
  }
  const chains = fuseSegments(graph, prefix, kinds, frontier);
  const segments = resolved.fuseBranches ? withBranchesFused(graph, chains, kinds, regions, frontier, resolved.threshold) : chains;
  const computedOn = new Map<string, BranchRegion>();
  for (const segment of segments) {
    const on: BranchRegion = { head: segment.nodes[0].outputs[0], through: segment.kind === 'window' ? segment.window : undefined };
    for (const branch of segment.branches) for (const node of branch.nodes) computedOn.set(node.outputs[0], on);
  }
  onBranchRegions(regions, computedOn);
  const materialised = new Set<string>();
  for (const segment of segments) if (segment.kind !== 'pointwise') for (const read of segment.reads) materialised.add(read.tensor);
  for (const name of frontier) materialised.add(name);

  return {
    graph,
    options: resolved,
    segments,
    regions,
    computedOn,
    materialised: [...materialised],
    frontier: [...frontier],
    prefix,
    tail,
    kinds,
    fullReasons,
  };
}

/** Incrementally computed tensors the tail reads (and the model's output, if computed incrementally). */
function frontierOf(graph: ModelGraph, tail: readonly GraphNode[], regions: ReadonlyMap<string, RegionSet>): Set<string> {
  const frontier = new Set<string>();
  for (const node of tail) for (const input of graph.activationInputs(node)) if (regions.has(input)) frontier.add(input);
  if (regions.has(graph.outputName)) frontier.add(graph.outputName);
  return frontier;
}

/**
 * A window layer whose changed region covers this share of its output, which only the tail reads
 * and whose input the tail reads anyway, joins the tail: computing it in full there costs less
 * than its own segment, its crops and the full copy of its output the tail would need.
 */
const PULL_INTO_TAIL_FRACTION = 0.7;

/** Moves the last such window segment (with its point-wise chain) into the tail; whether there was one. */
function pullIntoTail(
  graph: ModelGraph, prefix: GraphNode[], tail: GraphNode[], kinds: ReadonlyMap<GraphNode, LayerKind>,
  regions: Map<string, RegionSet>, frontier: ReadonlySet<string>, fullReasons: Map<GraphNode, string>,
): boolean {
  const inTail = new Set(tail);
  const segment = fuseSegments(graph, prefix, kinds, frontier).reverse().find((candidate) => {
    if (candidate.kind !== 'window' || candidate.output === graph.outputName || !frontier.has(candidate.reads[0].tensor)) return false;
    if (!(graph.consumers.get(candidate.output) ?? []).every((consumer) => inTail.has(consumer))) return false;
    const [, , height, width] = graph.shapeOf(candidate.output)!;
    return regionArea(regions.get(candidate.output)!) >= PULL_INTO_TAIL_FRACTION * height * width;
  });
  if (!segment) return false;
  const [, , height, width] = graph.shapeOf(segment.output)!;
  const region = regions.get(segment.output)!;
  const reason = `changed region ${region.width}x${region.height} covers ≥ ${Math.round(PULL_INTO_TAIL_FRACTION * 100)}% of ${width}x${height}, and only full layers read it`;
  for (const node of segment.nodes) {
    prefix.splice(prefix.indexOf(node), 1);
    regions.delete(node.outputs[0]);
    fullReasons.set(node, reason);
  }
  const order = new Map(graph.nodes.map((node, index) => [node, index]));
  tail.push(...segment.nodes);
  tail.sort((a, b) => order.get(a)! - order.get(b)!);
  return true;
}

/** Either why the node must run in full, or its changed output region. */
function whyFull(
  graph: ModelGraph, node: GraphNode, kind: LayerKind, inputs: string[],
  regions: Map<string, RegionSet>, options: ResolvedPlanOptions,
): string | RegionSet {
  const { fullFraction } = options;
  if (kind.kind === 'global') return kind.reason;
  if (kind.kind === 'constant') return 'constant';
  const missing = inputs.find((name) => !regions.has(name));
  if (missing !== undefined) return 'an input is computed in full';
  const [, , height, width] = graph.shapeOf(node.outputs[0])!;
  const region = outputRegion(graph, node, kind, regions, options.threshold);
  if (regionArea(region) >= fullFraction * height * width) {
    return `changed region ${region.width}x${region.height} covers ≥ ${Math.round(fullFraction * 100)}% of ${width}x${height}`;
  }
  return region;
}

/** A prefix node's changed output region from its inputs' regions. */
function outputRegion(graph: ModelGraph, node: GraphNode, kind: LayerKind, regions: ReadonlyMap<string, RegionSet>, threshold: number): RegionSet {
  const inputs = graph.activationInputs(node);
  if (kind.kind === 'pointwise') return regions.get(inputs[0])!;
  if (kind.kind === 'window') return windowOutputRegions(kind.rows, kind.cols, regions.get(inputs[0])!, threshold);
  const [, , height, width] = graph.shapeOf(node.outputs[0])!;
  return unionRegions(inputs.map((name) => regions.get(name)!), height, width);
}

/**
 * The prefix tensors' regions for some of the plan's positions (one batch): never larger than the
 * plan's, which serve every position, and smaller where the batch's positions allow (near the
 * borders, where changes are clipped, or with a favourable alignment to the strides).
 */
export function regionsForPositions(plan: IncrementalPlan, patch: RegionSet): Map<string, RegionSet> {
  const regions = new Map<string, RegionSet>([[plan.graph.inputName, patch]]);
  for (const node of plan.prefix) regions.set(node.outputs[0], outputRegion(plan.graph, node, plan.kinds.get(node)!, regions, plan.options.threshold));
  onBranchRegions(regions, plan.computedOn);
  return regions;
}

/** Branches take the region their segment computes them on (after the head's own region is known). */
function onBranchRegions(regions: Map<string, RegionSet>, computedOn: ReadonlyMap<string, BranchRegion>): void {
  for (const [branch, { head, through }] of computedOn) {
    const region = regions.get(head)!;
    regions.set(branch, through ? readInRegions(through.rows, through.cols, region) : region);
  }
}

/**
 * Most recomputation a branch may take on: the region it is computed on over its own, in area.
 * Residual branches have the Add's region (ratio 1); a fire module's 1x1 expand grows by the 3x3's
 * border; a convolution under a 2x2 pool grows by a row or column on each side where its region
 * starts or ends off the pool's stride.
 */
const MAX_BRANCH_GROWTH = 2;

/** A pool whose every read-in stays inside its input: no padding, and no ceil-mode window past the end. */
function poolReadsInside(window: WindowKind): boolean {
  const inside = (axis: AxisWindow) => axis.padBegin === 0 && (axis.outSize - 1) * axis.stride + windowSpan(axis) <= axis.inSize;
  return window.op !== 'Conv' && inside(window.rows) && inside(window.cols);
}

/**
 * Moves each window segment whose output only a merge or a pool reads into that reader's segment:
 * one session, one set of crops and one layout change fewer per batch, for a little recomputation
 * where the branch's own region is smaller than the one it is computed on (the merge's region, or
 * the pool's read-in, which must stay inside the tensor, since a branch computed on a crop has no
 * padding to give the pool). What a branch computes outside its changed region are clean values,
 * so the heatmap is the same, but under a threshold only if the branch was not capped: beyond a cap
 * the clean values are the approximation, and computing them would be another one.
 */
function withBranchesFused(
  graph: ModelGraph, segments: readonly Segment[], kinds: ReadonlyMap<GraphNode, LayerKind>,
  regions: ReadonlyMap<string, RegionSet>, frontier: ReadonlySet<string>, threshold: number,
): Segment[] {
  const capped = (branch: Segment) => {
    if (threshold === 1) return false;
    const own = regions.get(branch.nodes[0].outputs[0])!;
    const uncapped = windowOutputRegions(branch.window!.rows, branch.window!.cols, regions.get(branch.reads[0].tensor)!);
    return own.height < uncapped.height || own.width < uncapped.width;
  };
  const producing = new Map(segments.map((segment) => [segment.output, segment]));
  const fused = new Set<Segment>();
  const result: Segment[] = [];
  for (const segment of segments) {
    const under = segment.kind === 'window' && poolReadsInside(segment.window!) ? segment.window : undefined;
    if (segment.kind !== 'merge' && !under) {
      result.push(segment);
      continue;
    }
    const head = segment.nodes[0];
    const headRegion = regions.get(head.outputs[0])!;
    const computedArea = regionArea(under ? readInRegions(under.rows, under.cols, headRegion) : headRegion);
    const branches: SegmentBranch[] = [];
    const reads: SegmentRead[] = [];
    const feeds = new Set<string>();
    const read = (tensor: string, window?: WindowKind): SegmentRead => {
      const same = window ? undefined : reads.find((r) => r.tensor === tensor && !r.window);
      if (same) return same;
      const feed = feeds.has(tensor) ? `${tensor}__read${reads.length}` : tensor;
      feeds.add(feed);
      const made = { tensor, window, feed, via: window ? under : undefined };
      reads.push(made);
      return made;
    };
    for (const input of graph.activationInputs(head)) {
      const branch = producing.get(input);
      const ownArea = regionArea(regions.get(input)!);
      const fusible = branch !== undefined && branch.kind === 'window' && branch.branches.length === 0 && !fused.has(branch)
        && !needsOutputCorrection(kinds.get(branch.nodes[0])!)
        && (graph.consumers.get(input) ?? []).length === 1
        && !frontier.has(input) && graph.outputName !== input
        && computedArea <= MAX_BRANCH_GROWTH * ownArea
        && (under ? !capped(branch) : computedArea === ownArea || !capped(branch));
      if (!fusible) {
        if (under) break;
        read(input);
        continue;
      }
      fused.add(branch);
      branches.push({ nodes: branch.nodes, window: branch.window!, output: branch.output, read: read(branch.reads[0].tensor, branch.window) });
    }
    const made = branches.length ? { ...segment, reads, branches } : segment;
    producing.set(segment.output, made);
    result.push(made);
  }
  return result.filter((segment) => !fused.has(segment));
}

function fuseSegments(
  graph: ModelGraph, prefix: readonly GraphNode[], kinds: ReadonlyMap<GraphNode, LayerKind>, frontier: ReadonlySet<string>,
): Segment[] {
  const segmentOf = new Map<string, { nodes: GraphNode[]; head: GraphNode }>();
  const segments: { nodes: GraphNode[]; head: GraphNode }[] = [];
  for (const node of prefix) {
    const kind = kinds.get(node)!;
    const input = graph.activationInputs(node)[0];
    const open = segmentOf.get(input);
    // Point-wise nodes and 1x1 convolutions keep the region, so they can run inside the open segment.
    const absorb = (kind.kind === 'pointwise' || isIdentityWindow(kind)) && open !== undefined
      && !frontier.has(input)
      && (graph.consumers.get(input) ?? []).length === 1
      && graph.outputName !== input
      && !needsOutputCorrection(kinds.get(open.head)!);
    if (absorb) {
      open.nodes.push(node);
      segmentOf.delete(input);
      segmentOf.set(node.outputs[0], open);
    } else {
      const segment = { nodes: [node], head: node };
      segments.push(segment);
      segmentOf.set(node.outputs[0], segment);
    }
  }
  return segments.map(({ nodes, head }) => {
    const kind = kinds.get(head)!;
    const window = kind.kind === 'window' ? kind : undefined;
    const inputs = graph.activationInputs(head);
    const reads = window ? [{ tensor: inputs[0], window, feed: inputs[0] }] : [...new Set(inputs)].map((tensor) => ({ tensor, feed: tensor }));
    return {
      kind: kind.kind as Segment['kind'],
      nodes,
      reads,
      output: nodes[nodes.length - 1].outputs[0],
      window,
      branches: [],
    };
  });
}

/**
 * AveragePool over a crop divides by the full kernel area. The model's divisor differs near the
 * edges when padding does not count (count_include_pad = 0) or a ceil-mode window runs past the
 * padding; the operator then corrects the pool's own output.
 */
export function needsOutputCorrection(kind: LayerKind): boolean {
  if (kind.kind !== 'window' || kind.op !== 'AveragePool') return false;
  const { rows, cols } = kind;
  const padded = rows.padBegin + rows.padEnd + cols.padBegin + cols.padEnd > 0;
  const overhang = (axis: typeof rows) => (axis.outSize - 1) * axis.stride + axis.kernel > axis.inSize + axis.padBegin + axis.padEnd;
  return (padded && !kind.countIncludePad) || overhang(rows) || overhang(cols);
}

/** Height and width of the crop a segment reads of one input to produce its output region. */
export function cropSize(read: SegmentRead, outRegion: { readonly height: number; readonly width: number }): { height: number; width: number } {
  const { height, width } = cropRegions(read, uniformRegions(1, 0, 0, outRegion.height, outRegion.width));
  return { height, width };
}

/**
 * Floats one position moves and holds: each segment's input crops and output region, and the
 * frontier tensors copied in full for the tail. Sizes the batch and prices the copying.
 */
export function floatsPerPosition(plan: IncrementalPlan): { copied: number; held: number } {
  const { graph } = plan;
  let copied = 0;
  let held = 0;
  for (const segment of plan.segments) {
    const region = plan.regions.get(segment.output)!;
    const outChannels = graph.shapeOf(segment.output)![1];
    held += outChannels * region.height * region.width * segment.nodes.length;
    for (const branch of segment.branches) {
      const computed = plan.regions.get(branch.output)!;
      held += graph.shapeOf(branch.output)![1] * computed.height * computed.width * branch.nodes.length;
    }
    if (segment.kind === 'pointwise') continue;
    for (const read of segment.reads) {
      const crop = cropSize(read, region);
      const floats = graph.shapeOf(read.tensor)![1] * crop.height * crop.width;
      copied += floats;
      held += floats;
    }
  }
  for (const name of plan.frontier) {
    const floats = graph.shapeOf(name)!.slice(1).reduce((a, b) => a * b, 1);
    copied += floats;
    held += floats;
  }
  for (const node of plan.tail) {
    for (const output of node.outputs) {
      const shape = graph.shapeOf(output);
      if (shape) held += shape.slice(1).reduce((a, b) => a * b, 1);
    }
  }
  return { copied, held };
}
