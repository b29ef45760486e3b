import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { KryptonError } from '../errors.js';

/**
 * Weights that are still the bytes of the model file they were read from. A session can name them
 * as external data in that very file, which onnxruntime maps from the page cache instead of
 * copying: VGG16's tail session took 1–3 s to make, most of it the kernel faulting in fresh pages
 * for a 494 MB copy, and takes milliseconds this way.
 *
 * Mapping trusts the file to still be what was read and hashed, so its identity (device, inode,
 * size, modification and change times) is recorded at reading and compared before a session maps
 * it and after. A file that differs is not mapped: weights already in memory are copied instead,
 * and weights loading left unread cannot be had, so the session fails, naming the file. One that
 * changes while mapped is reported by `checkMappedFile`.
 */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

export function identityOf(stats: Stats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs };
}

export function sameIdentity(stats: Stats, identity: FileIdentity): boolean {
  return identity.dev === stats.dev && identity.ino === stats.ino && identity.size === stats.size
    && identity.mtimeMs === stats.mtimeMs && identity.ctimeMs === stats.ctimeMs;
}

/**
 * Weights from this size on are mapped from the model file by sessions (smaller ones travel inside
 * the model's bytes), so loading leaves them unread.
 */
export const LARGE_WEIGHT_BYTES = 1 << 16;

interface FileBacking {
  readonly path: string;
  readonly identity: FileIdentity;
  /** Offset in the file of the buffer's first byte. */
  readonly base: number;
}

const backings = new WeakMap<ArrayBufferLike, FileBacking>();
/** Views that hold a file's bytes without being views of the file's buffer (copies made to move weights, e.g. into shared memory). */
const copies = new WeakMap<Uint8Array, FileExtent>();

interface MappedFile {
  readonly path: string;
  readonly identity: FileIdentity;
  /** Live sessions mapping it. */
  sessions: number;
}
/** Files live sessions map, by path and the identity each had when read. */
const mapped = new Map<string, MappedFile>();

/** Ranges [start, end) of a file's buffer (in buffer offsets) whose bytes were not read yet. */
const unreadRanges = new WeakMap<ArrayBufferLike, [number, number][]>();

/**
 * Records that `bytes` are the whole content of the file at `path`, as it was when `identity` was
 * taken, but for the `unread` ranges (file offsets), which ensureFileBytes reads when needed.
 */
export function noteFileBytes(bytes: Uint8Array, path: string, identity: FileIdentity, unread: readonly (readonly [number, number])[] = []): void {
  backings.set(bytes.buffer, { path: resolve(path), identity, base: -bytes.byteOffset });
  if (unread.length) unreadRanges.set(bytes.buffer, unread.map(([start, end]) => [start + bytes.byteOffset, end + bytes.byteOffset]));
}

/**
 * Makes sure a view of a model file's bytes holds them: the large weights loading left unread
 * (sessions map them from the file) are read now, from the file as it was hashed. Everything that
 * reads a weight's values, or copies them anywhere but into a mapping session, calls this first.
 */
