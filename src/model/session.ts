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
export function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threadsPerSession || Math.max(1, availableParallelism()),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Failures reach the caller as exceptions; onnxruntime's own log lines would only duplicate them.
    logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

let created = 0;

/** Sessions this thread has created so far: what tests count to see that a statement reuses sessions. */
export function sessionsCreated(): number {
  return created;
}

export async function createSession(model: onnx.IModelProto | Uint8Array): Promise<ort.InferenceSession> {
  created++;
  let bytes = model instanceof Uint8Array ? model : onnx.ModelProto.encode(model as onnx.ModelProto).finish();
  // onnxruntime takes only plain buffers (and copies the weights out of them anyway).
  if (bytes.buffer instanceof SharedArrayBuffer) bytes = new Uint8Array(bytes);
  return ort.InferenceSession.create(bytes, sessionOptions());
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export type Session = ort.InferenceSession;
export type Tensor = ort.Tensor;
