import { timestampValue } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * A table of JSON values by key, each with the time it was written: what the catalog keeps of
 * machine calibration and of tuned configurations.
 */
export interface JsonEntry {
  readonly key: string;
  readonly value: unknown;
  readonly writtenAt: Date;
}

export interface JsonTable {
  readonly name: string;
  /** Column holding the time of writing, named for what the entry is (measured_at, tuned_at). */
  readonly timeColumn: string;
}

export function createJsonTableSql(table: JsonTable): string {
  return `CREATE TABLE IF NOT EXISTS ${table.name} (
  key VARCHAR PRIMARY KEY,
  value JSON NOT NULL,
  ${table.timeColumn} TIMESTAMP NOT NULL
)`;
}

export async function putJsonEntry(connection: DuckDBConnection, table: JsonTable, key: string, value: unknown, writtenAt = new Date()): Promise<JsonEntry> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`${table.name} entry '${key}' has no JSON form`);
  await connection.run(`INSERT OR REPLACE INTO ${table.name} (key, value, ${table.timeColumn}) VALUES ($1, $2, $3)`, [
    key,
    text,
    timestampValue(BigInt(writtenAt.getTime()) * 1000n),
  ]);
  return { key, value: JSON.parse(text) as unknown, writtenAt };
}

export async function getJsonEntry(connection: DuckDBConnection, table: JsonTable, key: string): Promise<JsonEntry | undefined> {
  const reader = await connection.runAndReadAll(`SELECT value::VARCHAR AS value, ${table.timeColumn} AS written_at FROM ${table.name} WHERE key = $1`, [key]);
  const [row] = reader.getRowObjectsJS();
  if (!row) return undefined;
  return { key, value: JSON.parse(String(row.value)) as unknown, writtenAt: row.written_at as Date };
}
