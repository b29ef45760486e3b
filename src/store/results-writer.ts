import { listValue } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { rollBack } from './transaction.js';
import { appendArrowTable } from './arrow-to-duckdb.js';
import { imageKey } from './heatmap-record.js';
import type { HeatmapRecord } from './heatmap-record.js';
import { heatmapsToArrow } from './heatmaps-to-arrow.js';
import { quoteTableName } from './identifiers.js';
import type { TableName } from './identifiers.js';

export interface InsertResult {
  /** Rows written. */
  readonly inserted: number;
  /** Records left out because their (query_id, image_path, frame) was already in the table. */
  readonly skipped: number;
  /** Of the inserted, those that replaced rows computed from other file contents (a changed image or model). */
  readonly replaced: number;
}

/** The file contents a stored row was computed from; null in rows written before they were recorded. */
export interface StoredInputs {
  readonly imageSha256: string | null;
  readonly modelSha256: string | null;
}

/** Whether a stored row was computed from these inputs: rows without recorded hashes cannot be trusted to be. */
export function sameInputs(stored: StoredInputs, current: { readonly imageSha256?: string | null; readonly modelSha256?: string | null }): boolean {
  return stored.imageSha256 !== null && stored.modelSha256 !== null
    && stored.imageSha256 === current.imageSha256 && stored.modelSha256 === current.modelSha256;
}

const imageOf = (path: string, frame: number | undefined) => imageKey({ path, frame });
const pairKey = (queryId: string, imagePath: string, frame?: number) => `${queryId}\u0000${imageOf(imagePath, frame)}`;

/**
 * Writes one batch of heatmaps (the executor sends one image's) in its own transaction, so a run
 * that is interrupted keeps every batch written before. An image already stored for the same
 * query is skipped whole: a rerun never duplicates it, and never mixes two runs' classes. A record
 * that carries content hashes replaces stored rows of its (query, image) computed from other
 * contents (or from unrecorded ones), in the same transaction: one row per image, the current one.
 */
export async function insertHeatmaps(
  connection: DuckDBConnection,
  name: TableName,
  records: readonly HeatmapRecord[],
): Promise<InsertResult> {
  if (records.length === 0) return { inserted: 0, skipped: 0, replaced: 0 };
  refuseRepeats(records);
  await connection.run('BEGIN TRANSACTION');
  try {
    const stored = await storedPairs(connection, name, records);
    const stale = records.filter((r) => {
      const inputs = stored.get(pairKey(r.queryId, r.imagePath, r.frame));
      return inputs !== undefined && hasHashes(r) && !sameInputs(inputs, r);
    });
    for (const r of stale) {
      await connection.run(`DELETE FROM ${quoteTableName(name)} WHERE query_id = $1 AND image_path = $2 AND frame = $3`, [r.queryId, r.imagePath, r.frame ?? 1]);
    }
    const staleKeys = new Set(stale.map((r) => pairKey(r.queryId, r.imagePath, r.frame)));
    const fresh = records.filter((r) => !stored.has(pairKey(r.queryId, r.imagePath, r.frame)) || staleKeys.has(pairKey(r.queryId, r.imagePath, r.frame)));
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
    return { inserted: fresh.length, skipped: records.length - fresh.length, replaced: stale.length };
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
    const key = `${pairKey(r.queryId, r.imagePath, r.frame)}\u0000${r.classIndex}`;
    if (seen.has(key)) {
      throw new Error(`heatmap for ${r.imagePath}, frame ${r.frame ?? 1}, class ${r.classIndex}, query ${r.queryId} appears twice in one batch`);
    }
    seen.add(key);
  }
}

function hasHashes(record: HeatmapRecord): boolean {
  return typeof record.imageSha256 === 'string' && typeof record.modelSha256 === 'string';
}

/** (query, image and frame) already stored among the records', with the inputs their rows were computed from. */
async function storedPairs(
  connection: DuckDBConnection,
  name: TableName,
  records: readonly HeatmapRecord[],
): Promise<Map<string, StoredInputs>> {
  const queryIds = [...new Set(records.map((r) => r.queryId))];
  const imagePaths = [...new Set(records.map((r) => r.imagePath))];
  const reader = await connection.runAndReadAll(
    `SELECT query_id, image_path, frame, image_sha256, model_sha256 FROM ${quoteTableName(name)}
     WHERE query_id IN (SELECT unnest($1::VARCHAR[])) AND image_path IN (SELECT unnest($2::VARCHAR[]))`,
    [listValue(queryIds), listValue(imagePaths)],
  );
  return inputsByKey(reader.getRowsJS(), (queryId, imagePath, frame) => pairKey(queryId, imagePath, frame));
}

/** One entry per (query, image); an image stored with several rows counts as computed from their inputs only if all agree. */
function inputsByKey(rows: unknown[][], key: (queryId: string, imagePath: string, frame: number) => string): Map<string, StoredInputs> {
  const found = new Map<string, StoredInputs>();
  for (const [queryId, imagePath, frame, imageSha256, modelSha256] of rows) {
    const k = key(String(queryId), String(imagePath), frame === null ? 1 : Number(frame));
    const inputs = { imageSha256: imageSha256 === null ? null : String(imageSha256), modelSha256: modelSha256 === null ? null : String(modelSha256) };
    const seen = found.get(k);
    found.set(k, seen && !sameInputs(seen, inputs) ? { imageSha256: null, modelSha256: null } : inputs);
  }
  return found;
}

/**
 * Images a query has rows for, each with the file contents its row was computed from, keyed as
 * the executor keys images (imageKey: the path and the frame).
 */
export async function storedInputs(connection: DuckDBConnection, name: TableName, queryId: string): Promise<Map<string, StoredInputs>> {
  const reader = await connection.runAndReadAll(
    `SELECT query_id, image_path, frame, image_sha256, model_sha256 FROM ${quoteTableName(name)} WHERE query_id = $1`,
    [queryId],
  );
  return inputsByKey(reader.getRowsJS(), (_, imagePath, frame) => imageOf(imagePath, frame));
}

/** Image paths a query has finished, so a rerun can skip them. */
export async function completedImages(connection: DuckDBConnection, name: TableName, queryId: string): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT image_path FROM ${quoteTableName(name)} WHERE query_id = $1`,
    [queryId],
  );
  return new Set(reader.getRowsJS().map(([imagePath]) => String(imagePath)));
}
