import { basename, extname, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { KryptonError, messageOf } from '../errors.js';
import type { ImageSource } from '../parser/ast.js';
import type { Store } from '../store/index.js';

/** One image to occlude: where it is and the id its results are stored under. */
export interface ImageRef {
  readonly path: string;
  readonly imageId: string;
}

/** The file name without its extension: what metadata tables usually key images by. */
export function defaultImageId(path: string): string {
  return basename(path, extname(path));
}

/**
 * The images of an OCCLUDE source, in a stable order: a glob (sorted), a list (as written) or a
 * query whose first column is a path and whose optional image_id column names each image.
 * Relative paths are relative to the current folder.
 */
export async function resolveImages(source: ImageSource, store: Store): Promise<ImageRef[]> {
  switch (source.kind) {
    case 'glob': {
      const matches = await glob(source.pattern, { onlyFiles: true, absolute: true, expandDirectories: false }).catch((error: unknown) => {
        // The matcher refuses some patterns outright (e.g. one over 65,536 characters).
        const shown = source.pattern.length > 80 ? `${source.pattern.slice(0, 79)}…` : source.pattern;
        throw new KryptonError(`the image pattern '${shown}' (${source.pattern.length.toLocaleString('en-US')} characters) cannot be matched: ${messageOf(error)}`, 'image');
      });
      if (matches.length === 0) throw new KryptonError(`no images match '${source.pattern}'`, 'image');
      return matches.sort().map((path) => ({ path, imageId: defaultImageId(path) }));
    }
    case 'list':
      return source.paths.map((path) => ({ path: resolve(path), imageId: defaultImageId(path) }));
    case 'select': {
      const result = await store.query(source.sql);
      if (result.columns.length === 0) throw new KryptonError('the image query returns no columns; its first column must be an image path', 'image');
      const pathColumn = result.columns[0].name;
      const idColumn = result.columns.find((c) => c.name.toLowerCase() === 'image_id' && c.name !== pathColumn)?.name;
      const images: ImageRef[] = [];
      for (const row of result.rows) {
        const path = row[pathColumn];
        if (typeof path !== 'string' || path === '') {
          throw new KryptonError(`the image query's first column '${pathColumn}' must hold image paths, found ${path === null ? 'NULL' : JSON.stringify(path)}`, 'image');
        }
        const id = idColumn ? row[idColumn] : undefined;
        images.push({ path: resolve(path), imageId: id === undefined || id === null ? defaultImageId(path) : String(id) });
      }
      if (images.length === 0) throw new KryptonError('the image query returns no rows', 'image');
      return images;
    }
  }
}
