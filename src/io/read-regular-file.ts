/**
 * The one way Krypton reads the image and model files a statement names. Only regular files are
 * read: a FIFO would block forever and a device such as /dev/zero never ends, so the kind is
 * checked before opening (and again on the open descriptor, in case the path changed in between).
 * A file larger than its cap is refused before any of it is read, and at most cap + 1 bytes are
 * ever read, so a file that grows while being read is refused too, not read without end.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { KryptonError, messageOf } from '../errors.js';

/** How large a file of one kind may be, and the environment variable that changes it. */
export interface FileCap {
  readonly maxBytes: number;
  /** e.g. 'KRYPTON_MAX_IMAGE_BYTES', named in the message that refuses a larger file. */
  readonly variable: string;
}

/** Why a file could not be read; `problem` continues a sentence that names the file. */
export interface FileProblem {
  readonly reason: 'missing' | 'not-regular' | 'too-large' | 'denied' | 'unreadable';
  readonly problem: string;
}

const MIB = 1024 * 1024;
export const DEFAULT_MAX_IMAGE_BYTES = 256 * MIB;
// An ONNX file is one protobuf message, which cannot exceed 2 GiB; VGG16 is 553 MB.
export const DEFAULT_MAX_MODEL_BYTES = 2048 * MIB;

export function imageFileCap(): FileCap {
  return { maxBytes: limitFromEnvironment('KRYPTON_MAX_IMAGE_BYTES', DEFAULT_MAX_IMAGE_BYTES), variable: 'KRYPTON_MAX_IMAGE_BYTES' };
}

export function modelFileCap(): FileCap {
  return { maxBytes: limitFromEnvironment('KRYPTON_MAX_MODEL_BYTES', DEFAULT_MAX_MODEL_BYTES), variable: 'KRYPTON_MAX_MODEL_BYTES' };
}

/** The error for a model file that cannot be read, the same from loading and from hashing it. */
export function modelFileError(path: string, { reason, problem }: FileProblem): KryptonError {
  return new KryptonError(reason === 'missing' ? `model file not found: ${path}` : `model file ${path} ${problem}`, 'model');
}

/**
 * A positive whole number from the environment, e.g. `KRYPTON_MAX_IMAGE_BYTES=512M`: bytes, or
 * with a K, M or G suffix (powers of 1024). Read on every use, so a change applies at once.
 */
export function limitFromEnvironment(variable: string, fallback: number): number {
  const text = process.env[variable]?.trim();
  if (text === undefined || text === '') return fallback;
  const match = /^(\d+)\s*([kmg]i?b?)?$/i.exec(text);
  const value = match ? Number(match[1]) * 1024 ** ' kmg'.indexOf((match[2] ?? ' ')[0].toLowerCase()) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new KryptonError(`${variable} must be a positive whole number (e.g. 268435456 or 256M), not '${text}'`, 'argument');
  }
  return value;
}

/** A file's whole content; `fail` turns a problem into the caller's error (which names the file). */
export async function readRegularFile(path: string, cap: FileCap, fail: (problem: FileProblem) => KryptonError): Promise<Buffer> {
  const { handle, size } = await openRegularFile(path, cap, fail);
  try {
    // One byte more than expected tells a file that grew from one that did not.
    const chunks: Buffer[] = [];
    let total = 0;
    let buffer = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        chunks.push(buffer);
        if (total > cap.maxBytes) break;
        buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, cap.maxBytes + 1 - total));
        filled = 0;
      }
      const { bytesRead } = await readChunk(handle, buffer, filled, fail);
      if (bytesRead === 0) break;
      filled += bytesRead;
      total += bytesRead;
    }
    if (total > cap.maxBytes) throw fail(grewPast(cap));
    if (filled > 0) chunks.push(buffer.subarray(0, filled));
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/**
 * A file's whole content and the SHA-256 (hex) of those very bytes, each chunk hashed while the
 * next is read: VGG16's 553 MB take about as long to hash as to read, so the hash costs little.
 * `stats` are the open file's, taken before reading (absent when a file that grew was read again).
 */
export async function readAndHashRegularFile(
  path: string, cap: FileCap, fail: (problem: FileProblem) => KryptonError,
): Promise<{ bytes: Buffer; sha256: string; stats?: Stats }> {
  const { handle, size, stats } = await openRegularFile(path, cap, fail);
  let grew = false;
  try {
    const hash = createHash('sha256');
    // One byte more than expected tells a file that grew from one that did not.
    const buffer = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    let reading = readChunk(handle, buffer, 0, fail);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const start = filled;
      filled += bytesRead;
      if (filled === buffer.length) {
        grew = true;
        break;
      }
      reading = readChunk(handle, buffer, filled, fail);
      hash.update(buffer.subarray(start, filled));
    }
    if (!grew) return { bytes: buffer.subarray(0, filled), sha256: hash.digest('hex'), stats };
  } finally {
    await handle.close();
  }
  // Rare: read it again the plain way, which follows a file that grows up to the cap.
  const bytes = await readRegularFile(path, cap, fail);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The SHA-256 (hex) of a file's content, read in chunks under the same checks as readRegularFile. */
