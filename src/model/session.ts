import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { availableParallelism } from 'node:os';
import { ensureFileBytes, fileExtentOf, fileHasIdentity, holdMapped, LARGE_WEIGHT_BYTES, type FileExtent } from './weight-files.js';

let threadsPerSession = 0;

/** Threads each new session computes with; 0: one per core. A worker of a pool takes 1. */
export function setThreadsPerSession(threads: number): void {
  threadsPerSession = threads;
}

/**
 * Every onnxruntime session Krypton opens goes through here, so that all of them share one
 * threading policy: many small sessions live side by side (one per incremental segment), and
 * spinning worker threads of idle sessions would steal the cores from the one that runs.
 */
export function sessionOptions(memory: SessionMemory = {}, weightsFolder?: string): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threadsPerSession || Math.max(1, availableParallelism()),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: memory.arena ?? true,
    graphOptimizationLevel: 'all',
    // Failures reach the caller as exceptions; onnxruntime's own log lines would only duplicate them.
    logSeverityLevel: 4,
    extra: {
      session: {
        intra_op: { allow_spinning: '0' },
        inter_op: { allow_spinning: '0' },
        // Prepacking copies every MatMul and Gemm weight into a packed layout at session creation:
        // VGG16's fully connected layers, 400 MB of fresh pages, 0.5–1 s of a cold process. The
        // runs it saves packing in are 5–15 ms each at batch 16–64, and a heatmap has a few dozen;
        // the whole VGG16 grid at stride 8 measured 14.0–14.9 s without against 15.4–17.8 s with.
        disable_prepacking: '1',
        // Where external data named by file (the model's own, mapped) is found, the model being given as bytes.
        ...(weightsFolder === undefined ? {} : { model_external_initializers_file_folder_path: weightsFolder }),
      },
    },
  };
}

/**
 * How a session holds the memory of its intermediate tensors. onnxruntime's arena keeps the largest
 * it has needed, per session: right for one session that runs the same shapes again and again (the
 * whole model, the tail), but the dozens of segment sessions of an incremental plan each kept
 * their own, VGG16's 0.7 GB in all, every page of it faulted in fresh (seconds of the kernel
 * zeroing pages). Without the arena they share the process's heap.
 */
export interface SessionMemory {
  readonly arena?: boolean;
}

let created = 0;

/** Sessions this thread has created so far: what tests count to see that a statement reuses sessions. */
export function sessionsCreated(): number {
  return created;
}

export async function createSession(model: onnx.IModelProto | Uint8Array, memory: SessionMemory = {}): Promise<ort.InferenceSession> {
  created++;
  if (model instanceof Uint8Array) {
    // onnxruntime takes only plain buffers for a model (and copies the weights out of them anyway).
    return ort.InferenceSession.create(model.buffer instanceof SharedArrayBuffer ? new Uint8Array(model) : model, sessionOptions(memory));
  }
  const mapping = weightsOutside(model.graph!, true);
  if (mapping.files.length === 0) return sessionOf(model, mapping, memory);
  const session = await sessionOf(model, mapping, memory).catch(() => undefined);
  // The file changed between the checks, or could not be mapped: the weights are copied from memory,
  // those loading left unread read first if the file is still the one hashed (a changed one fails).
  if (session && mapping.files.every((file) => fileHasIdentity(file.path, file.identity))) {
    const letGo = holdMapped(mapping.files);
    const release = session.release.bind(session);
    session.release = async () => {
      letGo();
      await release();
    };
    return session;
  }
  await session?.release();
  return sessionOf(model, weightsOutside(model.graph!, false), memory);
}

function sessionOf(model: onnx.IModelProto, mapping: WeightMapping, memory: SessionMemory): Promise<ort.InferenceSession> {
  const bytes = onnx.ModelProto.encode({ ...model, graph: mapping.graph }).finish();
  return ort.InferenceSession.create(bytes, { ...sessionOptions(memory, mapping.folder), externalData: mapping.externalData });
}


interface WeightMapping {
  readonly graph: onnx.IGraphProto;
  /** In-memory external data "files": buffers the weights are views of. */
  readonly externalData: { path: string; data: Uint8Array }[];
  /** The folder of the file weights are mapped from, if any are. */
  readonly folder?: string;
  readonly files: readonly FileExtent[];
}

/**
 * The graph with its large weights left where they are, as external data: encoding them into the
 * model's bytes copied every one (VGG16's fully connected layers: 494 MB, a third of a second)
 * only for onnxruntime to copy them again. Weights that are still the model file's bytes, in a
 * file unchanged since it was read, are named by their offsets in that file, which onnxruntime
 * maps without copying (when `fromFiles`); the others are in-memory external data, one "file" per
 * buffer they are views of. The loaded model's own tensors are not changed.
 */
function weightsOutside(graph: onnx.IGraphProto, fromFiles: boolean): WeightMapping {
  const buffers = new Map<ArrayBufferLike, string>();
  const externalData: { path: string; data: Uint8Array }[] = [];
  const files = new Map<string, FileExtent>();
  let folder: string | undefined;
  const external = (tensor: onnx.ITensorProto, location: string, offset: number, length: number): onnx.ITensorProto => ({
    ...tensor,
    rawData: new Uint8Array(0),
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  });
  const initializer = (graph.initializer ?? []).map((tensor): onnx.ITensorProto => {
    const raw = tensor.rawData;
    if (!raw) return tensor;
    if (raw.length < LARGE_WEIGHT_BYTES) {
      ensureFileBytes(raw);
      return tensor;
    }
    const extent = fromFiles ? fileExtentOf(raw) : undefined;
    // onnxruntime reads every mapped file from one folder: the first file's.
    if (extent && (folder === undefined || folder === extent.folder) && (files.has(extent.path) || fileHasIdentity(extent.path, extent.identity))) {
      folder = extent.folder;
      files.set(extent.path, extent);
      return external(tensor, extent.name, extent.offset, raw.length);
    }
    // Copied, not mapped: the bytes must be in memory.
    ensureFileBytes(raw);
    let path = buffers.get(raw.buffer);
    if (!path) {
      path = `weights-${buffers.size}.bin`;
      buffers.set(raw.buffer, path);
      externalData.push({ path, data: new Uint8Array(raw.buffer) });
    }
    return external(tensor, path, raw.byteOffset, raw.length);
  });
  return { graph: { ...graph, initializer }, externalData, folder, files: [...files.values()] };
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export type Session = ort.InferenceSession;
export type Tensor = ort.Tensor;
