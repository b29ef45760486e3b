import type { DuckDBConnection } from '@duckdb/node-api';
import { createJsonTableSql, getJsonEntry, putJsonEntry, type JsonTable } from './json-entries.js';

/**
 * Tuned approximate configurations, one per tuning key (model file hash, input handling, grid,
 * colour, class choice, quality target, strategies allowed): a later query with the same key
 * reuses the configuration instead of tuning again. Values are the planner's JSON.
 */
export interface TuningEntry {
  readonly key: string;
  readonly value: unknown;
  readonly tunedAt: Date;
}

export const TUNING_TABLE = 'krypton_tuning';
const TABLE: JsonTable = { name: TUNING_TABLE, timeColumn: 'tuned_at' };

export const CREATE_TUNING_TABLE = createJsonTableSql(TABLE);

export async function putTuning(connection: DuckDBConnection, key: string, value: unknown, tunedAt = new Date()): Promise<TuningEntry> {
  const entry = await putJsonEntry(connection, TABLE, key, value, tunedAt);
  return { key, value: entry.value, tunedAt };
}

export async function getTuning(connection: DuckDBConnection, key: string): Promise<TuningEntry | undefined> {
  const entry = await getJsonEntry(connection, TABLE, key);
  return entry && { key, value: entry.value, tunedAt: entry.writtenAt };
}
