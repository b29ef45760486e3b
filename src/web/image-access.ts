import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { WebError } from './web-error.js';

/**
 * The folders whose files the server may read, and the one check every path goes through: the
 * path is resolved (symbolic links followed) and must then lie inside one of them. Nothing is ever
 * joined from a request's text onto a folder.
 */
export class ImageAccess {
  private constructor(private readonly folders: string[]) {}

  static async of(folders: readonly string[]): Promise<ImageAccess> {
    const resolved: string[] = [];
    for (const folder of folders) {
      const real = await realpath(folder).catch(() => {
        throw new WebError(400, `--images folder '${folder}' does not exist`);
      });
      if (!(await stat(real)).isDirectory()) throw new WebError(400, `--images '${folder}' is not a folder`);
      resolved.push(real);
    }
    return new ImageAccess(resolved);
  }

  /** The resolved folders, in the order given. */
  get roots(): readonly string[] {
    return this.folders;
  }

  add(folder: string): void {
    this.folders.push(folder);
  }

  /** Whether a resolved path lies inside one of the folders (the folder itself does not count). */
  contains(real: string): boolean {
    return this.folders.some((folder) => {
      const inside = relative(folder, real);
      return inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' && !isAbsolute(inside);
    });
  }

  /** The file's resolved path, or a 403 when it lies outside every folder (or a 404 when it is missing). */
  async resolve(path: unknown): Promise<string> {
    if (typeof path !== 'string' || path === '') throw new WebError(400, "'path' must name an image file");
    if (path.includes('\0')) throw new WebError(400, "'path' must not hold a NUL character");
    const real = await realpath(resolve(path)).catch(() => undefined);
    // A missing file outside the folders is refused like an existing one: the answer tells nothing of what exists there.
    if (real === undefined) {
      if (this.contains(resolve(path))) throw new WebError(404, `image '${path}' does not exist`);
      throw outside(path);
    }
    if (!this.contains(real)) throw outside(path);
    if (!(await stat(real)).isFile()) throw new WebError(400, `'${path}' is not a file`);
    return real;
  }
}

function outside(path: string): WebError {
  return new WebError(403, `'${path}' is outside the --images folders; only files under them can be read`);
}
