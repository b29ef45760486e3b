import { DOUBLE, LIST, listValue, timestampValue } from '@duckdb/node-api';
import type { DuckDBType } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { rollBack } from './transaction.js';
import { KryptonError } from '../errors.js';

export type ChannelOrder = 'rgb' | 'bgr' | 'gray';
export type OutputKind = 'logits' | 'probabilities' | 'sigmoid';

/** What CREATE MODEL records about a model: where it is and how to feed it. */
export interface ModelDefinition {
  /** Compared case-insensitively, like SQL identifiers; stored as written. */
  readonly name: string;
  readonly path: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly channels: ChannelOrder;
  /** Pixel values (0–255) are multiplied by this before mean/std, e.g. 1/255. */
  readonly scale: number;
  /** Per channel (or one value for all channels): (pixel·scale − mean) / std. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly labelsPath: string | null;
  readonly outputKind: OutputKind;
  /** The graph output holding the class scores (OUTPUT NAME); null: the first. */
  readonly outputName: string | null;
}

export interface ModelEntry extends ModelDefinition {
  readonly createdAt: Date;
}

export const MODELS_TABLE = 'krypton_models';

export const CREATE_MODELS_TABLE = `CREATE TABLE IF NOT EXISTS ${MODELS_TABLE} (
  name VARCHAR PRIMARY KEY,
  path VARCHAR NOT NULL,
  input_width INTEGER NOT NULL,
  input_height INTEGER NOT NULL,
  channels VARCHAR NOT NULL CHECK (channels IN ('rgb', 'bgr', 'gray')),
  scale DOUBLE NOT NULL,
  mean DOUBLE[] NOT NULL,
  std DOUBLE[] NOT NULL,
  labels_path VARCHAR,
  output_kind VARCHAR NOT NULL CHECK (output_kind IN ('logits', 'probabilities', 'sigmoid')),
  created_at TIMESTAMP NOT NULL,
  output_name VARCHAR
)`;

const COLUMNS = 'name, path, input_width, input_height, channels, scale, mean, std, labels_path, output_kind, created_at, output_name';

/**
 * Catalogs written before SIGMOID and OUTPUT NAME check output_kind against the two older kinds,
 * and DuckDB cannot drop a CHECK: such a table is copied into the current definition once.
 */
export async function upgradeModelsTable(connection: DuckDBConnection): Promise<void> {
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM duckdb_columns() WHERE table_name = '${MODELS_TABLE}' AND schema_name = current_schema() AND database_name = current_database() AND column_name = 'output_name'`,
  );
  if (Number(reader.getRowObjectsJS()[0].n) > 0) return;
  const old = 'name, path, input_width, input_height, channels, scale, mean, std, labels_path, output_kind, created_at';
  await connection.run('BEGIN TRANSACTION');
  try {
    await connection.run(`ALTER TABLE ${MODELS_TABLE} RENAME TO ${MODELS_TABLE}_before_sigmoid`);
    await connection.run(CREATE_MODELS_TABLE);
    await connection.run(`INSERT INTO ${MODELS_TABLE} (${old}) SELECT ${old} FROM ${MODELS_TABLE}_before_sigmoid`);
    await connection.run(`DROP TABLE ${MODELS_TABLE}_before_sigmoid`);
    await connection.run('COMMIT');
  } catch (error) {
    await rollBack(connection);
    throw error;
  }
}

// Left to itself the binder types a list by its first value: MEAN (128, -0.1, 0) would be INTEGER[].
const MEAN_STD_TYPES: DuckDBType[] = [];
MEAN_STD_TYPES[6] = LIST(DOUBLE);
MEAN_STD_TYPES[7] = LIST(DOUBLE);

export async function putModel(
  connection: DuckDBConnection,
  model: ModelDefinition,
  orReplace: boolean,
  now = new Date(),
): Promise<ModelEntry> {
  checkDefinition(model);
  const existing = await getModel(connection, model.name);
  if (existing && !orReplace) {
    throw new KryptonError(
      `model '${existing.name}' already exists; drop it first (DROP MODEL ${existing.name})`,
      'catalog',
    );
  }
  await connection.run('BEGIN TRANSACTION');
  try {
    if (existing) await connection.run(`DELETE FROM ${MODELS_TABLE} WHERE lower(name) = lower($1)`, [model.name]);
    await connection.run(`INSERT INTO ${MODELS_TABLE} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
      model.name,
      model.path,
      model.inputWidth,
      model.inputHeight,
      model.channels,
      model.scale,
      listValue([...model.mean]),
      listValue([...model.std]),
      model.labelsPath,
      model.outputKind,
      timestampValue(BigInt(now.getTime()) * 1000n),
      model.outputName,
    ], MEAN_STD_TYPES);
    await connection.run('COMMIT');
  } catch (error) {
    await rollBack(connection);
    throw error;
  }
  return { ...model, mean: [...model.mean], std: [...model.std], createdAt: now };
}

