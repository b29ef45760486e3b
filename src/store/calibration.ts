import type { DuckDBConnection } from '@duckdb/node-api';
import { createJsonTableSql, getJsonEntry, putJsonEntry, type JsonTable } from './json-entries.js';

/**
 * Per-machine measurements the planner's cost model needs (e.g. conv throughput in GFLOP/s),
 * kept with the database so a machine is measured once. Values are any JSON.
 */
export interface CalibrationEntry {
  readonly key: string;
  readonly value: unknown;
  readonly measuredAt: Date;
}

export const CALIBRATION_TABLE = 'krypton_calibration';
const TABLE: JsonTable = { name: CALIBRATION_TABLE, timeColumn: 'measured_at' };

export const CREATE_CALIBRATION_TABLE = createJsonTableSql(TABLE);

export async function putCalibration(connection: DuckDBConnection, key: string, value: unknown, measuredAt = new Date()): Promise<CalibrationEntry> {
  const entry = await putJsonEntry(connection, TABLE, key, value, measuredAt);
  return { key, value: entry.value, measuredAt };
}

export async function getCalibration(connection: DuckDBConnection, key: string): Promise<CalibrationEntry | undefined> {
  const entry = await getJsonEntry(connection, TABLE, key);
  return entry && { key, value: entry.value, measuredAt: entry.writtenAt };
}
