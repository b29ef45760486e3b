import { createHash } from 'node:crypto';
import type { InputSpec } from '../image/input-spec.js';
import type { PatchColor } from '../image/patch-color.js';
import { limitFromEnvironment } from '../io/read-regular-file.js';
import type { OutputKind } from '../model/load-model.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import type { OperatorSpec } from '../operators/create-operator.js';
import type { TargetClass } from '../operators/occlusion-task.js';

/** The BullMQ queue every coordinator fills and every `krypton worker` takes from. */
export const OCCLUSION_QUEUE = 'krypton-occlusion';

/** Bumped when a job's shape changes, so a worker of another version refuses it instead of misreading it. */
export const JOB_FORMAT = 2;

/**
 * One image of one planned OCCLUDE: everything a worker needs, as plain JSON. The model travels by
 * path (workers see the same files) and content hash; the image by path, or by its bytes when it
 * is small enough (KRYPTON_JOB_IMAGE_BYTES, default 1 MB), so that a worker without the file can
 * still take it.
 */
export interface OcclusionJobData {
  readonly format: typeof JOB_FORMAT;
  readonly queryId: string;
  readonly model: {
    readonly path: string;
    readonly sha256: string;
    readonly inputWidth: number;
    readonly inputHeight: number;
    readonly outputKind: OutputKind;
    readonly outputName: string | null;
  };
  readonly input: InputSpec;
  readonly grid: OcclusionGrid;
  /** The configuration the coordinator planned (tuned, where the query asked for a quality). */
  readonly spec: OperatorSpec;
  readonly target: TargetClass;
  readonly color: PatchColor;
  readonly batchSize?: number;
  /** VERIFY chose this image: an exact heatmap is computed beside the approximate one for its SSIM. */
  readonly verify: boolean;
  /** `frame` counts from 1: the frame of a multi-frame file the heatmap is of. */
  readonly image: { readonly path: string; readonly frame: number; readonly sha256: string; readonly bytes?: string };
}

/** What a worker sends back: the heatmap and what the results row records about it. */
export interface OcclusionJobResult {
  readonly format: typeof JOB_FORMAT;
  readonly classIndex: number;
  readonly baseProbability: number;
  /** Float32 little-endian, base64: grid.rows × grid.columns values, row-major. */
  readonly values: string;
  readonly batchSize: number;
  readonly elapsedMs: number;
  readonly ssim?: number;
  readonly imageSha256: string;
  readonly modelSha256: string;
  /** host:pid of the worker that computed it. */
  readonly worker: string;
}

export const DEFAULT_JOB_IMAGE_BYTES = 1024 * 1024;

/** Images up to this size travel inside the job; larger ones by path. */
export function jobImageByteCap(): number {
  return limitFromEnvironment('KRYPTON_JOB_IMAGE_BYTES', DEFAULT_JOB_IMAGE_BYTES);
}

/**
 * The job's id: the query, the image's path and frame, and the contents of image and model. Enqueueing it
 * again (a rerun, a second coordinator) adds nothing while the job is in Redis; an image or model
 * rewritten since makes a new job, so a result computed from the old file is never taken for it.
 */
export function occlusionJobId(queryId: string, imagePath: string, frame: number, imageSha256: string, modelSha256: string): string {
  return `${queryId}-${createHash('sha256').update(`${imagePath}\u0000${frame}\u0000${imageSha256}\u0000${modelSha256}`).digest('hex').slice(0, 32)}`;
}

export function encodeValues(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function decodeValues(encoded: string, expected: number): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== expected * 4) throw new Error(`a worker sent ${bytes.length / 4} heatmap values where the grid has ${expected}`);
  const values = new Float32Array(expected);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}
