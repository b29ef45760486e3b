import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { KryptonError, messageOf } from '../errors.js';
import type { ImageSource } from '../parser/ast.js';
import type { Store } from '../store/index.js';

/** One image to occlude: where it is and the id its results are stored under. */
export interface ImageRef {
  readonly path: string;
  readonly imageId: string;
}

/** The images of a source, and the paths it named more than once (computed once each). */
export interface ResolvedImages {
  readonly images: ImageRef[];
  readonly repeated: readonly { readonly path: string; readonly times: number }[];
}

/** The file name without its extension: what metadata tables usually key images by. */
export function defaultImageId(path: string): string {
  return basename(path, extname(path));
}

/**
 * The images of an OCCLUDE source, in a stable order: a glob (sorted), a list (as written) or a
 * query whose first column is a path and whose optional image_id column names each image.
 * Relative paths are relative to the current folder. The path is the key: a path named twice is
 * one image. Ids are unique within the query: see `assignImageIds`.
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
      const named: NamedPath[] = [];
      for (const row of result.rows) {
        const path = row[pathColumn];
        if (typeof path !== 'string' || path === '') {
          throw new KryptonError(`the image query's first column '${pathColumn}' must hold image paths, found ${path === null ? 'NULL' : JSON.stringify(path)}`, 'image');
        }
        const id = idColumn ? row[idColumn] : undefined;
        named.push({ path: resolve(path), imageId: id === undefined || id === null ? undefined : String(id) });
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

interface NamedPath {
  readonly path: string;
  /** Given by the source (a query's image_id column); chosen from the path when absent. */
  readonly imageId?: string;
}

/**
 * Gives every distinct path one id, unique within the query:
 * - an id the source gives is kept; two different files given the same id, or one file given two
 *   ids, is an error (results would be stored under an id that names the wrong file);
 * - otherwise the file name without its extension (what metadata tables key images by), unless
 *   another image of the query has that name too: then those images are told apart by their path
 *   relative to the folder they share ('p1/scan', 'p2/scan'), with the extension where only it
 *   differs ('scan.png', 'scan.jpg').
 */
export function assignImageIds(named: readonly NamedPath[]): ResolvedImages {
  const byPath = new Map<string, { given?: string; times: number }>();
  for (const { path, imageId } of named) {
    const seen = byPath.get(path);
    if (!seen) {
      byPath.set(path, { given: imageId, times: 1 });
      continue;
    }
    seen.times++;
    if (imageId !== undefined && seen.given !== undefined && imageId !== seen.given) {
      throw new KryptonError(`the image query gives ${path} two image_ids, '${seen.given}' and '${imageId}'; each file is stored once, under one id`, 'image');
    }
    seen.given ??= imageId;
  }
  const paths = [...byPath.keys()];
  const ids = new Map<string, string>();
  const claimed = new Map<string, string>();
  for (const path of paths) {
    const given = byPath.get(path)!.given;
    if (given === undefined) continue;
    if (given === '') throw new KryptonError(`the image query gives ${path} an empty image_id`, 'image');
    const other = claimed.get(given);
    if (other !== undefined) throw duplicateId(given, other, path);
    claimed.set(given, path);
    ids.set(path, given);
  }
  const unnamed = paths.filter((path) => !ids.has(path));
  const groups = new Map<string, string[]>();
  for (const path of unnamed) {
    const id = defaultImageId(path);
    groups.set(id, [...(groups.get(id) ?? []), path]);
  }
  for (const [id, group] of groups) {
    const chosen = group.length === 1 ? [id] : distinguishByPath(group);
    group.forEach((path, i) => {
      const other = claimed.get(chosen[i]);
      if (other !== undefined) throw duplicateId(chosen[i], other, path);
      claimed.set(chosen[i], path);
      ids.set(path, chosen[i]);
    });
  }
  return {
    images: paths.map((path) => ({ path, imageId: ids.get(path)! })),
    repeated: paths.filter((path) => byPath.get(path)!.times > 1).map((path) => ({ path, times: byPath.get(path)!.times })),
  };
}

function duplicateId(id: string, first: string, second: string): KryptonError {
  return new KryptonError(`image_id '${id}' would name two files, ${first} and ${second}; image ids must be unique within a query (give each its own image_id)`, 'image');
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
