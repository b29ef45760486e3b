import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { KryptonError } from '../errors.js';
import { hashOpenFile, modelFileCap, modelFileError, openRegularFile, readAndHashRegularFile, readAt, type FileProblem } from '../io/read-regular-file.js';
import { identityOf, LARGE_WEIGHT_BYTES, sameIdentity } from './weight-files.js';

/** A model file's bytes for decoding, and the SHA-256 (hex) of all of them. */
export interface ModelFileBytes {
  /** The file's content at the file's own offsets; the `unread` ranges hold zeros. */
  readonly bytes: Uint8Array;
  readonly sha256: string;
  /** The file's, taken before reading; absent when it changed while being read and was read again whole. */
  readonly stats?: Stats;
  /** [start, end) offsets of the large initializers' raw data, left unread. */
  readonly unread: readonly (readonly [number, number])[];
}

/**
 * Reads a model file for decoding, leaving the raw data of its large initializers unread. Every
 * byte is hashed (through one small buffer, reused), but only the structure and the small tensors
 * are copied into a buffer laid out as the file is; the pages under the large weights are never
 * touched, so they cost nothing. Sessions map those weights from the file itself, and anything
 * that needs their values reads them then (`ensureFileBytes`).
 *
 * Reading VGG16's 553 MB whole into fresh memory, whose every page the kernel zeroes first, took
 * 0.4–1.5 s of each cold process, for bytes that only onnxruntime reads, from the file anyway.
 *
 * A file that is not the protobuf an ONNX model is, or that changes while read, is read whole
 * instead, as before: decoding then says what is wrong with it.
 */
export async function readModelFileBytes(path: string): Promise<ModelFileBytes> {
  const cap = modelFileCap();
  const fail = (problem: FileProblem) => modelFileError(path, problem);
  const { handle, size, stats } = await openRegularFile(path, cap, fail);
  let result: ModelFileBytes | undefined;
  try {
    // A file that grew or shrank since it was opened is read again whole, below.
    const { sha256, length } = await hashOpenFile(handle, size, fail);
    if (length === size) {
      const bytes = new Uint8Array(size);
      const unread: [number, number][] = [];
      const scanned = await copyStructure(handle, bytes, unread, fail);
      if (scanned && sameIdentity(await handle.stat(), identityOf(stats))) result = { bytes, sha256, stats, unread };
    }
  } finally {
    await handle.close();
  }
  if (result) return result;
  const whole = await readAndHashRegularFile(path, cap, fail);
  return { ...whole, unread: [] };
}

type Fail = (problem: FileProblem) => KryptonError;

// Field numbers of onnx.proto: ModelProto.graph, GraphProto.initializer, TensorProto.raw_data.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const LENGTH_DELIMITED = 2;

type Level = 'model' | 'graph' | 'tensor';

/** A field's header: where its content starts and ends, from its tag and (for bytes and messages) length. */
interface FieldHeader {
  readonly field: number;
  readonly wireType: number;
  readonly contentStart: number;
  readonly end: number;
}

/**
 * Copies the model's protobuf into `bytes`, at the file's offsets, but for the raw data of large
 * initializers, whose ranges go to `unread`. Descends only ModelProto.graph, GraphProto.initializer
 * and TensorProto fields: everything else is copied whole. False when the bytes are not well-formed
 * protobuf (a truncated field, a group, a varint too long).
 */
async function copyStructure(
  handle: FileHandle, bytes: Uint8Array, unread: [number, number][], fail: Fail,
): Promise<boolean> {
  const header = Buffer.allocUnsafe(20);
  const copy = async (start: number, end: number) => {
    for (let at = start; at < end;) {
      const read = await readAt(handle, bytes, at, end - at, at, fail);
      if (read === 0) return false;
      at += read;
    }
    return true;
  };
  const readHeader = async (at: number, limit: number): Promise<FieldHeader | undefined> => {
    const length = Math.min(header.length, limit - at);
    if ((await readAt(handle, header, 0, length, at, fail)) !== length) return undefined;
    return parseHeader(header.subarray(0, length), at, limit);
  };
  const scan = async (start: number, end: number, level: Level): Promise<boolean> => {
    for (let at = start; at < end;) {
      const field = await readHeader(at, end);
      if (!field) return false;
      const descend = field.wireType === LENGTH_DELIMITED
        && ((level === 'model' && field.field === MODEL_GRAPH) || (level === 'graph' && field.field === GRAPH_INITIALIZER));
      const leaveUnread = level === 'tensor' && field.wireType === LENGTH_DELIMITED && field.field === TENSOR_RAW_DATA
        && field.end - field.contentStart >= LARGE_WEIGHT_BYTES;
      if (descend || leaveUnread) {
        if (!(await copy(at, field.contentStart))) return false;
        if (leaveUnread) unread.push([field.contentStart, field.end]);
        else if (!(await scan(field.contentStart, field.end, level === 'model' ? 'graph' : 'tensor'))) return false;
      } else if (!(await copy(at, field.end))) {
        return false;
      }
      at = field.end;
    }
    return true;
  };
  return scan(0, bytes.length, 'model');
}

/** The header of the field at file offset `at`, from bytes read there; undefined if malformed or past `limit`. */
function parseHeader(data: Uint8Array, at: number, limit: number): FieldHeader | undefined {
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= data.length) return undefined;
      const byte = data[pos++];
      // Beyond 2^53 no offset in a file under 2 GiB makes sense.
      if (shift > 49 && byte > 0) return undefined;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  const tag = varint();
  if (tag === undefined || tag < 8) return undefined;
  const field = Math.floor(tag / 8);
  const wireType = tag % 8;
  let contentLength: number | undefined;
  switch (wireType) {
    case 0: {
      const start = pos;
      if (varint() === undefined) return undefined;
      contentLength = pos - start;
      pos = start;
      break;
    }
    case 1:
      contentLength = 8;
      break;
    case 2:
      contentLength = varint();
      break;
    case 5:
      contentLength = 4;
      break;
    default:
      return undefined;
  }
  if (contentLength === undefined) return undefined;
  const contentStart = at + pos;
  const end = contentStart + contentLength;
  return end <= limit ? { field, wireType, contentStart, end } : undefined;
}
