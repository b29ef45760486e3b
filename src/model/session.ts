import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { availableParallelism } from 'node:os';

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
export function sessionOptions(memory: SessionMemory = {}): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threadsPerSession || Math.max(1, availableParallelism()),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: memory.arena ?? true,
    graphOptimizationLevel: 'all',
    // Failures reach the caller as exceptions; onnxruntime's own log lines would only duplicate them.
    logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
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
  const { graph, externalData } = weightsOutside(model.graph!);
  const bytes = onnx.ModelProto.encode({ ...model, graph }).finish();
  return ort.InferenceSession.create(bytes, { ...sessionOptions(memory), externalData });
}

/** Weights smaller than this travel inside the model's bytes. */
const EXTERNAL_WEIGHT_BYTES = 1 << 16;

/**
 * The graph with its large weights left where they are, as onnxruntime's in-memory external
 * data: encoding them into the model's bytes copied every one (VGG16's fully connected layers:
 * 494 MB, a third of a second) only for onnxruntime to copy them again. Each buffer the weights
 * are views of is one external "file"; the tensors name their offsets in it. The loaded model's
 * own tensors are not changed.
 */
function weightsOutside(graph: onnx.IGraphProto): { graph: onnx.IGraphProto; externalData: { path: string; data: Uint8Array }[] } {
  const files = new Map<ArrayBufferLike, string>();
  const externalData: { path: string; data: Uint8Array }[] = [];
  const initializer = (graph.initializer ?? []).map((tensor): onnx.ITensorProto => {
    const raw = tensor.rawData;
    if (!raw || raw.length < EXTERNAL_WEIGHT_BYTES) return tensor;
    let path = files.get(raw.buffer);
    if (!path) {
      path = `weights-${files.size}.bin`;
      files.set(raw.buffer, path);
      externalData.push({ path, data: new Uint8Array(raw.buffer) });
    }
    return {
      ...tensor,
      rawData: new Uint8Array(0),
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: path },
        { key: 'offset', value: String(raw.byteOffset) },
        { key: 'length', value: String(raw.length) },
      ],
    };
  });
  return { graph: { ...graph, initializer }, externalData };
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export type Session = ort.InferenceSession;
export type Tensor = ort.Tensor;
