import { createHash } from 'node:crypto';
import { resolve, join } from 'node:path';
import { ConnectionClosedError, type Job } from 'bullmq';
import { isKryptonError, KryptonError, messageOf } from '../errors.js';
import {
  interrupted, overlayFileNames, overlayScales, readImageFile, renderOnSharedScale, renderStored, staleness, storeHeatmap, storeHeatmaps,
  type ComputedImage, type ExecutionOptions, type ImageOutcome, type OcclusionRun,
} from '../executor/execute-occlude.js';
import { imageKey, type ImageRef } from '../executor/image-source.js';
import { shownImageFromBuffer } from '../image/prepare-image.js';
import { removeAbandonedTemporaries } from '../io/write-atomically.js';
import { cellCount } from '../model/occlusion-grid.js';
import { isExact } from '../operators/create-operator.js';
import type { PhysicalOcclude } from '../planner/plan-occlude.js';
import { heatmapChecksum } from '../planner/tune-quality.js';
import type { Store } from '../store/index.js';
import {
  decodeValues, JOB_FORMAT, jobImageByteCap, occlusionJobId, type OcclusionJobData, type OcclusionJobResult,
} from './occlusion-job.js';
import type { OcclusionQueue } from './occlusion-queue.js';

/** Jobs in the queue at once per statement: enough to keep many workers busy, few enough that Ctrl-C leaves little behind. */
const DEFAULT_WINDOW = 256;
/** Completed and failed jobs a coordinator never came back for leave Redis after this long. */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;
/** How often a coordinator waiting for results makes sure Redis is still reachable. */
const CHECK_EVERY_MS = 2000;
/** Results that arrive together are committed together, up to this many. */
const MAX_GROUP_COMMIT = 64;
/** A job whose worker fails for a reason that might pass (Redis lost mid-job) is tried again. */
const ATTEMPTS = 3;

interface Pending {
  readonly index: number;
  readonly image: ImageRef;
  readonly imageSha256: string;
  readonly replaced?: string;
  readonly overlayFile?: string;
  /** Kept only for RENDER TO, which draws the overlay here. */
  readonly bytes?: Buffer;
}

type Settled = { readonly id: string; readonly result: OcclusionJobResult } | { readonly id: string; readonly error: string };

/**
 * An OCCLUDE whose heatmaps workers compute: the coordinator reads and hashes every image as a
 * local run does (so a rerun knows what is done, and what changed), enqueues one job per image
 * still missing, and stores each result as it completes: each image's row committed once and
 * whole, those that arrive together in one commit. Jobs are named by
 * query and image, so a coordinator killed and run again finds the jobs it enqueued (finished or
 * not) instead of adding them twice.
 */
