import { availableParallelism, freemem } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { KryptonError, type KryptonErrorCode } from '../errors.js';
import { costModel } from '../model/cost-model.js';
import type { LoadedModel, PortableModel } from '../model/load-model.js';
import { portableIdOf, portableModel } from '../model/load-model.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import { cellCount } from '../model/occlusion-grid.js';
import { holdMapped } from '../model/weight-files.js';
import type { CellOperatorSpec } from './create-operator.js';
import type { CellOperator, Heatmap, ImageRun, OcclusionTask, TargetClass } from './occlusion-task.js';
import { batchMemoryBudget, checkInterrupted, runAllCells } from './occlusion-task.js';

/**
 * Whether workers pay: they give about a fifth of the work's time back, and cost their start
 * (the weights copied, decoded and made into sessions in each) first. Measured on a 2-core
 * machine: 1.2–1.3× the throughput (less where two onnxruntime threads already help, as on
 * VGG16), and VGG16's 553 MB of weights took 3–4 s more to start.
 */
const POOL_GAIN = 0.2;
const NOMINAL_MACS_PER_SECOND = 1e11;
const START_SECONDS = 0.4;
const START_SECONDS_PER_WEIGHT_BYTE = 8e-9;
const MAX_WORKERS = 4;
/**
 * Workers share out batches better when there are more of them: ResNet18 exact over 729 cells
 * on two workers took 5.9–6.3 s at batch 16 and 6.8–7.7 s at 64 (64 is best in one thread).
 */
const POOLED_BATCH_LIMIT = 16;
/** Models a worker keeps with their sessions, for the statements that follow (pool-worker.ts). */
export const MODELS_KEPT_BY_WORKER = 2;

/** What a worker is asked to do, for one of the operators it holds; every request gets one reply with the same id. */
export type PoolRequest = { readonly operator: number } & (
  | { readonly type: 'init'; readonly model: PortableModel; readonly spec: CellOperatorSpec; readonly grid: OcclusionGrid; readonly threads: number }
  | {
      readonly type: 'prepare'; readonly run: number; readonly input: Float32Array; readonly patchValues: Float32Array;
      readonly target: TargetClass; readonly batchSize?: number; readonly batchLimit: number;
    }
  | { readonly type: 'batches'; readonly run: number; readonly cells: Int32Array }
  | { readonly type: 'evaluate'; readonly run: number; readonly cells: Int32Array }
  | { readonly type: 'release' }
);

/** A worker's answer to 'init': the operator's strategy, and the sessions it had to make for it (none when it holds them from before). */
export interface PoolStarted {
  readonly strategy: string;
  readonly sessionsMade: number;
}

export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: KryptonErrorCode };

/**
 * The worker count an operator should run with: 0 or 1 for none (in this thread). The
 * environment variable KRYPTON_WORKERS, when set, decides instead (0 keeps every operator here).
 */
export function poolSize(model: LoadedModel, grid: OcclusionGrid, spec: CellOperatorSpec): number {
  const forced = process.env.KRYPTON_WORKERS;
  if (forced !== undefined && forced !== '') {
    const count = Number(forced);
    if (!Number.isInteger(count) || count < 0) throw new KryptonError(`KRYPTON_WORKERS must be a whole number of workers, got '${forced}'`);
    return count;
  }
  const cores = availableParallelism();
  if (cores < 2) return 0;
  const cost = costModel(model.graph, { width: grid.patchWidth, height: grid.patchHeight });
  const macs = (spec.kind === 'naive' ? cost.totalFullMacs : cost.totalIncrementalMacs) * cellCount(grid);
  const gain = (POOL_GAIN * macs) / NOMINAL_MACS_PER_SECOND;
  const weights = weightBytes(model);
  // Workers that ran this model before hold it and its sessions: they start at once.
  const id = portableIdOf(model);
  const held = id !== undefined && threads.length >= Math.min(cores, MAX_WORKERS) && threads.every((t) => !t.failure && t.has(id));
  if (gain <= START_SECONDS + (held ? 0 : START_SECONDS_PER_WEIGHT_BYTE * weights)) return 0;
  // Each worker holds its own sessions: about three copies of the weights, and a batch.
  const perWorker = 3 * weights + batchMemoryBudget();
  return Math.max(0, Math.min(cores, MAX_WORKERS, Math.floor(freemem() / 2 / perWorker)));
}

function weightBytes(model: LoadedModel): number {
  let bytes = 0;
  for (const tensor of model.graph.initializers.values()) bytes += tensor.rawData?.length ?? 4 * (tensor.floatData?.length ?? 0);
  return bytes;
}

/**
 * One worker thread and its requests in flight. Threads are shared by every pooled operator of
 * the process and outlive them (a REPL's next statement finds them started); an idle thread does
 * not keep the process alive.
 */
/** Set by whatever loads the TypeScript sources directly (the tests' hook): a worker must load them the same way. */
const TYPESCRIPT_HOOK = 'KRYPTON_TYPESCRIPT_HOOK';

function sourceHook(entry: string): string[] {
  if (!entry.endsWith('.ts')) return [];
  const hook = process.env[TYPESCRIPT_HOOK];
  if (!hook) throw new Error(`worker threads need the built code (dist/) or ${TYPESCRIPT_HOOK} naming a module that compiles the sources`);
  return ['--require', hook];
}

class PoolWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  /** The models (portable ids) this worker was last given, newest last, as many as it keeps. */
  private readonly recent: number[] = [];
  failure?: Error;

  holds(model: number): void {
    const at = this.recent.indexOf(model);
    if (at >= 0) this.recent.splice(at, 1);
    this.recent.push(model);
    if (this.recent.length > MODELS_KEPT_BY_WORKER) this.recent.shift();
  }

  /** Whether the worker has this model and (for grids and strategies it ran) its sessions. */
  has(model: number): boolean {
    return this.recent.includes(model);
  }

  constructor() {
    const entry = join(__dirname, `pool-worker${extname(__filename)}`);
    this.worker = new Worker(entry, { execArgv: sourceHook(entry) });
    this.worker.unref();
    this.worker.on('message', (reply: PoolReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(new KryptonError(reply.message, reply.code));
    });
    const fail = (error: Error) => {
      this.failure = new KryptonError(`an occlusion worker stopped: ${error.message}`, 'model');
      for (const waiting of this.pending.values()) waiting.reject(this.failure);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  request<T>(message: PoolRequest): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, message });
    });
  }
}

const threads: PoolWorker[] = [];
let nextOperator = 0;

/** `count` running worker threads, started where there are fewer (or one has failed). */
function sharedWorkers(count: number): PoolWorker[] {
  for (let i = 0; i < threads.length; i++) if (threads[i].failure) threads[i] = new PoolWorker();
  while (threads.length < count) threads.push(new PoolWorker());
  return threads.slice(0, count);
}

interface PreparedRun {
  readonly classIndex: number;
  readonly baseProbability: number;
  readonly batchSize: number;
}

/**
 * A cell operator computed by worker threads, each with its own copy of the same operator and one
 * onnxruntime thread: two batches in flight keep two cores busier than one batch on two threads
 * (measured: ResNet18 exact 1.23× the positions per second). Every worker does the image's clean
 * pass; batches are the operator's own, handed to whichever worker is free, so the heatmap is the
 * one the operator computes alone. A worker keeps the state of the latest image only: images of a
 * query run one after the other.
 */
export class PooledCellOperator implements CellOperator {
  private nextRun = 0;

  private constructor(
    readonly strategy: string,
    readonly grid: OcclusionGrid,
    private readonly workers: readonly PoolWorker[],
    private readonly id: number,
    /** Sessions the workers made for this operator, all together: 0 when they held them all from an earlier one. */
    readonly sessionsMade: number,
    /** Unmarks the model file as mapped (the workers' sessions may map it), at release. */
    private readonly letGoOfFile: () => void,
  ) {}

  static async create(spec: CellOperatorSpec, model: LoadedModel, grid: OcclusionGrid, count: number): Promise<PooledCellOperator> {
    const workers = sharedWorkers(count);
    const operator = nextOperator++;
    const portable = portableModel(model);
    const threads = Math.max(1, Math.floor(availableParallelism() / count));
    const created = await Promise.allSettled(workers.map((w) => w.request<PoolStarted>({ type: 'init', operator, model: portable, spec, grid, threads })));
    const failed = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) {
      await Promise.allSettled(workers.map((w) => w.request({ type: 'release', operator })));
      throw failed.reason;
    }
    const started = created.map((c) => (c as PromiseFulfilledResult<PoolStarted>).value);
    for (const worker of workers) worker.holds(portable.id);
    // Results stored from the workers' heatmaps are checked against a change of the file they may map.
    const letGo = portable.fileWeights ? holdMapped([portable.fileWeights]) : () => undefined;
    return new PooledCellOperator(started[0].strategy, grid, workers, operator, started.reduce((sum, s) => sum + s.sessionsMade, 0), letGo);
  }

  run(task: OcclusionTask): Promise<Heatmap> {
    return runAllCells(this, task);
  }

  async prepare(task: OcclusionTask): Promise<ImageRun> {
    checkInterrupted(task.signal);
    const run = this.nextRun++;
    const operator = this.id;
    const request = {
      type: 'prepare' as const, operator, run, input: task.input, patchValues: task.patchValues, target: task.target,
      batchSize: task.batchSize, batchLimit: Math.min(task.batchLimit ?? POOLED_BATCH_LIMIT, POOLED_BATCH_LIMIT),
    };
    const [first] = await Promise.all(this.workers.map((w) => w.request<PreparedRun>(request)));
    const batchesOf = (cells: Int32Array) => this.workers[0].request<Int32Array[]>({ type: 'batches', operator, run, cells });
    const evaluate = async (cells: Int32Array, values: Float32Array, onProgress?: (done: number) => void) => {
      const queue = await batchesOf(cells);
      let next = 0;
      let done = 0;
      // Once one worker fails or the caller stops, the others hand out nothing more.
      let stopped = false;
      const drain = async (worker: PoolWorker) => {
        try {
          while (next < queue.length && !stopped) {
            checkInterrupted(task.signal);
            const group = queue[next++];
            const computed = await worker.request<Float32Array>({ type: 'evaluate', operator, run, cells: group });
            if (stopped) return;
            for (let i = 0; i < group.length; i++) values[group[i]] = computed[i];
            done += group.length;
            onProgress?.(done);
          }
        } catch (error) {
          stopped = true;
          throw error;
        }
      };
      await Promise.all(this.workers.map(drain));
    };
    return { ...first, evaluate, batchesOf };
  }

  async release(): Promise<void> {
    this.letGoOfFile();
    const released = await Promise.allSettled(this.workers.map((w) => w.request({ type: 'release', operator: this.id })));
    const failed = released.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !this.workers.some((w) => w.failure)) throw failed.reason;
  }
}
