import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { KryptonError } from '../errors.js';
import { errorLine } from './duckdb-error.js';

export const IN_MEMORY = ':memory:';

/** A DuckDB instance with the one connection the store uses. */
export interface OpenDatabase {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  /** The resolved file path, or ':memory:'. */
  readonly path: string;
  release(): void;
}

/*
 * DuckDB's file lock only keeps other processes out: a second instance on the same file in this
 * process opens without complaint and the two would overwrite each other's writes.
 */
const openInThisProcess = new Set<string>();

export async function openDatabase(path: string): Promise<OpenDatabase> {
  const target = path === IN_MEMORY ? IN_MEMORY : checkedFilePath(path);
  if (target !== IN_MEMORY && openInThisProcess.has(target)) {
    throw new KryptonError(`database '${path}' is already open in this process; close it first`, 'store');
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(target);
  } catch (error) {
    throw explainOpenError(path, error);
  }
  const connection = await instance.connect();
  if (target !== IN_MEMORY) openInThisProcess.add(target);
  let released = false;
  return {
    instance,
    connection,
    path: target,
    release() {
      if (released) return;
      released = true;
      connection.closeSync();
      instance.closeSync();
      openInThisProcess.delete(target);
    },
  };
}

function checkedFilePath(path: string): string {
  const absolute = resolve(path);
  const folder = dirname(absolute);
  if (!existsSync(folder)) {
    throw new KryptonError(`cannot open database '${path}': folder '${folder}' does not exist`, 'store');
  }
  if (existsSync(absolute) && statSync(absolute).isDirectory()) {
    throw new KryptonError(`cannot open database '${path}': it is a folder, not a file`, 'store');
  }
  // Resolve links so one file reached by two names is still recognised as open.
  return existsSync(absolute) ? realpathSync(absolute) : join(realpathSync(folder), basename(absolute));
}

function explainOpenError(path: string, error: unknown): KryptonError {
  const message = errorLine(error);
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  if (lock) {
    return new KryptonError(
      `database '${path}' is in use by another process (${lock[1]}, PID ${lock[2]}); close it there or choose another file`,
      'store',
    );
  }
  if (/not a valid DuckDB database file/i.test(message)) {
    return new KryptonError(`'${path}' is not a DuckDB database file; choose another path`, 'store');
  }
  return new KryptonError(`cannot open database '${path}': ${message.replace(/^IO Error: /, '')}`, 'store');
}
