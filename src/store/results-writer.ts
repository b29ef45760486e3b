import { listValue } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { rollBack } from './transaction.js';
import { appendArrowTable } from './arrow-to-duckdb.js';
import type { HeatmapRecord } from './heatmap-record.js';
import { heatmapsToArrow } from './heatmaps-to-arrow.js';
import { quoteTableName } from './identifiers.js';
import type { TableName } from './identifiers.js';

export interface InsertResult {
  /** Rows written. */
  readonly inserted: number;
  /** Records left out because their (query_id, image_path) was already in the table. */
  readonly skipped: number;
}

const pairKey = (queryId: string, imagePath: string) => `${queryId}\u0000${imagePath}`;

/**
 * Writes one batch of heatmaps (the executor sends one image's) in its own transaction, so a run
 * that is interrupted keeps every batch written before. An image already stored for the same
 * query is skipped whole: a rerun never duplicates it, and never mixes two runs' classes.
 */
export async function insertHeatmaps(
  connection: DuckDBConnection,
  name: TableName,
  records: readonly HeatmapRecord[],
): Promise<InsertResult> {
  if (records.length === 0) return { inserted: 0, skipped: 0 };
  refuseRepeats(records);
  await connection.run('BEGIN TRANSACTION');
  try {
    const stored = await storedPairs(connection, name, records);
    const fresh = records.filter((r) => !stored.has(pairKey(r.queryId, r.imagePath)));
    if (fresh.length > 0) {
      const appender = await connection.createAppender(name.table, name.schema ?? null, name.catalog ?? null);
      try {
        appendArrowTable(appender, heatmapsToArrow(fresh));
        appender.closeSync();
      } catch (error) {
        discard(appender);
        throw error;
      }
    }
    await connection.run('COMMIT');
    return { inserted: fresh.length, skipped: records.length - fresh.length };
  } catch (error) {
    await rollBack(connection);
    throw error;
  }
}

/** Drops what an appender still buffers, so a failed batch is not flushed on close. */
function discard(appender: DuckDBAppender): void {
  try {
    appender.clear();
    appender.closeSync();
  } catch {
    // The error that brought us here is the one to report.
  }
}

/** The same image, class and query twice in one batch is a bug in the caller. */
function refuseRepeats(records: readonly HeatmapRecord[]): void {
  const seen = new Set<string>();
  for (const r of records) {
    const key = `${pairKey(r.queryId, r.imagePath)}\u0000${r.classIndex}`;
    if (seen.has(key)) {
      throw new Error(`heatmap for ${r.imagePath}, class ${r.classIndex}, query ${r.queryId} appears twice in one batch`);
    }
    seen.add(key);
  }
}

async function storedPairs(
  connection: DuckDBConnection,
  name: TableName,
  records: readonly HeatmapRecord[],
): Promise<Set<string>> {
  const queryIds = [...new Set(records.map((r) => r.queryId))];
  const imagePaths = [...new Set(records.map((r) => r.imagePath))];
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT query_id, image_path FROM ${quoteTableName(name)}
     WHERE query_id IN (SELECT unnest($1::VARCHAR[])) AND image_path IN (SELECT unnest($2::VARCHAR[]))`,
    [listValue(queryIds), listValue(imagePaths)],
  );
  return new Set(reader.getRowsJS().map(([queryId, imagePath]) => pairKey(String(queryId), String(imagePath))));
}

/** Image paths a query has finished, so a rerun can skip them. */
export async function completedImages(connection: DuckDBConnection, name: TableName, queryId: string): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT image_path FROM ${quoteTableName(name)} WHERE query_id = $1`,
    [queryId],
  );
  return new Set(reader.getRowsJS().map(([imagePath]) => String(imagePath)));
}
