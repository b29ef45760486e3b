import type { LoadedModel } from '../model/load-model.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import { cellCount, patchCorners } from '../model/occlusion-grid.js';
import { createSession, float32Tensor, type Session } from '../model/session.js';
import type { SessionCache } from '../model/session-cache.js';
import { pastePatch } from '../image/patch-color.js';
import { cleanProbabilities, probabilityOfClass } from './class-probability.js';
import type { CellOperator, Heatmap, ImageRun, OcclusionTask } from './occlusion-task.js';
import { checkInterrupted, chooseBatchSize, resolveClass, runAllCells } from './occlusion-task.js';

/**
 * The baseline: occluded copies of the image, batched, through the whole model. Every fast path is
 * tested against it.
 */
export class NaiveOcclusion implements CellOperator {
  readonly strategy = 'naive';
  private readonly corners: { tops: Int32Array; lefts: Int32Array };

  private constructor(
    readonly model: LoadedModel, readonly grid: OcclusionGrid, private readonly session: Session,
    /** False when the session is a cache's, which outlives this operator. */
    private readonly ownsSession: boolean,
  ) {
    this.corners = patchCorners(grid);
  }

  /** With `sessions`, the session comes from (and stays in) that cache; otherwise the operator makes and releases its own. */
  static async create(model: LoadedModel, grid: OcclusionGrid, sessions?: SessionCache): Promise<NaiveOcclusion> {
    // The loaded proto itself: its weights reach onnxruntime as they are, not encoded into bytes first.
    const build = () => model.graph.model;
    const session = await (sessions ? sessions.session(model, 'full', build) : createSession(build()));
    return new NaiveOcclusion(model, grid, session, !sessions);
  }

  /** Memory of one image through the whole model: every activation, an upper bound. */
  bytesPerPosition(): number {
    let floats = 0;
    for (const [name, shape] of this.model.graph.shapes) if (!this.model.graph.isConstant(name)) floats += shape.reduce((a, b) => a * b, 1);
    return floats * 4;
  }

  run(task: OcclusionTask): Promise<Heatmap> {
    return runAllCells(this, task);
  }

  async prepare(task: OcclusionTask): Promise<ImageRun> {
    const clean = await this.infer(task.input, 1);
    const probabilities = cleanProbabilities(clean, this.model);
    const classIndex = resolveClass(task.target, probabilities);
    const batchSize = this.model.batchable ? chooseBatchSize(this.bytesPerPosition(), cellCount(this.grid), task.batchSize, task.batchLimit) : 1;
    return {
      classIndex,
      baseProbability: probabilities[classIndex],
      batchSize,
      evaluate: (cells, values, onProgress) => this.evaluate(task, classIndex, batchSize, cells, values, onProgress),
      batchesOf: async (cells) => batchesOf(cells, batchSize),
    };
  }

  private async evaluate(
    task: OcclusionTask, classIndex: number, batchSize: number, cells: Int32Array, values: Float32Array, onProgress?: (done: number) => void,
  ): Promise<void> {
    const { input: modelInput, output } = this.model;
    const size = { channelCount: modelInput.channels, height: modelInput.height, width: modelInput.width };
    const { tops, lefts } = this.corners;
    const per = size.channelCount * size.height * size.width;
    const probabilities = new Float32Array(batchSize);
    let done = 0;
    for (const group of batchesOf(cells, batchSize)) {
      checkInterrupted(task.signal);
      const count = group.length;
      const batch = new Float32Array(count * per);
      for (let b = 0; b < count; b++) {
        const cell = group[b];
        batch.set(task.input, b * per);
        const patch = { x: lefts[cell], y: tops[cell], width: this.grid.patchWidth, height: this.grid.patchHeight };
        pastePatch(batch.subarray(b * per, (b + 1) * per), size, task.patchValues, patch);
      }
      const result = await this.infer(batch, count);
      probabilityOfClass(result, output.classes, count, classIndex, output.activation, probabilities, 0);
      for (let b = 0; b < count; b++) values[group[b]] = probabilities[b];
      done += count;
      onProgress?.(done);
    }
  }

  private async infer(data: Float32Array, count: number): Promise<Float32Array> {
    const { input, output } = this.model;
    const feeds = { [input.name]: float32Tensor(data, [count, input.channels, input.height, input.width]) };
    const result = await this.session.run(feeds, [output.name]);
    return result[output.name].data as Float32Array;
  }

  async release(): Promise<void> {
    if (this.ownsSession) await this.session.release();
  }
}

/** Naive batches are the cells in their order, batchSize at a time. */
function batchesOf(cells: Int32Array, batchSize: number): Int32Array[] {
  return Array.from({ length: Math.ceil(cells.length / batchSize) }, (_, i) => cells.slice(i * batchSize, (i + 1) * batchSize));
}
