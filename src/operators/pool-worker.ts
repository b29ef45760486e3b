// A worker thread of the operator pool: the operators it holds, each with its latest image's run; requests in order.
import { parentPort } from 'node:worker_threads';
import { isKryptonError, messageOf } from '../errors.js';
import { modelFromPortable } from '../model/load-model.js';
import { cellCount } from '../model/occlusion-grid.js';
import { setThreadsPerSession } from '../model/session.js';
import { createLocalCellOperator } from './create-operator.js';
import type { CellOperator, ImageRun } from './occlusion-task.js';
import type { PoolReply, PoolRequest } from './worker-pool.js';

interface Held {
  readonly operator: CellOperator;
  latest?: { readonly run: number; readonly image: ImageRun };
}

/** The operators of the pool's operators, by their ids; each keeps its latest image's run. */
const held = new Map<number, Held>();

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
      const operator = await createLocalCellOperator(message.spec, modelFromPortable(message.model), message.grid);
      held.set(message.operator, { operator });
      return operator.strategy;
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
