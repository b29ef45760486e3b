import { timestampValue } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

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

export const CREATE_CALIBRATION_TABLE = `CREATE TABLE IF NOT EXISTS ${CALIBRATION_TABLE} (
  key VARCHAR PRIMARY KEY,
  value JSON NOT NULL,
  measured_at TIMESTAMP NOT NULL
)`;

export async function putCalibration(
  connection: DuckDBConnection,
  key: string,
  value: unknown,
  measuredAt = new Date(),
): Promise<CalibrationEntry> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`calibration '${key}' has no JSON form`);
  await connection.run(`INSERT OR REPLACE INTO ${CALIBRATION_TABLE} (key, value, measured_at) VALUES ($1, $2, $3)`, [
    key,
    text,
    timestampValue(BigInt(measuredAt.getTime()) * 1000n),
  ]);
  return { key, value: JSON.parse(text) as unknown, measuredAt };
}

export async function getCalibration(connection: DuckDBConnection, key: string): Promise<CalibrationEntry | undefined> {
  const reader = await connection.runAndReadAll(
    `SELECT key, value::VARCHAR AS value, measured_at FROM ${CALIBRATION_TABLE} WHERE key = $1`,
    [key],
  );
  const [row] = reader.getRowObjectsJS();
  if (!row) return undefined;
  return { key, value: JSON.parse(String(row.value)) as unknown, measuredAt: row.measured_at as Date };
}
