import { availableParallelism } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { isKryptonError, messageOf } from '../errors.js';
import { imageLabel } from '../executor/image-source.js';
import { setThreadsPerSession } from '../model/session.js';
import { OCCLUSION_QUEUE, type OcclusionJobData, type OcclusionJobResult } from './occlusion-job.js';
import { millisecondsFromEnvironment, probeRedis, redisConnection, shownUrl, unreachable } from './occlusion-queue.js';
import { runOcclusionJob, WarmOperators } from './run-occlusion-job.js';

/**
 * How long a job's lock lasts without renewal, and how often workers look for jobs whose worker
 * died (BullMQ's stalled-job check): a job of a killed worker goes back to the queue within about
 * the two together. KRYPTON_WORKER_LOCK_MS and KRYPTON_WORKER_STALLED_MS change them.
 */
export const DEFAULT_LOCK_MS = 30_000;
export const DEFAULT_STALLED_MS = 30_000;
/** A job may lose its worker this many times before it is failed. */
const MAX_STALLED = 2;

export interface WorkerOptions {
  readonly url: string;
  /** Jobs at once in this process. */
  readonly concurrency: number;
  /** Told of each job as it starts, finishes or fails. */
  readonly onJob?: (event: JobEvent) => void;
}

export interface JobEvent {
  readonly kind: 'started' | 'done' | 'failed';
  readonly image: string;
  readonly detail?: string;
}

export interface RunningWorker {
  /** Finishes the jobs under way, then disconnects and releases the models. */
  close(): Promise<void>;
}

/** Starts a BullMQ worker on the occlusion queue; resolves once it is connected. */
export async function startOcclusionWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { concurrency } = options;
  const connection = redisConnection(options.url, { reconnect: true });
  // Reconnecting, the worker's own connections would wait for an unreachable Redis for ever.
  await probeRedis(options.url);
  // Jobs running side by side share the cores instead of each spinning a thread per core.
  setThreadsPerSession(Math.max(1, Math.floor(availableParallelism() / concurrency)));
  const warm = new WarmOperators();
  const worker = new Worker<OcclusionJobData, OcclusionJobResult>(OCCLUSION_QUEUE, (job) => processJob(job, warm), {
    connection,
    concurrency,
    autorun: false,
    lockDuration: millisecondsFromEnvironment('KRYPTON_WORKER_LOCK_MS', DEFAULT_LOCK_MS),
    stalledInterval: millisecondsFromEnvironment('KRYPTON_WORKER_STALLED_MS', DEFAULT_STALLED_MS),
    maxStalledCount: MAX_STALLED,
  });
  worker.on('error', () => {});
  try {
    await worker.waitUntilReady();
  } catch (error) {
    await worker.close(true).catch(() => {});
    throw unreachable(shownUrl(options.url), error);
  }
  worker.on('active', (job) => options.onJob?.({ kind: 'started', image: imageLabel(job.data.image) }));
  worker.on('completed', (job, result) => options.onJob?.({ kind: 'done', image: imageLabel(job.data.image), detail: `${result.elapsedMs.toFixed(0)} ms` }));
  worker.on('failed', (job, error) => job && options.onJob?.({ kind: 'failed', image: imageLabel(job.data.image), detail: messageOf(error) }));
  void worker.run().catch(() => {});
  return {
    async close() {
      await worker.close();
      await warm.close();
    },
  };
}

async function processJob(job: Job<OcclusionJobData, OcclusionJobResult>, warm: WarmOperators): Promise<OcclusionJobResult> {
  try {
    return await runOcclusionJob(job.data, warm);
  } catch (error) {
    // A file that cannot be read or a model that differs fails the same way on a retry.
    if (isKryptonError(error)) throw new UnrecoverableError(error.message);
    throw error;
  }
}
