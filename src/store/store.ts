import type { DuckDBConnection } from '@duckdb/node-api';
import { KryptonError, isKryptonError } from '../errors.js';
import { errorLine, isDuckDBError } from './duckdb-error.js';
import { CREATE_CALIBRATION_TABLE, getCalibration, putCalibration } from './calibration.js';
import { deidentifyKey, ensureDicomTagsTable, insertDicomTags, loadedDicomFiles } from './dicom-tags-table.js';
import type { DicomTagRecord } from './dicom-tags-table.js';
import { CREATE_TUNING_TABLE, getTuning, putTuning } from './tuning-cache.js';
import type { TuningEntry } from './tuning-cache.js';
import type { CalibrationEntry } from './calibration.js';
import type { HeatmapRecord } from './heatmap-record.js';
import { parseTableName, quoteString as quoteSqlString, quoteTableName } from './identifiers.js';
import type { TableName } from './identifiers.js';
import { CREATE_MODELS_TABLE, dropModel, getModel, listModels, putModel, unknownModel, upgradeModelsTable } from './model-catalog.js';
import type { ModelDefinition, ModelEntry } from './model-catalog.js';
import { openDatabase } from './open-database.js';
import type { OpenDatabase } from './open-database.js';
import { DEFAULT_RESULTS_TABLE, HEATMAP_CELLS_MACRO, ensureResultsTable, refuseViewTarget } from './results-schema.js';
import { completedImages, insertHeatmaps, storedInputs } from './results-writer.js';
import type { InsertResult, StoredInputs } from './results-writer.js';
import { runQuery } from './run-query.js';
import type { QueryResult } from './run-query.js';
import { registerSsimFunction } from './ssim-function.js';

/**
 * Opens (or creates) a Krypton database: a DuckDB file holding the model catalog, calibration and
 * results tables. `:memory:` gives a throwaway one. Only one process (and one Store per process)
 * may have a file open at a time.
 */
export async function openStore(path: string): Promise<Store> {
  const database = await openDatabase(path);
  try {
    for (const ddl of [CREATE_MODELS_TABLE, CREATE_CALIBRATION_TABLE, CREATE_TUNING_TABLE, HEATMAP_CELLS_MACRO]) {
      await database.connection.run(ddl);
    }
    await upgradeModelsTable(database.connection);
    registerSsimFunction(database.connection);
  } catch (error) {
    database.release();
    throw new KryptonError(`cannot prepare database '${path}': ${errorLine(error)}`, 'store');
  }
  return new Store(database);
}

/**
 * The one connection is used by one operation at a time: transactions of concurrent callers
 * would otherwise interleave on it.
 */
export class Store {
  private queue: Promise<unknown> = Promise.resolve();
  /** Results tables whose schema was checked since the last user statement. */
  private readonly checkedTables = new Set<string>();
  private closed = false;

  constructor(private readonly database: OpenDatabase) {}

  /** The database file's resolved path, or ':memory:'. */
  get path(): string {
    return this.database.path;
  }

  /** Any one SQL statement; DuckDB errors become one-line KryptonErrors. */
  query(sql: string): Promise<QueryResult> {
    return this.exclusive(async (connection) => {
      // The statement may drop or alter a results table.
      this.checkedTables.clear();
      return runQuery(connection, sql);
    });
  }

  putModel(model: ModelDefinition, options: { orReplace?: boolean } = {}): Promise<ModelEntry> {
    return this.exclusive((connection) => putModel(connection, model, options.orReplace ?? false));
  }

  getModel(name: string): Promise<ModelEntry | undefined> {
    return this.exclusive((connection) => getModel(connection, name));
  }

  /** Like getModel, but a missing model is a KryptonError that names the known ones. */
  requireModel(name: string): Promise<ModelEntry> {
    return this.exclusive(async (connection) => {
      const model = await getModel(connection, name);
      if (!model) throw await unknownModel(connection, name);
      return model;
    });
  }

  /** Returns whether a model was dropped; a missing one is an error unless `ifExists`. */
  dropModel(name: string, options: { ifExists?: boolean } = {}): Promise<boolean> {
    return this.exclusive((connection) => dropModel(connection, name, options.ifExists ?? false));
  }

  listModels(): Promise<ModelEntry[]> {
    return this.exclusive((connection) => listModels(connection));
  }

