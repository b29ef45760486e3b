import type { LoadedModel } from '../model/load-model.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import { cellCount, patchCorners } from '../model/occlusion-grid.js';
import type { IncrementalPlan, IncrementalPlanOptions, Segment } from '../model/incremental-plan.js';
import { cropRegions, floatsPerPosition, needsOutputCorrection, planIncremental, regionsForPositions } from '../model/incremental-plan.js';
import type { RegionSet } from '../model/regions.js';
import { readInSpan, selectPositions, uniformRegions } from '../model/regions.js';
import { createSession, float32Tensor, type Session, type SessionMemory } from '../model/session.js';
import type { SessionCache } from '../model/session-cache.js';
import { segmentModel, singleNodeModel, tailModel } from '../model/submodels.js';
import { cleanProbabilities, probabilityOfClass } from './class-probability.js';
import type { CropGeometry, TensorSize } from './crops.js';
import { cropIsChangedRegion, expandToFull, gatherCrops, patchTensor, toChannelsLast } from './crops.js';
import type { CellOperator, Heatmap, ImageRun, OcclusionTask } from './occlusion-task.js';
import { checkInterrupted, chooseBatchSize, resolveClass, runAllCells } from './occlusion-task.js';

/** Segments are many and small, each run a few times: one shared heap serves them better than an arena each. */
const SEGMENT_MEMORY: SessionMemory = { arena: false };
/** The tail is one session running full-size tensors batch after batch, as a whole model does. */
const TAIL_MEMORY: SessionMemory = { arena: true };

interface PreparedSegment {
  readonly segment: Segment;
  readonly session: Session;
  /** Per output position of an AveragePool: the model's divisor relative to the crop's. */
  readonly correction?: Float32Array;
}

/** Positions (heatmap cell indices) run together, and the regions they share. */
interface Batch {
  readonly positions: Int32Array;
  readonly regions: ReadonlyMap<string, RegionSet>;
}

/** Changed data of the current batch, by tensor name, with the region it covers. */
type ChangedTensors = Map<string, { data: Float32Array; region: RegionSet }>;

/** One image's run: its clean activations and the crop and frontier buffers its batches reuse. */
interface RunState {
  readonly clean: ReadonlyMap<string, Float32Array>;
  /** Allocating these per batch costs as much as filling them, so a run keeps them. */
  readonly workspace: Map<string, Float32Array>;
}

/**
 * Incremental inference: the clean image's activations are computed once; then, for each batch of
 * patch positions, every layer recomputes only its changed region from crops of the clean
 * activations with the changed input pasted in, and the model's tail runs in full from where the
 * change has spread too wide. With the plan's threshold τ = 1 it is exact (same heatmap as
 * NaiveOcclusion, far fewer operations); τ < 1 caps every window layer's changed region, which
 * is the propagation threshold's approximation.
 */
export class IncrementalOcclusion implements CellOperator {
  readonly strategy: 'incremental' | 'threshold';

  /** Per cell, the region sizes of every prefix layer: cells with equal signatures batch together. */
  private signatures?: readonly string[];
  /** The whole grid's batches depend on the grid only, so every image of a query reuses them. */
  private readonly gridBatches = new Map<number, Batch[]>();

  private constructor(
    readonly model: LoadedModel,
    readonly grid: OcclusionGrid,
    readonly plan: IncrementalPlan,
    private readonly segments: readonly PreparedSegment[],
    private readonly tail: Session | undefined,
    /** False when the sessions are a cache's, which outlives this operator. */
    private readonly ownsSessions: boolean,
  ) {
    this.strategy = plan.options.threshold < 1 ? 'threshold' : 'incremental';
  }