export async function hashRegularFile(path: string, cap: FileCap, fail: (problem: FileProblem) => KryptonError): Promise<string> {
  const { handle } = await openRegularFile(path, cap, fail);
  try {
    const { sha256, length } = await hashOpenFile(handle, cap.maxBytes, fail);
    if (length > cap.maxBytes) throw fail(grewPast(cap));
    return sha256;
  } finally {
    await handle.close();
  }
}

/**
 * The SHA-256 (hex) of an open file's bytes from its start, the next chunk read while one is
 * hashed; at most `limit` + 1 bytes are read, so `length` > `limit` tells a file that grew.
 */
export async function hashOpenFile(
  handle: FileHandle, limit: number, fail: (problem: FileProblem) => KryptonError,
): Promise<{ sha256: string; length: number }> {
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(HASH_CHUNK), Buffer.allocUnsafe(HASH_CHUNK)];
  let length = 0;
  let turn = 0;
  let reading = readAt(handle, buffers[0], 0, Math.min(HASH_CHUNK, limit + 1), 0, fail);
  for (;;) {
    const bytesRead = await reading;
    if (bytesRead === 0) break;
    const filled = buffers[turn];
    length += bytesRead;
    if (length > limit) break;
    turn = 1 - turn;
    reading = readAt(handle, buffers[turn], 0, Math.min(HASH_CHUNK, limit + 1 - length), length, fail);
    hash.update(filled.subarray(0, bytesRead));
  }
  return { sha256: hash.digest('hex'), length };
}

// fs reads take at most 2 GiB - 1 bytes per call.
const READ_CHUNK = 64 * MIB;
const HASH_CHUNK = 4 * MIB;

/** An open regular file (checked as readRegularFile checks it) and its size, for callers that read only part of it. */
export async function openRegularFile(
  path: string, cap: FileCap, fail: (problem: FileProblem) => KryptonError,
): Promise<{ handle: FileHandle; size: number; stats: Stats }> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw fail(problemOf(error));
  }
  checkKindAndSize(info, cap, fail);
  let handle: FileHandle;
  try {
    // Non-blocking, so that a FIFO put at the path since the check cannot hang the open.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fail(problemOf(error));
  }
  try {
    const opened = await handle.stat();
    checkKindAndSize(opened, cap, fail);
    return { handle, size: opened.size, stats: opened };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readChunk(handle: FileHandle, buffer: Buffer, at: number, fail: (problem: FileProblem) => KryptonError): Promise<{ bytesRead: number }> {
  try {
    return await handle.read(buffer, at, Math.min(buffer.length - at, READ_CHUNK), null);
  } catch (error) {
    throw fail(problemOf(error));
  }
}

/** Reads up to `length` bytes at file offset `position` into `buffer` at `offset`; the count read (0 at the end). */
export async function readAt(
  handle: FileHandle, buffer: Uint8Array, offset: number, length: number, position: number, fail: (problem: FileProblem) => KryptonError,
): Promise<number> {
  try {
    return (await handle.read(buffer, offset, Math.min(length, READ_CHUNK), position)).bytesRead;
  } catch (error) {
    throw fail(problemOf(error));
  }
}

function checkKindAndSize(info: Stats, cap: FileCap, fail: (problem: FileProblem) => KryptonError): void {
  if (!info.isFile()) throw fail({ reason: 'not-regular', problem: `is ${kindOf(info)}, not a regular file` });
  if (info.size > cap.maxBytes) {
    throw fail({ reason: 'too-large', problem: `is ${formatBytes(info.size)}, over the ${formatBytes(cap.maxBytes)} limit (set ${cap.variable} to allow more)` });
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function grewPast(cap: FileCap): FileProblem {
  return { reason: 'too-large', problem: `grew past the ${formatBytes(cap.maxBytes)} limit while being read (set ${cap.variable} to allow more)` };
}

function problemOf(error: unknown): FileProblem {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { reason: 'missing', problem: 'not found' };
    case 'EISDIR':
      return { reason: 'not-regular', problem: 'is a directory, not a regular file' };
    case 'EACCES':
    case 'EPERM':
      return { reason: 'denied', problem: 'is not readable (permission denied)' };
    default:
      return { reason: 'unreadable', problem: `cannot be read (${messageOf(error)})` };
  }
}

/** 553 MB, 256 MB, 1.5 GB, 12 bytes: binary units, as the caps are set. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [value, unit] = bytes < MIB ? [bytes / 1024, 'KB'] : bytes < 1024 * MIB ? [bytes / MIB, 'MB'] : [bytes / (1024 * MIB), 'GB'];
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}
