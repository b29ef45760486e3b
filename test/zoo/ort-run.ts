import * as ort from 'onnxruntime-node';
import { fromFloat16Array, toFloat16Array } from '../../src/model/float16.js';
import type { ElementType } from '../../src/zoo/onnx-graph-builder.js';

/** A session that does not spin idle threads (tests share two cores with other work). */
export function openSession(model: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

/** Runs one input through a session and returns every requested output as float32. */
export async function runFloat(
  session: ort.InferenceSession,
  inputName: string,
  data: Float32Array,
  dims: readonly number[],
  elementType: ElementType = 'float32',
): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const tensor = elementType === 'float16'
    ? new ort.Tensor('float16', toFloat16Array(data), dims)
    : new ort.Tensor('float32', data, dims);
  const results = await session.run({ [inputName]: tensor });
  const out: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (const [name, value] of Object.entries(results)) {
    const values = value.type === 'float16' ? fromFloat16Array(value.data as Uint16Array) : (value.data as Float32Array);
    out[name] = { data: Float32Array.from(values), dims: [...value.dims] };
  }
  return out;
}

/** Deterministic values in [-1, 1) (a linear congruential sequence), for model inputs. */
export function pseudoRandomInput(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