function checkDefinition(model: ModelDefinition): void {
  const fail = (problem: string) => new KryptonError(`model '${model.name}': ${problem}`, 'catalog');
  if (model.name.trim() === '') throw new KryptonError('a model needs a name', 'catalog');
  for (const [what, size] of [['input width', model.inputWidth], ['input height', model.inputHeight]] as const) {
    if (!Number.isInteger(size) || size < 1 || size > 65535) throw fail(`${what} must be a positive whole number, got ${size}`);
  }
  // A gray image may feed a 3-channel model (copied to each channel), each with its own statistics.
  for (const [what, values] of [['mean', model.mean], ['std', model.std]] as const) {
    if (values.length !== 1 && values.length !== 3) {
      throw fail(`${what} needs 1 or 3 values for ${model.channels} input, got ${values.length}`);
    }
    if (!values.every(Number.isFinite)) throw fail(`${what} must be finite numbers`);
  }
  if (model.std.some((s) => s === 0)) throw fail('std must not be 0');
  if (!Number.isFinite(model.scale) || model.scale === 0) throw fail(`scale must be a non-zero number, got ${model.scale}`);
}

export async function getModel(connection: DuckDBConnection, name: string): Promise<ModelEntry | undefined> {
  const reader = await connection.runAndReadAll(
    `SELECT ${COLUMNS} FROM ${MODELS_TABLE} WHERE lower(name) = lower($1)`,
    [name],
  );
  const [row] = reader.getRowObjectsJS();
  return row ? entryFromRow(row) : undefined;
}

export async function listModels(connection: DuckDBConnection): Promise<ModelEntry[]> {
  const reader = await connection.runAndReadAll(`SELECT ${COLUMNS} FROM ${MODELS_TABLE} ORDER BY lower(name)`);
  return reader.getRowObjectsJS().map(entryFromRow);
}

/** Returns whether a model was dropped; a missing one is an error unless `ifExists`. */
export async function dropModel(connection: DuckDBConnection, name: string, ifExists: boolean): Promise<boolean> {
  const reader = await connection.runAndReadAll(`DELETE FROM ${MODELS_TABLE} WHERE lower(name) = lower($1)`, [name]);
  const dropped = reader.rowsChanged > 0;
  if (!dropped && !ifExists) throw await unknownModel(connection, name);
  return dropped;
}

/** The error for a name not in the catalog, naming the ones that are. */
export async function unknownModel(connection: DuckDBConnection, name: string): Promise<KryptonError> {
  const known = (await listModels(connection)).map((m) => m.name);
  const hint = known.length > 0 ? `known models: ${known.join(', ')}` : 'no models are defined yet; use CREATE MODEL';
  return new KryptonError(`model '${name}' does not exist (${hint})`, 'catalog');
}

function entryFromRow(row: Record<string, unknown>): ModelEntry {
  return {
    name: String(row.name),
    path: String(row.path),
    inputWidth: Number(row.input_width),
    inputHeight: Number(row.input_height),
    channels: row.channels as ChannelOrder,
    scale: Number(row.scale),
    mean: (row.mean as number[]).map(Number),
    std: (row.std as number[]).map(Number),
    labelsPath: row.labels_path === null ? null : String(row.labels_path),
    outputKind: row.output_kind as OutputKind,
    outputName: row.output_name === null || row.output_name === undefined ? null : String(row.output_name),
    createdAt: row.created_at as Date,
  };
}