  /** With `sessions`, the sessions come from (and stay in) that cache; otherwise the operator makes and releases its own. */
  static async create(
    model: LoadedModel, grid: OcclusionGrid, options: IncrementalPlanOptions = {}, sessions?: SessionCache,
  ): Promise<IncrementalOcclusion> {
    const corners = patchCorners(grid);
    const patchRegions: RegionSet = { height: grid.patchHeight, width: grid.patchWidth, tops: corners.tops, lefts: corners.lefts };
    const plan = planIncremental(model.graph, patchRegions, options);
    const ids = (nodes: readonly { id: number }[]) => nodes.map((node) => node.id).join(',');
    const open = (key: string, build: () => ReturnType<typeof segmentModel>, memory: SessionMemory) => (
      sessions ? sessions.session(model, key, build, memory) : createSession(build(), memory));
    const made: Session[] = [];
    const segments: PreparedSegment[] = [];
    try {
      for (const segment of plan.segments) {
        const session = await open(`segment ${segment.kind} ${ids([...segment.branches.flatMap((branch) => branch.nodes), ...segment.nodes])}`, () => segmentModel(model.graph, segment), SEGMENT_MEMORY);
        made.push(session);
        const head = plan.kinds.get(segment.nodes[0])!;
        const correction = needsOutputCorrection(head) ? await averagePoolCorrection(model, segment, sessions) : undefined;
        segments.push({ segment, session, correction });
      }
      const tail = plan.tail.length ? await open(`tail ${ids(plan.tail)} from ${plan.frontier.join(',')}`, () => tailModel(model.graph, plan.tail, plan.frontier), TAIL_MEMORY) : undefined;
      return new IncrementalOcclusion(model, grid, plan, segments, tail, !sessions);
    } catch (error) {
      if (!sessions) for (const session of made) await session.release();
      throw error;
    }
  }

  private sizeOf(tensor: string): TensorSize {
    const [, channels, height, width] = this.model.graph.shapeOf(tensor)!;
    return { channels, height, width };
  }

  bytesPerPosition(): number {
    return floatsPerPosition(this.plan).held * 4;
  }

  run(task: OcclusionTask): Promise<Heatmap> {
    return runAllCells(this, task);
  }

  async prepare(task: OcclusionTask): Promise<ImageRun> {
    const state: RunState = { clean: await this.materialise(task.input), workspace: new Map() };
    const cleanOutput = await this.runTail(new Map(this.plan.frontier.map((name) => [name, state.clean.get(name)!])), 1);
    const probabilities = cleanProbabilities(cleanOutput, this.model);
    const classIndex = resolveClass(task.target, probabilities);
    const total = cellCount(this.grid);
    const batchSize = this.model.batchable || !this.tail ? chooseBatchSize(this.bytesPerPosition(), total, task.batchSize, task.batchLimit) : 1;
    return {
      classIndex,
      baseProbability: probabilities[classIndex],
      batchSize,
      evaluate: (cells, values, onProgress) => this.evaluate(task, state, classIndex, batchSize, cells, values, onProgress),
      batchesOf: async (cells) => this.batches(cells, batchSize).map((batch) => batch.positions),
    };
  }

  private async evaluate(
    task: OcclusionTask, state: RunState, classIndex: number, batchSize: number,
    cells: Int32Array, values: Float32Array, onProgress?: (done: number) => void,
  ): Promise<void> {
    const { output } = this.model;
    const probabilities = new Float32Array(batchSize);
    let done = 0;
    for (const batch of this.batches(cells, batchSize)) {
      checkInterrupted(task.signal);
      const count = batch.positions.length;
      const changed: ChangedTensors = new Map();
      const inputRegion = batch.regions.get(this.model.input.name)!;
      changed.set(this.model.input.name, { data: patchTensor(task.patchValues, count, inputRegion.height, inputRegion.width), region: inputRegion });
      for (const prepared of this.segments) {
        const region = batch.regions.get(prepared.segment.output)!;
        changed.set(prepared.segment.output, { data: await this.runSegment(prepared, state.clean, changed, region, state.workspace), region });
      }
      const result = await this.runTail(this.changedFrontier(state, changed, count), count);
      probabilityOfClass(result, output.classes, count, classIndex, output.activation, probabilities, 0);
      for (let i = 0; i < count; i++) values[batch.positions[i]] = probabilities[i];
      done += count;
      onProgress?.(done);
    }
  }

  private cellSignatures(): readonly string[] {
    if (this.signatures) return this.signatures;
    const all = this.plan.regions.get(this.model.input.name)!;
    const signatures: string[] = [];
    for (let p = 0; p < all.tops.length; p++) {
      const one = regionsForPositions(this.plan, selectPositions(all, p, 1));
      signatures.push(this.plan.prefix.map((node) => { const r = one.get(node.outputs[0])!; return `${r.height}x${r.width}`; }).join(' '));
    }
    this.signatures = signatures;
    return signatures;
  }