export function ensureFileBytes(view: Uint8Array): void {
  const ranges = unreadRanges.get(view.buffer);
  if (!ranges) return;
  const start = view.byteOffset;
  const end = start + view.byteLength;
  const needed = ranges.filter(([from, to]) => from < end && to > start);
  if (needed.length === 0) return;
  const backing = backings.get(view.buffer)!;
  const target = new Uint8Array(view.buffer);
  const changed = () => new KryptonError(
    `model file ${backing.path} changed on disk since it was read; nothing computed from it is stored (run again to load the new file)`,
    'model',
  );
  // Not opened unless still the same file: what is at the path now might be a FIFO.
  if (!fileHasIdentity(backing.path, backing.identity)) throw changed();
  let fd: number;
  try {
    fd = openSync(backing.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    throw changed();
  }
  try {
    if (!sameIdentity(fstatSync(fd), backing.identity)) throw changed();
    for (const [from, to] of needed) {
      for (let at = from; at < to;) {
        const read = readSync(fd, target, at, to - at, backing.base + at);
        if (read === 0) throw changed();
        at += read;
      }
    }
    if (!sameIdentity(fstatSync(fd), backing.identity)) throw changed();
  } finally {
    closeSync(fd);
  }
  const left = ranges.filter((range) => !needed.includes(range));
  if (left.length) unreadRanges.set(view.buffer, left);
  else unreadRanges.delete(view.buffer);
}

/** Where a view's bytes lie in a file that is still as it was read; undefined otherwise. */
export interface FileExtent {
  readonly path: string;
  readonly folder: string;
  readonly name: string;
  readonly offset: number;
  readonly identity: FileIdentity;
}

function extentIn(path: string, identity: FileIdentity, offset: number): FileExtent {
  return { path, folder: dirname(path), name: basename(path), offset, identity };
}

export function fileExtentOf(view: Uint8Array): FileExtent | undefined {
  const copy = copies.get(view);
  if (copy) return copy;
  const backing = backings.get(view.buffer);
  return backing && extentIn(backing.path, backing.identity, backing.base + view.byteOffset);
}

/** Records that `copy` holds the same bytes as `original`, so it maps from the same place in the same file. */
export function carryFileExtent(original: Uint8Array, copy: Uint8Array): void {
  const extent = fileExtentOf(original);
  if (extent && copy.length === original.length) copies.set(copy, extent);
}

/** Where a model's weights lie in its file, tensor by tensor, as plain data for another thread. */
export interface FileWeights {
  readonly path: string;
  readonly identity: FileIdentity;
  /** Per tensor, in the order given: its offset in the file, or -1 when its bytes are not the file's. */
  readonly offsets: readonly number[];
}

export function fileWeightsOf(tensors: readonly { rawData?: Uint8Array | null }[]): FileWeights | undefined {
  let file: FileExtent | undefined;
  const offsets = tensors.map(({ rawData }) => {
    const extent = rawData ? fileExtentOf(rawData) : undefined;
    if (!extent || (file && file.path !== extent.path)) return -1;
    file ??= extent;
    return extent.offset;
  });
  return file ? { path: file.path, identity: file.identity, offsets } : undefined;
}

/** The inverse of fileWeightsOf, in the thread that decoded the same tensors from other bytes. */
export function noteFileWeights(tensors: readonly { rawData?: Uint8Array | null }[], weights: FileWeights): void {
  tensors.forEach(({ rawData }, i) => {
    const offset = weights.offsets[i];
    if (rawData && offset !== undefined && offset >= 0) copies.set(rawData, extentIn(weights.path, weights.identity, offset));
  });
}

/** Whether the file at `path` still has `identity`. */
export function fileHasIdentity(path: string, identity: FileIdentity): boolean {
  let now: Stats;
  try {
    now = statSync(path);
  } catch {
    return false;
  }
  return sameIdentity(now, identity);
}

/** Marks files as mapped by one more session, for checkMappedFile; the function returned unmarks them, when the session is released. */
export function holdMapped(files: readonly { path: string; identity: FileIdentity }[]): () => void {
  const keys = files.map(({ path, identity }) => {
    const key = JSON.stringify([path, identity]);
    const entry = mapped.get(key) ?? { path, identity, sessions: 0 };
    entry.sessions++;
    mapped.set(key, entry);
    return key;
  });
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    for (const key of keys) {
      const entry = mapped.get(key)!;
      if (--entry.sessions === 0) mapped.delete(key);
    }
  };
}

/** The files live sessions map: what tests look at. */
export function mappedFiles(): string[] {
  return [...new Set([...mapped.values()].map((entry) => entry.path))];
}

/**
 * Throws when the model file at `modelPath`, mapped by sessions, has changed since it was read:
 * their weights may no longer be the bytes the results name by hash (or, replaced by a rename, the
 * mapping is the old file's and right, but no longer what the path names). One stat per mapped
 * file, so cheap enough to call before every store.
 */
export function checkMappedFile(modelPath: string): void {
  const path = resolve(modelPath);
  for (const entry of mapped.values()) {
    if (entry.path === path && !fileHasIdentity(path, entry.identity)) {
      throw new KryptonError(
        `model file ${path} changed on disk while its weights were in use; nothing computed since is stored (run again to load the new file)`,
        'model',
      );
    }
  }
}
