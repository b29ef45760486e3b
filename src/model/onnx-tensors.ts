import { onnx } from 'onnx-proto';
import { fromFloat16Array } from './float16.js';
import { ensureFileBytes } from './weight-files.js';

export const DataType = onnx.TensorProto.DataType;

type LongLike = number | { toNumber(): number };

export function toNumber(value: LongLike | null | undefined): number {
  if (value == null) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

export function dimsOf(tensor: onnx.ITensorProto): number[] {
  return (tensor.dims ?? []).map(toNumber);
}

function elementCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function rawBytes(tensor: onnx.ITensorProto): Uint8Array | undefined {
  const raw = tensor.rawData;
  if (!raw || raw.length === 0) return undefined;
  ensureFileBytes(raw);
  return raw;
}

/** A floating-point tensor's values as float32 (float16 and float64 converted). */
export function readFloats(tensor: onnx.ITensorProto): Float32Array {
  const count = elementCount(dimsOf(tensor));
  const raw = rawBytes(tensor);
  switch (tensor.dataType) {
    case DataType.FLOAT: {
      if (raw) return new Float32Array(copyBuffer(raw), 0, count);
      return Float32Array.from(tensor.floatData ?? []);
    }
    case DataType.FLOAT16: {
      if (raw) return fromFloat16Array(new Uint16Array(copyBuffer(raw), 0, count));
      return fromFloat16Array(Uint16Array.from(tensor.int32Data ?? []));
    }
    case DataType.DOUBLE: {
      if (raw) return Float32Array.from(new Float64Array(copyBuffer(raw), 0, count));
      return Float32Array.from(tensor.doubleData ?? []);
    }
    default:
      throw new Error(`tensor ${tensor.name} is not floating point (type ${tensor.dataType})`);
  }
}

/** An integer tensor's values (int64/int32/…) as JS numbers. */
export function readIntegers(tensor: onnx.ITensorProto): number[] {
  const count = elementCount(dimsOf(tensor));
  const raw = rawBytes(tensor);
  switch (tensor.dataType) {
    case DataType.INT64:
      if (raw) return Array.from(new BigInt64Array(copyBuffer(raw), 0, count), Number);
      return (tensor.int64Data ?? []).map(toNumber);
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.UINT16:
    case DataType.BOOL:
      if (raw) return readSmallIntegers(tensor.dataType, raw, count);
      return (tensor.int32Data ?? []).slice();
    default:
      return Array.from(readFloats(tensor));
  }
}

function readSmallIntegers(dataType: number, raw: Uint8Array, count: number): number[] {
  const buffer = copyBuffer(raw);
  switch (dataType) {
    case DataType.INT32: return Array.from(new Int32Array(buffer, 0, count));
    case DataType.INT16: return Array.from(new Int16Array(buffer, 0, count));
    case DataType.UINT16: return Array.from(new Uint16Array(buffer, 0, count));
    case DataType.INT8: return Array.from(new Int8Array(buffer, 0, count));
    default: return Array.from(new Uint8Array(buffer, 0, count));
  }
}

/**
 * protobufjs hands out views into the file's Buffer (where `slice` does not copy), not always
 * aligned for typed-array views: copy into a fresh buffer of exactly this tensor's bytes.
 */
function copyBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

export function floatTensor(name: string, dims: number[], values: Float32Array): onnx.TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
  });
}

export function int64Tensor(name: string, dims: number[], values: number[]): onnx.TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({ name, dims, dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) });
}

/** Rewrites a float16 tensor as float32 in place (lossless); other types are left alone. */
export function upcastHalfTensor(tensor: onnx.ITensorProto): boolean {
  if (tensor.dataType !== DataType.FLOAT16) return false;
  const values = readFloats(tensor);
  tensor.dataType = DataType.FLOAT;
  tensor.int32Data = [];
  tensor.rawData = new Uint8Array(values.buffer);
  return true;
}