  /**
   * The cells in batches, each with regions of its own. Cells whose regions have the same sizes at
   * every layer go together, so a batch near a border or with a favourable alignment to the
   * strides computes smaller regions than the plan's, which serve every position.
   */
  private batches(cells: Int32Array, batchSize: number): Batch[] {
    const whole = cells.length === cellCount(this.grid) && cells.every((cell, i) => cell === i);
    const cached = whole ? this.gridBatches.get(batchSize) : undefined;
    if (cached) return cached;
    const signatures = this.cellSignatures();
    const order = Array.from(cells).sort((a, b) => (signatures[a] < signatures[b] ? -1 : signatures[a] > signatures[b] ? 1 : a - b));
    const all = this.plan.regions.get(this.model.input.name)!;
    const batches: Batch[] = [];
    for (let first = 0; first < order.length; first += batchSize) {
      const positions = Int32Array.from(order.slice(first, first + batchSize));
      const patch: RegionSet = {
        height: all.height,
        width: all.width,
        tops: positions.map((p) => all.tops[p]),
        lefts: positions.map((p) => all.lefts[p]),
      };
      batches.push({ positions, regions: regionsForPositions(this.plan, patch) });
    }
    if (whole) this.gridBatches.set(batchSize, batches);
    return batches;
  }

  /** Regions covering whole tensors, for the clean pass. */
  private fullRegions(count: number): Map<string, RegionSet> {
    const regions = new Map<string, RegionSet>();
    for (const name of this.plan.regions.keys()) {
      const { height, width } = this.sizeOf(name);
      regions.set(name, uniformRegions(count, 0, 0, height, width));
    }
    return regions;
  }

  /** Runs the prefix on the clean image, keeping the activations later batches read. */
  private async materialise(input: Float32Array): Promise<Map<string, Float32Array>> {
    const regions = this.fullRegions(1);
    const channelsLast = toChannelsLast(input, this.sizeOf(this.model.input.name));
    const full: ChangedTensors = new Map([[this.model.input.name, { data: channelsLast, region: regions.get(this.model.input.name)! }]]);
    const noClean = new Map<string, Float32Array>();
    for (const prepared of this.segments) {
      const region = regions.get(prepared.segment.output)!;
      full.set(prepared.segment.output, { data: await this.runSegment(prepared, noClean, full, region), region });
    }
    const clean = new Map<string, Float32Array>();
    for (const name of this.plan.materialised) clean.set(name, full.get(name)!.data);
    return clean;
  }

  private async runSegment(
    prepared: PreparedSegment, clean: ReadonlyMap<string, Float32Array>, changed: ChangedTensors, outRegion: RegionSet,
    workspace?: Map<string, Float32Array>,
  ): Promise<Float32Array> {
    const { segment } = prepared;
    const count = outRegion.tops.length;
    const feeds: Record<string, ReturnType<typeof float32Tensor>> = {};
    for (const [index, read] of segment.reads.entries()) {
      const size = this.sizeOf(read.tensor);
      const given = changed.get(read.tensor)!;
      if (segment.kind === 'pointwise') {
        feeds[read.feed] = float32Tensor(given.data, [count, given.region.height, given.region.width, size.channels]);
        continue;
      }
      const crop: CropGeometry = cropRegions(read, outRegion);
      const base = clean.get(read.tensor);
      const padValue = read.window?.padValue ?? 0;
      // A crop is read only by this segment's run, so every segment gathers into the same buffers:
      // one per input, each the size of the largest crop, rather than one per layer, every page of
      // which the kernel would zero on first touch.
      const into = workspace ? buffer(workspace, `crop of input ${index}`, count * size.channels * crop.height * crop.width) : undefined;
      const data = cropIsChangedRegion(crop, given.region)
        ? given.data
        : base
          ? gatherCrops(base, size, given, crop, padValue, into)
          : gatherCrops(given.data, size, undefined, crop, padValue, into);
      feeds[read.feed] = float32Tensor(data, [count, crop.height, crop.width, size.channels]);
    }
    const result = await prepared.session.run(feeds);
    const data = result[segment.output].data as Float32Array;
    if (prepared.correction) this.applyCorrection(data, prepared.correction, segment.output, outRegion);
    return data;
  }

  private applyCorrection(data: Float32Array, correction: Float32Array, tensor: string, region: RegionSet): void {
    const { channels: C, width: W } = this.sizeOf(tensor);
    const { height: h, width: w } = region;
    for (let b = 0; b < region.tops.length; b++) {
      for (let r = 0; r < h; r++) {
        const row = (region.tops[b] + r) * W + region.lefts[b];
        for (let x = 0; x < w; x++) {
          const factor = correction[row + x];
          const base = ((b * h + r) * w + x) * C;
          for (let c = 0; c < C; c++) data[base + c] *= factor;
        }
      }
    }
  }

