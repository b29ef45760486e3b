/**
 * Tables of DICOM tags (LOAD DICOM … INTO name): one row per file, keyed by its path.
 *
 *   path               VARCHAR   the file, absolute (as heatmaps' image_path records it)
 *   PatientID … ImageComments    the attributes of TAG_COLUMNS, typed (DATE, INTEGER, DOUBLE[])
 *   tags               JSON      every other attribute, by keyword
 *   deidentified       BOOLEAN   loaded with DEIDENTIFY
 *   NumberOfFrames     INTEGER   frames in the file (1 without the attribute): an OCCLUDE's frame
 *                                column counts up to it; NULL in rows loaded before it was added
 */
import { randomBytes } from 'node:crypto';
import * as arrow from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { KryptonError } from '../errors.js';
import { TAG_COLUMNS } from '../image/dicom/dicom-tags.js';
import type { DicomTags, TagColumnType } from '../image/dicom/dicom-tags.js';
import { appendArrowTable } from './arrow-to-duckdb.js';
import { errorLine } from './duckdb-error.js';
import { quoteIdentifier, quoteTableName } from './identifiers.js';
import type { TableName } from './identifiers.js';
import { rowsToArrow } from './rows-to-arrow.js';
import type { ArrowColumn } from './rows-to-arrow.js';

export interface DicomTagRecord {
  readonly path: string;
  readonly tags: DicomTags;
  readonly deidentified: boolean;
}

const ARROW_TYPES: Record<TagColumnType | 'JSON' | 'BOOLEAN', () => arrow.DataType> = {
  VARCHAR: () => new arrow.Utf8(),
  INTEGER: () => new arrow.Int32(),
  DATE: () => new arrow.DateDay(),
  'DOUBLE[]': () => new arrow.List(new arrow.Field('item', new arrow.Float64(), true)),
  JSON: () => new arrow.Utf8(),
  BOOLEAN: () => new arrow.Bool(),
};

const COLUMNS: readonly { name: string; type: TagColumnType | 'JSON' | 'BOOLEAN' }[] = [
  { name: 'path', type: 'VARCHAR' },
  ...TAG_COLUMNS,
  { name: 'tags', type: 'JSON' },
  { name: 'deidentified', type: 'BOOLEAN' },
  { name: 'NumberOfFrames', type: 'INTEGER' },
];

/** Columns added after the first release, at the end: a table that lacks only these gets them. */
const ADDED_COLUMNS = 1;

const KEY_TABLE = 'krypton_deidentify_key';

/** Creates the table if missing; an existing table of another shape is an error. */
export async function ensureDicomTagsTable(connection: DuckDBConnection, name: TableName): Promise<void> {
  const shown = quoteTableName(name);
  const definition = COLUMNS.map((c) => `${quoteIdentifier(c.name)} ${c.type}${c.name === 'path' ? ' PRIMARY KEY' : ''}`).join(', ');
  try {
    if (name.schema !== undefined && name.catalog === undefined) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(name.schema)}`);
    await connection.run(`CREATE TABLE IF NOT EXISTS ${shown} (${definition})`);
  } catch (error) {
    throw new KryptonError(`cannot create DICOM tags table ${shown}: ${errorLine(error)}`, 'store');
  }
  const describe = async () => (await connection.runAndReadAll(`DESCRIBE ${shown}`)).getRowObjectsJS().map((row) => `${String(row.column_name)} ${String(row.column_type)}`);
  let found = await describe();
  const wanted = COLUMNS.map((c) => `${c.name} ${c.type}`);
  const missing = COLUMNS.slice(found.length);
  if (missing.length > 0 && missing.length <= ADDED_COLUMNS && found.join(', ') === wanted.slice(0, found.length).join(', ')) {
    try {
      for (const c of missing) await connection.run(`ALTER TABLE ${shown} ADD COLUMN ${quoteIdentifier(c.name)} ${c.type}`);
    } catch (error) {
      throw new KryptonError(`cannot add the new columns to DICOM tags table ${shown}: ${errorLine(error)}`, 'store');
    }
    found = await describe();
  }
  if (found.join(', ') !== wanted.join(', ')) {
    throw new KryptonError(`table ${shown} exists but is not a DICOM tags table (its columns are ${found.slice(0, 3).join(', ')}…); choose another INTO name`, 'store');
  }
}

/** The files already in the table, each with whether it was loaded de-identified. */
export async function loadedDicomFiles(connection: DuckDBConnection, name: TableName): Promise<Map<string, boolean>> {
  const reader = await connection.runAndReadAll(`SELECT path, deidentified FROM ${quoteTableName(name)}`);
  return new Map(reader.getRowObjectsJS().map((row) => [String(row.path), row.deidentified === true]));
}

export async function insertDicomTags(connection: DuckDBConnection, name: TableName, records: readonly DicomTagRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({ path: r.path, ...r.tags.columns, tags: JSON.stringify(r.tags.other), deidentified: r.deidentified, NumberOfFrames: r.tags.numberOfFrames }));
  const columns: ArrowColumn[] = COLUMNS.map((c) => ({ name: c.name, type: ARROW_TYPES[c.type]() }));
  await connection.run('BEGIN TRANSACTION');
  try {
    const appender = await connection.createAppender(name.table, name.schema ?? null, name.catalog ?? null);
    try {
      appendArrowTable(appender, rowsToArrow(rows, columns));
      appender.closeSync();
    } catch (error) {
      appender.clear();
      appender.closeSync();
      throw error;
    }
    await connection.run('COMMIT');
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw new KryptonError(`cannot store the tags in ${quoteTableName(name)}: ${errorLine(error)}`, 'store');
  }
}

/**
 * The database's secret for DEIDENTIFY's pseudonyms: made once, at random, and kept in the
 * database, so a patient gets the same pseudonym in every load into it and an exported table
 * cannot be re-identified by hashing guessed IDs without it.
 */
export async function deidentifyKey(connection: DuckDBConnection): Promise<Buffer> {
  await connection.run(`CREATE TABLE IF NOT EXISTS ${KEY_TABLE} (key BLOB NOT NULL)`);
  await connection.run(`INSERT INTO ${KEY_TABLE} SELECT from_hex('${randomBytes(32).toString('hex')}') WHERE NOT EXISTS (SELECT 1 FROM ${KEY_TABLE})`);
  const reader = await connection.runAndReadAll(`SELECT hex(key) AS key FROM ${KEY_TABLE} LIMIT 1`);
  return Buffer.from(String(reader.getRowObjectsJS()[0].key), 'hex');
}
