import { timestampValue } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

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

export const CREATE_TUNING_TABLE = `CREATE TABLE IF NOT EXISTS ${TUNING_TABLE} (
  key VARCHAR PRIMARY KEY,
  value JSON NOT NULL,
  tuned_at TIMESTAMP NOT NULL
)`;

export async function putTuning(connection: DuckDBConnection, key: string, value: unknown, tunedAt = new Date()): Promise<TuningEntry> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`tuning '${key}' has no JSON form`);
  await connection.run(`INSERT OR REPLACE INTO ${TUNING_TABLE} (key, value, tuned_at) VALUES ($1, $2, $3)`, [
    key,
    text,
    timestampValue(BigInt(tunedAt.getTime()) * 1000n),
  ]);
  return { key, value: JSON.parse(text) as unknown, tunedAt };
}

export async function getTuning(connection: DuckDBConnection, key: string): Promise<TuningEntry | undefined> {
  const reader = await connection.runAndReadAll(`SELECT value::VARCHAR AS value, tuned_at FROM ${TUNING_TABLE} WHERE key = $1`, [key]);
  const [row] = reader.getRowObjectsJS();
  if (!row) return undefined;
  return { key, value: JSON.parse(String(row.value)) as unknown, tunedAt: row.tuned_at as Date };
}