  /** Frontier tensors in full for a batch: the clean activation with each position's change pasted in. */
  private changedFrontier(state: RunState, changed: ChangedTensors, count: number): Map<string, Float32Array> {
    const frontier = new Map<string, Float32Array>();
    for (const name of this.plan.frontier) {
      const size = this.sizeOf(name);
      const into = buffer(state.workspace, `frontier ${name}`, count * size.channels * size.height * size.width);
      frontier.set(name, expandToFull(state.clean.get(name)!, size, changed.get(name)!, into));
    }
    return frontier;
  }

  private async runTail(frontier: Map<string, Float32Array>, count: number): Promise<Float32Array> {
    const outputName = this.model.output.name;
    if (!this.tail) return frontier.get(outputName)!;
    const feeds: Record<string, ReturnType<typeof float32Tensor>> = {};
    for (const name of this.tail.inputNames) {
      const [, channels, height, width] = this.model.graph.shapeOf(name)!;
      feeds[name] = float32Tensor(frontier.get(name)!, [count, height, width, channels]);
    }
    if (count > 1 && !this.model.batchable) return this.runTailOneByOne(feeds, count);
    const result = await this.tail.run(feeds, [outputName]);
    return result[outputName].data as Float32Array;
  }

  /** For graphs with a batch size of 1 baked into the tail. */
  private async runTailOneByOne(feeds: Record<string, ReturnType<typeof float32Tensor>>, count: number): Promise<Float32Array> {
    const outputName = this.model.output.name;
    const parts: Float32Array[] = [];
    for (let b = 0; b < count; b++) {
      const single: Record<string, ReturnType<typeof float32Tensor>> = {};
      for (const [name, tensor] of Object.entries(feeds)) {
        const per = (tensor.data as Float32Array).length / count;
        single[name] = float32Tensor((tensor.data as Float32Array).subarray(b * per, (b + 1) * per), [1, ...tensor.dims.slice(1)]);
      }
      parts.push((await this.tail!.run(single, [outputName]))[outputName].data as Float32Array);
    }
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) { out.set(part, offset); offset += part.length; }
    return out;
  }

  async release(): Promise<void> {
    if (!this.ownsSessions) return;
    for (const { session } of this.segments) await session.release();
    await this.tail?.release();
  }
}

function buffer(workspace: Map<string, Float32Array>, key: string, length: number): Float32Array {
  let found = workspace.get(key);
  if (!found || found.length < length) {
    // Grown by half at least, so that crops growing layer by layer reallocate a few times, not at every layer.
    found = new Float32Array(Math.max(length, Math.ceil((found?.length ?? 0) * 1.5)));
    workspace.set(key, found);
  }
  return found;
}

/**
 * The crop version of an AveragePool divides every window by the kernel area; the model's own
 * divisor near the edges depends on count_include_pad and ceil_mode, as onnxruntime implements
 * them. Running the node once on ones gives count/divisor per output; the crop gives
 * count/kernelArea; their ratio corrects the crop's result exactly.
 */
async function averagePoolCorrection(model: LoadedModel, segment: Segment, sessions?: SessionCache): Promise<Float32Array> {
  const node = segment.nodes[0];
  const window = segment.window!;
  const { rows, cols } = window;
  const build = () => singleNodeModel(model.graph, node);
  const session = await (sessions ? sessions.session(model, `node ${node.id}`, build) : createSession(build()));
  try {
    const ones = new Float32Array(rows.inSize * cols.inSize).fill(1);
    const result = await session.run({ [node.inputs[0]]: float32Tensor(ones, [1, 1, rows.inSize, cols.inSize]) });
    const pooled = result[node.outputs[0]].data as Float32Array;
    const area = rows.kernel * cols.kernel;
    const inside = (axis: typeof rows, o: number) => {
      const window = readInSpan(axis, { start: o, size: 1 });
      return Math.max(0, Math.min(window.start + window.size, axis.inSize) - Math.max(window.start, 0));
    };
    const correction = new Float32Array(rows.outSize * cols.outSize);
    for (let i = 0; i < rows.outSize; i++) {
      for (let j = 0; j < cols.outSize; j++) {
        const count = inside(rows, i) * inside(cols, j);
        correction[i * cols.outSize + j] = count > 0 ? (pooled[i * cols.outSize + j] * area) / count : 1;
      }
    }
    return correction;
  } finally {
    if (!sessions) await session.release();
  }
}