export async function executeDistributed(plan: PhysicalOcclude, store: Store, cluster: OcclusionQueue, options: ExecutionOptions = {}): Promise<OcclusionRun> {
  const { onProgress, signal, batchSize } = options;
  const started = performance.now();
  const { logical } = plan;
  const { model } = logical;
  await store.ensureResultsTable(logical.table);
  const stored = await store.storedInputs(logical.table, plan.queryId);
  const positions = cellCount(logical.grid);
  const outcomes: { index: number; outcome: ImageOutcome }[] = [];
  const approximate = !isExact(plan.spec);
  const sampleResults = plan.tuning?.sampleResults;
  const cachedScores = new Map((plan.tuning?.cached ? plan.tuning.samples : []).map((s) => [imageKey(s), s]));
  const overlayNames = overlayFileNames(logical.images);
  const { sharedScale, ownScale } = overlayScales(plan);
  if (logical.renderDir) await removeAbandonedTemporaries(logical.renderDir);
  const modelSha256 = model.fileHash;
  const window = windowSize();
  const byteCap = jobImageByteCap();
  const estimatedSeconds = plan.chosen.secondsPerImage * logical.images.filter((image) => !stored.has(imageKey(image))).length;
  const report = (imagePath: string) => onProgress?.({ imagesDone: outcomes.length, images: logical.images.length, imagePath, positionsDone: 0, positions, estimatedSeconds });
  const done = (index: number, outcome: ImageOutcome) => {
    outcomes.push({ index, outcome });
    report(outcome.imagePath);
  };
  const failed = (index: number, image: ImageRef, error: string) => done(index, { imageId: image.imageId, imagePath: image.path, frame: image.frame, status: 'failed', error });

  const pending = new Map<string, Pending>();
  const settled: Settled[] = [];
  let wake: (() => void) | undefined;
  const arrive = (entry: Settled) => {
    settled.push(entry);
    wake?.();
  };
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);

  const track = (id: string, job: Job) => {
    job.waitUntilFinished(cluster.events).then(
      (result: OcclusionJobResult) => arrive({ id, result }),
      (error: unknown) => arrive({ id, error: messageOf(error) }),
    );
  };

  /** A finished job as the row to store, or undefined when it failed (recorded as the image's failure). */
  const computedOf = async (entry: Settled): Promise<ComputedImage | undefined> => {
    const waiting = pending.get(entry.id);
    if (!waiting) return undefined;
    pending.delete(entry.id);
    const { index, image } = waiting;
    if ('error' in entry) {
      failed(index, image, entry.error);
      return undefined;
    }
    const { result } = entry;
    let values: Float32Array;
    try {
      if (result.format !== JOB_FORMAT) throw new Error(`a worker answered in job format ${result.format}, not ${JOB_FORMAT}`);
      values = decodeValues(result.values, logical.grid.columns * logical.grid.rows);
    } catch (error) {
      failed(index, image, messageOf(error));
      return undefined;
    }
    let ssim = result.ssim;
    const scored = cachedScores.get(imageKey(image));
    if (approximate && ssim === undefined && scored && scored.checksum === heatmapChecksum(values)) ssim = scored.ssim;
    let shown;
    let shownError: KryptonError | undefined;
    try {
      shown = waiting.bytes && waiting.overlayFile ? await shownImageFromBuffer(waiting.bytes, image.path, undefined, image.frame) : undefined;
    } catch (error) {
      if (!isKryptonError(error)) throw error;
      shownError = error;
    }
    const heatmap = { values, classIndex: result.classIndex, baseProbability: result.baseProbability, batchSize: result.batchSize };
    indexOf.set(imageKey(image), index);
    return { image, shown, shownError, heatmap, elapsedMs: result.elapsedMs, ssim, imageSha256: waiting.imageSha256, modelSha256, replaced: waiting.replaced, overlayFile: waiting.overlayFile };
  };
  const indexOf = new Map<string, number>();

  /** Stores every result that has arrived, in one commit. */
  const ingestArrived = async () => {
    const entries = settled.splice(0, MAX_GROUP_COMMIT);
    const computed = (await Promise.all(entries.map(computedOf))).filter((c): c is ComputedImage => c !== undefined);
    for (const outcome of await storeHeatmaps(plan, store, computed, ownScale)) done(indexOf.get(imageKey({ path: outcome.imagePath, frame: outcome.frame }))!, outcome);
    // Stored: Redis need not keep them. Left behind (a crash before this), a rerun finds them, or they expire.
    await Promise.all(entries.map((entry) => cluster.queue.remove(entry.id).catch(() => {})));
  };

  /** Ingests what has finished, waiting for something to; false when the statement was interrupted first. */
  const ingestNext = async (): Promise<boolean> => {
    while (settled.length === 0) {
      if (signal?.aborted) return false;
      // Now and then, whether Redis is still there: lost, no completion would ever come.
      const tick = setTimeout(() => wake?.(), CHECK_EVERY_MS);
      await new Promise<void>((resolve) => { wake = resolve; });
      wake = undefined;
      clearTimeout(tick);
      if (settled.length === 0 && !signal?.aborted) await cluster.check();
    }
    await ingestArrived();
    return true;
  };

  const jobData = (image: ImageRef, imageSha256: string, bytes: Buffer): OcclusionJobData => ({
    format: JOB_FORMAT,
    queryId: plan.queryId,
    model: {
      path: resolve(model.model.path),
      sha256: modelSha256,
      inputWidth: model.model.input.width,
      inputHeight: model.model.input.height,
      outputKind: model.model.output.kind,
      outputName: model.model.output.outputs[0] === model.model.output.name ? null : model.model.output.name,
    },
    input: model.spec,
    grid: logical.grid,
    spec: plan.spec,
    target: logical.target,
    color: logical.color,
    ...(batchSize !== undefined ? { batchSize } : {}),
    verify: approximate && plan.verifyImages.has(imageKey(image)),
    image: { path: resolve(image.path), frame: image.frame, sha256: imageSha256, ...(bytes.length <= byteCap ? { bytes: bytes.toString('base64') } : {}) },
  });

  const enqueue = async (id: string, data: OcclusionJobData) => {
    // A job that failed before (an image unreadable then) is tried afresh, as a local rerun would.
    if ((await cluster.queue.getJobState(id)) === 'failed') await cluster.queue.remove(id);
    const job = await cluster.queue.add('occlude', data, {
      jobId: id,
      attempts: ATTEMPTS,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });
    track(id, job);
  };

  try {
    try {
      for (const [index, image] of logical.images.entries()) {
        if (signal?.aborted) break;
        let bytes: Buffer;
        try {
          bytes = await readImageFile(image.path);
        } catch (error) {
          if (!isKryptonError(error)) throw error;
          failed(index, image, error.message);
          continue;
        }
        const imageSha256 = createHash('sha256').update(bytes).digest('hex');
        const storedInputs = stored.get(imageKey(image));
        const replaced = storedInputs && staleness(storedInputs, imageSha256, modelSha256);
        // A shared scale is known only once every image is done: those overlays are drawn after the last.
        const overlayFile = logical.renderDir && !sharedScale ? join(logical.renderDir, overlayNames.get(imageKey(image))!) : undefined;
        if (storedInputs && !replaced) {
          try {
            const overlay = overlayFile ? await renderStored(plan, store, image, bytes, overlayFile, ownScale) : undefined;
            done(index, { imageId: image.imageId, imagePath: image.path, frame: image.frame, status: 'already done', overlay });
          } catch (error) {
            if (!isKryptonError(error)) throw error;
            failed(index, image, error.message);
          }
          continue;
        }
        // The tuning computed the sample's heatmaps in this run: they are stored as they are.
        const sample = sampleResults?.get(imageKey(image));
        if (sample) {
          let shown;
          try {
            shown = overlayFile ? await shownImageFromBuffer(bytes, image.path, undefined, image.frame) : undefined;
          } catch (error) {
            if (!isKryptonError(error)) throw error;
            failed(index, image, error.message);
            continue;
          }
          done(index, await storeHeatmap(plan, store, {
            image, shown, heatmap: sample.heatmap, elapsedMs: sample.elapsedMs, ssim: approximate ? sample.ssim : undefined, imageSha256, modelSha256, replaced, overlayFile,
          }, ownScale));
          continue;
        }
        const id = occlusionJobId(plan.queryId, resolve(image.path), image.frame, imageSha256, modelSha256);
        if (pending.has(id)) continue;
        pending.set(id, { index, image, imageSha256, replaced, overlayFile, ...(overlayFile ? { bytes } : {}) });
        await enqueue(id, jobData(image, imageSha256, bytes));
        while (pending.size >= window) {
          if (!(await ingestNext())) break;
        }
      }
      while (pending.size > 0) {
        if (!(await ingestNext())) break;
      }
    } catch (error) {
      if (isKryptonError(error)) throw error;
      // BullMQ's and the connection's errors are Redis's problems, told in one line.
      const kept = outcomes.filter((o) => o.outcome.status === 'done').length;
      const lost = error instanceof ConnectionClosedError || messageOf(error) === 'Connection is closed.';
      throw new KryptonError(`${lost ? `lost the connection to Redis at ${cluster.url}` : `the queue at ${cluster.url} failed: ${messageOf(error)}`}; ${kept === 1 ? '1 image' : `${kept} images`} finished in this run ${kept === 1 ? 'is' : 'are'} kept in ${logical.tableName}, run the statement again to do the rest`, 'io');
    }
    if (signal?.aborted) {
      // Stop what no worker has started; what workers finish stays in Redis for the rerun to store.
      for (const id of pending.keys()) {
        if ((await cluster.queue.getJobState(id).catch(() => undefined)) === 'waiting') await cluster.queue.remove(id).catch(() => {});
      }
      while (settled.length > 0) await ingestArrived();
      throw interrupted(outcomes.map((o) => o.outcome), logical.tableName);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  outcomes.sort((a, b) => a.index - b.index);
  const ordered = outcomes.map((o) => o.outcome);
  if (logical.renderDir && sharedScale) await renderOnSharedScale(plan, store, ordered, overlayNames);
  return { outcomes: ordered, elapsedMs: performance.now() - started };
}

function windowSize(): number {
  const text = process.env.KRYPTON_QUEUE_WINDOW?.trim();
  if (!text) return DEFAULT_WINDOW;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new KryptonError(`KRYPTON_QUEUE_WINDOW must be a positive whole number of jobs, not '${text}'`, 'argument');
  return value;
}
