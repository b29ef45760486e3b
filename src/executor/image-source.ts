import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { KryptonError, messageOf } from '../errors.js';
import type { ImageSource } from '../parser/ast.js';
import { imageKey } from '../store/index.js';
import type { Store } from '../store/index.js';

/** One image to occlude: where it is, which frame of a multi-frame file, and the id its results are stored under. */
export interface ImageRef {
  readonly path: string;
  /** Counted from 1; 1 for a file of one frame (and for a multi-frame file whose frame is not named). */
  readonly frame: number;
  readonly imageId: string;
}

/** The images of a source, and the ones it named more than once (computed once each). */
export interface ResolvedImages {
  readonly images: ImageRef[];
  readonly repeated: readonly { readonly path: string; readonly frame: number; readonly times: number }[];
}

// What identifies an image of a query (its file and frame): the executor's maps and the store's rows share it.
export { imageKey };

/** A path with its frame, as messages name an image: the path alone for frame 1. */
export function imageLabel(image: { readonly path: string; readonly frame?: number }): string {
  return (image.frame ?? 1) === 1 ? image.path : `${image.path} (frame ${image.frame})`;
}

/** The file name without its extension: what metadata tables usually key images by. */
export function defaultImageId(path: string): string {
  return basename(path, extname(path));
}

/**
 * The images of an OCCLUDE source, in a stable order: a glob (sorted), a list (as written) or a
 * query whose first column is a path, whose optional image_id column names each image and whose
 * optional frame column picks a frame of a multi-frame file (from 1; NULL or absent: the first).
 * Relative paths are relative to the current folder. The path and frame are the key: one named
 * twice is one image. Ids are unique within the query: see `assignImageIds`.
 */
export async function resolveImages(source: ImageSource, store: Store): Promise<ResolvedImages> {
  switch (source.kind) {
    case 'glob': {
      const matches = await matchImages(source.pattern);
      if (matches.length === 0) throw new KryptonError(`no images match '${source.pattern}'`, 'image');
      return assignImageIds(matches.map((path) => ({ path })));
    }
    case 'list':
      return assignImageIds(source.paths.map((path) => ({ path: resolve(path) })));
    case 'select': {
      const result = await store.query(source.sql);
      if (result.columns.length === 0) throw new KryptonError('the image query returns no columns; its first column must be an image path', 'image');
      const pathColumn = result.columns[0].name;
      const idColumn = result.columns.find((c) => c.name.toLowerCase() === 'image_id' && c.name !== pathColumn)?.name;
      const frameColumn = result.columns.find((c) => c.name.toLowerCase() === 'frame' && c.name !== pathColumn)?.name;
      const named: NamedPath[] = [];
      for (const row of result.rows) {
        const path = row[pathColumn];
        if (typeof path !== 'string' || path === '') {
          throw new KryptonError(`the image query's first column '${pathColumn}' must hold image paths, found ${path === null ? 'NULL' : JSON.stringify(path)}`, 'image');
        }
        const id = idColumn ? row[idColumn] : undefined;
        const frame = frameColumn ? frameOf(row[frameColumn], frameColumn, path) : 1;
        named.push({ path: resolve(path), frame, imageId: id === undefined || id === null ? undefined : String(id) });
      }
      if (named.length === 0) throw new KryptonError('the image query returns no rows', 'image');
      return assignImageIds(named);
    }
  }
}

