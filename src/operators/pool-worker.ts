// A worker thread of the operator pool: the operators it holds, each with its latest image's run; requests in order.
import { parentPort } from 'node:worker_threads';
import { isKryptonError, messageOf } from '../errors.js';
import { modelFromPortable, type LoadedModel, type PortableModel } from '../model/load-model.js';
import { SessionCache } from '../model/session-cache.js';
import { cellCount } from '../model/occlusion-grid.js';
import { sessionsCreated, setThreadsPerSession } from '../model/session.js';
import { createLocalCellOperator } from './create-operator.js';
import type { CellOperator, ImageRun } from './occlusion-task.js';
import { MODELS_KEPT_BY_WORKER, type PoolReply, type PoolRequest, type PoolStarted } from './worker-pool.js';

interface Held {
  readonly operator: CellOperator;
  readonly model: LoadedModel;
  latest?: { readonly run: number; readonly image: ImageRun };
}

/** The operators of the pool's operators, by their ids; each keeps its latest image's run. */
const held = new Map<number, Held>();

/**
 * Models this worker has rebuilt, newest last, and their sessions: the next statement on a model
 * (a REPL's, a library session's) finds both here, as the loading thread finds its own.
 */
const models = new Map<number, LoadedModel>();
const sessions = new SessionCache();

async function modelOf(portable: PortableModel): Promise<LoadedModel> {
  let model = models.get(portable.id);
  if (model) {
    models.delete(portable.id);
  } else {
    model = modelFromPortable(portable);
    const inUse = new Set([...held.values()].map((h) => h.model));
    for (const [id, old] of models) {
      if (models.size < MODELS_KEPT_BY_WORKER) break;
      if (inUse.has(old)) continue;
      models.delete(id);
      await sessions.forget(old);
    }
  }
  models.set(portable.id, model);
  return model;
}

function holding(id: number): Held {
  const found = held.get(id);
  if (!found) throw new Error(`operator ${id} is not held by this worker`);
  return found;
}

function imageRun(id: number, run: number): ImageRun {
  const { latest } = holding(id);
  if (!latest || latest.run !== run) throw new Error(`image run ${run} is no longer held by this worker`);
  return latest.image;
}

async function handle(message: PoolRequest): Promise<unknown> {
  switch (message.type) {
    case 'init': {
      setThreadsPerSession(message.threads);
      const model = await modelOf(message.model);
      const before = sessionsCreated();
      const operator = await createLocalCellOperator(message.spec, model, message.grid, sessions);
      held.set(message.operator, { operator, model });
      const started: PoolStarted = { strategy: operator.strategy, sessionsMade: sessionsCreated() - before };
      return started;
    }
    case 'prepare': {
      const entry = holding(message.operator);
      entry.latest = undefined;
      const { input, patchValues, target, batchSize, batchLimit } = message;
      const image = await entry.operator.prepare({ input, patchValues, target, batchSize, batchLimit });
      entry.latest = { run: message.run, image };
      return { classIndex: image.classIndex, baseProbability: image.baseProbability, batchSize: image.batchSize };
    }
    case 'batches':
      return imageRun(message.operator, message.run).batchesOf(message.cells);
    case 'evaluate': {
      const values = new Float32Array(cellCount(holding(message.operator).operator.grid));
      await imageRun(message.operator, message.run).evaluate(message.cells, values);
      return Float32Array.from(message.cells, (cell) => values[cell]);
    }
    case 'release': {
      const entry = held.get(message.operator);
      held.delete(message.operator);
      await entry?.operator.release();
      return undefined;
    }
  }
}

// Requests are handled one at a time, in the order they came: onnxruntime runs block this thread anyway.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', ({ id, message }: { id: number; message: PoolRequest }) => {
  queue = queue.then(async () => {
    let reply: PoolReply;
    try {
      reply = { id, ok: true, value: await handle(message) };
    } catch (error) {
      reply = { id, ok: false, message: messageOf(error), code: isKryptonError(error) ? error.code : undefined };
    }
    parentPort!.postMessage(reply);
  });
});