  getCalibration(key: string): Promise<CalibrationEntry | undefined> {
    return this.exclusive((connection) => getCalibration(connection, key));
  }

  putCalibration(key: string, value: unknown): Promise<CalibrationEntry> {
    return this.exclusive((connection) => putCalibration(connection, key, value));
  }

  getTuning(key: string): Promise<TuningEntry | undefined> {
    return this.exclusive((connection) => getTuning(connection, key));
  }

  putTuning(key: string, value: unknown): Promise<TuningEntry> {
    return this.exclusive((connection) => putTuning(connection, key, value));
  }

  /** A DuckDB variable set with SET VARIABLE, as text; undefined when unset. */
  async variable(name: string): Promise<string | undefined> {
    const { rows } = await this.exclusive((connection) => runQuery(connection, `SELECT getvariable(${quoteSqlString(name)})::VARCHAR AS value`));
    const value = rows[0]?.value;
    return value === null || value === undefined ? undefined : String(value);
  }

  /** Creates the results table if missing; an existing table of another shape is an error. */
  ensureResultsTable(table: string = DEFAULT_RESULTS_TABLE): Promise<void> {
    return this.exclusive((connection) => this.ensureChecked(connection, parseTableName(table)));
  }

  /** Refuses an INTO name that is a view, creating nothing: for work done before the table is made. */
  checkResultsTarget(table: string = DEFAULT_RESULTS_TABLE): Promise<void> {
    return this.exclusive((connection) => refuseViewTarget(connection, parseTableName(table)));
  }

  /** Writes one batch of heatmaps in its own transaction; see results-writer.ts. */
  insertHeatmaps(table: string, records: readonly HeatmapRecord[]): Promise<InsertResult> {
    const name = parseTableName(table);
    return this.exclusive(async (connection) => {
      await this.ensureChecked(connection, name);
      return insertHeatmaps(connection, name, records);
    });
  }

  /** Image paths the query already has rows for (creating the table if it is missing). */
  completedImages(table: string, queryId: string): Promise<Set<string>> {
    const name = parseTableName(table);
    return this.exclusive(async (connection) => {
      await this.ensureChecked(connection, name);
      return completedImages(connection, name, queryId);
    });
  }

  /** Images the query has rows for, with the file contents (hashes) each row was computed from. */
  storedInputs(table: string, queryId: string): Promise<Map<string, StoredInputs>> {
    const name = parseTableName(table);
    return this.exclusive(async (connection) => {
      await this.ensureChecked(connection, name);
      return storedInputs(connection, name, queryId);
    });
  }

  /** The files a DICOM tags table holds (creating it if missing), each with whether it was de-identified. */
  loadedDicomFiles(table: string): Promise<Map<string, boolean>> {
    const name = parseTableName(table);
    return this.exclusive(async (connection) => {
      await ensureDicomTagsTable(connection, name);
      return loadedDicomFiles(connection, name);
    });
  }

  /** Adds rows to a DICOM tags table in one transaction; see dicom-tags-table.ts. */
  insertDicomTags(table: string, records: readonly DicomTagRecord[]): Promise<void> {
    const name = parseTableName(table);
    return this.exclusive(async (connection) => {
      await ensureDicomTagsTable(connection, name);
      await insertDicomTags(connection, name, records);
    });
  }

  /** The database's secret for DEIDENTIFY's pseudonyms, made on first use. */
  deidentifyKey(): Promise<Buffer> {
    return this.exclusive((connection) => deidentifyKey(connection));
  }

  /** Waits for running operations, then closes the database. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    this.database.release();
  }

  private async ensureChecked(connection: DuckDBConnection, name: TableName): Promise<void> {
    const key = quoteTableName(name).toLowerCase();
    if (this.checkedTables.has(key)) return;
    await ensureResultsTable(connection, name);
    this.checkedTables.add(key);
  }

  private exclusive<T>(operation: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new KryptonError(`database '${this.path}' is closed`, 'store'));
    const run = this.queue.then(() => operation(this.database.connection)).catch((error: unknown) => {
      throw isKryptonError(error) ? error : asStoreError(error);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** DuckDB's own errors (bad SQL, constraint violations) are the user's to act on. */
function asStoreError(error: unknown): unknown {
  if (isDuckDBError(error)) {
    return new KryptonError(errorLine(error), 'store');
  }
  return error;
}