/** The files a glob matches, absolute and sorted: how every image pattern is expanded. */
export async function matchImages(pattern: string): Promise<string[]> {
  const matches = await glob(pattern, { onlyFiles: true, absolute: true, expandDirectories: false }).catch((error: unknown) => {
    // The matcher refuses some patterns outright (e.g. one over 65,536 characters).
    const shown = pattern.length > 80 ? `${pattern.slice(0, 79)}…` : pattern;
    throw new KryptonError(`the image pattern '${shown}' (${pattern.length.toLocaleString('en-US')} characters) cannot be matched: ${messageOf(error)}`, 'image');
  });
  return matches.map((path) => resolve(path)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A frame column's value: a whole number from 1; NULL means the first frame. */
function frameOf(value: unknown, column: string, path: string): number {
  if (value === null || value === undefined) return 1;
  const frame = typeof value === 'bigint' ? Number(value) : value;
  if (typeof frame !== 'number' || !Number.isSafeInteger(frame) || frame < 1) {
    throw new KryptonError(`the image query's '${column}' column gives ${path} the frame ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}; frames are whole numbers counted from 1`, 'image');
  }
  return frame;
}

interface NamedPath {
  readonly path: string;
  /** 1 when absent. */
  readonly frame?: number;
  /** Given by the source (a query's image_id column); chosen from the path when absent. */
  readonly imageId?: string;
}

/**
 * Gives every distinct image (path and frame) one id, unique within the query:
 * - an id the source gives is kept; two different images given the same id, or one image given
 *   two ids, is an error (results would be stored under an id that names the wrong image);
 * - otherwise the file name without its extension (what metadata tables key images by), unless
 *   another file of the query has that name too: then those files are told apart by their path
 *   relative to the folder they share ('p1/scan', 'p2/scan'), with the extension where only it
 *   differs ('scan.png', 'scan.jpg'); a frame other than the first, or any frame of a file the
 *   query names several frames of, adds '#frame=N' ('series#frame=2').
 */
export function assignImageIds(named: readonly NamedPath[]): ResolvedImages {
  const byKey = new Map<string, { path: string; frame: number; given?: string; times: number }>();
  for (const { path, frame = 1, imageId } of named) {
    const key = imageKey({ path, frame });
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { path, frame, given: imageId, times: 1 });
      continue;
    }
    seen.times++;
    if (imageId !== undefined && seen.given !== undefined && imageId !== seen.given) {
      throw new KryptonError(`the image query gives ${imageLabel(seen)} two image_ids, '${seen.given}' and '${imageId}'; each image is stored once, under one id`, 'image');
    }
    seen.given ??= imageId;
  }
  const entries = [...byKey.values()];
  const ids = new Map<string, string>();
  const claimed = new Map<string, { path: string; frame: number }>();
  const claim = (id: string, entry: { path: string; frame: number }) => {
    const other = claimed.get(id);
    if (other !== undefined) throw duplicateId(id, other, entry);
    claimed.set(id, entry);
    ids.set(imageKey(entry), id);
  };
  for (const entry of entries) {
    if (entry.given === undefined) continue;
    if (entry.given === '') throw new KryptonError(`the image query gives ${imageLabel(entry)} an empty image_id`, 'image');
    claim(entry.given, entry);
  }
  const unnamed = entries.filter((entry) => !ids.has(imageKey(entry)));
  const framesOf = new Map<string, number>();
  for (const { path } of unnamed) framesOf.set(path, (framesOf.get(path) ?? 0) + 1);
  const groups = new Map<string, string[]>();
  for (const path of framesOf.keys()) {
    const id = defaultImageId(path);
    groups.set(id, [...(groups.get(id) ?? []), path]);
  }
  const fileIds = new Map<string, string>();
  for (const [id, group] of groups) {
    const chosen = group.length === 1 ? [id] : distinguishByPath(group);
    group.forEach((path, i) => fileIds.set(path, chosen[i]));
  }
  for (const entry of unnamed) {
    const fileId = fileIds.get(entry.path)!;
    claim(entry.frame === 1 && framesOf.get(entry.path) === 1 ? fileId : `${fileId}#frame=${entry.frame}`, entry);
  }
  return {
    images: entries.map((entry) => ({ path: entry.path, frame: entry.frame, imageId: ids.get(imageKey(entry))! })),
    repeated: entries.filter((entry) => entry.times > 1).map(({ path, frame, times }) => ({ path, frame, times })),
  };
}

function duplicateId(id: string, first: { path: string; frame: number }, second: { path: string; frame: number }): KryptonError {
  const what = first.path === second.path ? 'two frames' : 'two files';
  return new KryptonError(`image_id '${id}' would name ${what}, ${imageLabel(first)} and ${imageLabel(second)}; image ids must be unique within a query (give each its own image_id)`, 'image');
}

/** Paths relative to the folder they all share, '/'-separated, without the extension unless only it differs. */
function distinguishByPath(paths: readonly string[]): string[] {
  const common = paths.map(dirname).reduce(commonFolder);
  const relatives = paths.map((path) => relative(common, path).split(sep).join('/'));
  const stripped = relatives.map((r) => r.slice(0, r.length - extname(r).length));
  return new Set(stripped).size === stripped.length ? stripped : relatives;
}

function commonFolder(a: string, b: string): string {
  const left = a.split(sep);
  const right = b.split(sep);
  let i = 0;
  while (i < left.length && i < right.length && left[i] === right[i]) i++;
  return left.slice(0, i).join(sep) || sep;
}
