import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { KryptonError } from '../errors.js';
import { imageError } from '../image/decode-image.js';
import { patchValues } from '../image/patch-color.js';
import { prepareImageFromBuffer } from '../image/prepare-image.js';
import { imageFileCap, readRegularFile } from '../io/read-regular-file.js';
import type { LoadedModel } from '../model/load-model.js';
import { createOperator, EXACT_INCREMENTAL, type OperatorSpec } from '../operators/create-operator.js';
import type { OcclusionOperator } from '../operators/occlusion-task.js';
import { ssim } from '../operators/ssim.js';
import { ModelCache } from '../planner/bind-model.js';
import { encodeValues, JOB_FORMAT, type OcclusionJobData, type OcclusionJobResult } from './occlusion-job.js';

/** Operators kept for this many configurations (model, grid, strategy); the least recently used beyond go. */
const WARM_CONFIGURATIONS = 4;

interface Warm {
  readonly idle: OcclusionOperator[];
  lastUsed: number;
}

/**
 * What a worker keeps between jobs: each model loaded once (and its file hashed once per size and
 * mtime), and the operators built for it, whose sessions are the costly part; one operator per job
 * running at once, since an operator computes one image at a time.
 */
export class WarmOperators {
  private readonly models = new ModelCache();
  private readonly operators = new Map<string, Warm>();
  private closed = false;

  /** The model the job names, refused when its file's contents here differ from those the query was planned with. */
  async model(job: OcclusionJobData): Promise<{ model: LoadedModel; sha256: string }> {
    const { path, sha256, inputWidth, inputHeight, outputKind, outputName } = job.model;
    const model = await this.models.load(path, { width: inputWidth, height: inputHeight }, { kind: outputKind, name: outputName ?? undefined });
    const here = await this.models.modelHash(model);
    if (here !== sha256) {
      throw new KryptonError(`model file ${path} on worker ${hostname()} has SHA-256 ${here.slice(0, 12)}…, but the query was planned with ${sha256.slice(0, 12)}…`, 'model');
    }
    return { model, sha256: here };
  }

  async acquire(job: OcclusionJobData, model: LoadedModel, spec: OperatorSpec): Promise<{ operator: OcclusionOperator; key: string }> {
    const key = JSON.stringify([job.model.sha256, job.model.inputWidth, job.model.inputHeight, job.model.outputKind, job.model.outputName, job.grid, spec]);
    const warm = this.operators.get(key);
    if (warm) warm.lastUsed = performance.now();
    const operator = warm?.idle.pop() ?? await createOperator(spec, model, job.grid, { workers: 0 });
    return { operator, key };
  }

  async release(key: string, operator: OcclusionOperator): Promise<void> {
    if (this.closed) return operator.release();
    const warm = this.operators.get(key) ?? { idle: [], lastUsed: performance.now() };
    warm.idle.push(operator);
    this.operators.set(key, warm);
    while (this.operators.size > WARM_CONFIGURATIONS) {
      const [oldest] = [...this.operators.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      this.operators.delete(oldest[0]);
      await Promise.all(oldest[1].idle.map((o) => o.release()));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.operators.values()].flatMap((w) => w.idle);
    this.operators.clear();
    await Promise.all(all.map((o) => o.release()));
  }
}

/** The job's image: the bytes it carries, or the file at its path, checked against the hash the coordinator read. */
async function jobImage(job: OcclusionJobData): Promise<Buffer> {
  const { path, sha256, bytes } = job.image;
  const image = bytes !== undefined ? Buffer.from(bytes, 'base64') : await readRegularFile(path, imageFileCap(), ({ problem }) => imageError(path, problem));
  const here = createHash('sha256').update(image).digest('hex');
  if (here !== sha256) throw new KryptonError(`image ${path} on worker ${hostname()} is not the file the query read (SHA-256 ${here.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…)`, 'image');
  return image;
}

/** Computes one job's heatmap. Problems with the job's files are KryptonErrors: retrying cannot mend them. */
export async function runOcclusionJob(job: OcclusionJobData, warm: WarmOperators): Promise<OcclusionJobResult> {
  if (job.format !== JOB_FORMAT) throw new KryptonError(`job format ${job.format} is not the format ${JOB_FORMAT} this worker runs; run workers of the coordinator's version`, 'argument');
  const bytes = await jobImage(job);
  const { model, sha256 } = await warm.model(job);
  const prepared = await prepareImageFromBuffer(bytes, job.input, job.image.path, job.image.frame);
  const task = { input: prepared.tensor, patchValues: patchValues(job.color, prepared, job.input), target: job.target, batchSize: job.batchSize };
  const started = performance.now();
  const { operator, key } = await warm.acquire(job, model, job.spec);
  let heatmap;
  try {
    heatmap = await operator.run(task);
  } finally {
    await warm.release(key, operator);
  }
  const elapsedMs = performance.now() - started;
  let measured: number | undefined;
  if (job.verify) {
    const exact = await warm.acquire(job, model, EXACT_INCREMENTAL);
    try {
      const reference = await exact.operator.run(task);
      measured = ssim(reference.values, heatmap.values, job.grid.columns, job.grid.rows);
    } finally {
      await warm.release(exact.key, exact.operator);
    }
  }
  return {
    format: JOB_FORMAT,
    classIndex: heatmap.classIndex,
    baseProbability: heatmap.baseProbability,
    values: encodeValues(heatmap.values),
    batchSize: heatmap.batchSize,
    elapsedMs,
    ...(measured !== undefined ? { ssim: measured } : {}),
    imageSha256: job.image.sha256,
    modelSha256: sha256,
    worker: `${hostname()}:${process.pid}`,
  };
}
