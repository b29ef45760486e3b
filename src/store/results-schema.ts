import type { DuckDBConnection } from '@duckdb/node-api';
import { KryptonError } from '../errors.js';
import { errorLine } from './duckdb-error.js';
import { quoteIdentifier, quoteTableName } from './identifiers.js';
import type { TableName } from './identifiers.js';

export const DEFAULT_RESULTS_TABLE = 'heatmaps';

export interface ResultsColumn {
  readonly name: string;
  /** The type exactly as DuckDB's DESCRIBE prints it. */
  readonly type: string;
  readonly nullable: boolean;
  /** Given to the rows of an older table when the column is added to it. */
  readonly addedDefault?: string;
}

/**
 * The schema of every results table, in column order (appends go by position). One row is one
 * heatmap: one image, one class, one patch geometry.
 *
 *   query_id          VARCHAR    the OCCLUDE statement's run; reruns with the same id resume
 *   image_path        VARCHAR    the image file as the query matched it
 *   image_id          VARCHAR    the key users join on (the file name without its extension)
 *   model             VARCHAR    catalog name of the model
 *   class_index       INTEGER    class whose probability the heatmap shows
 *   class_label       VARCHAR    its label, NULL without a labels file
 *   base_probability  DOUBLE     that class's probability on the unoccluded image
 *   patch_h, patch_w  INTEGER    patch size in pixels (of the model's input image)
 *   stride_y, stride_x INTEGER   patch step in pixels
 *   strategy          VARCHAR    how it was computed, e.g. 'full', 'incremental', 'approximate'
 *   height, width     INTEGER    heatmap rows and columns
 *   heatmap           FLOAT[]    height × width probabilities, row-major: cell (x, y) is
 *                                heatmap[y * width + x + 1] in SQL (lists count from 1)
 *   min_probability   DOUBLE     smallest heatmap value
 *   max_drop          DOUBLE     base_probability - min_probability
 *   max_drop_x/_y     INTEGER    pixel position (top-left) of the patch with the largest drop;
 *                                the first such cell in row-major order on ties
 *   elapsed_ms        DOUBLE     time spent on this heatmap
 *   created_at        TIMESTAMP  when the row was written, UTC
 *   origin_x/_y       INTEGER    pixel position of cell (0, 0)'s patch: cell (x, y) covers the patch
 *                                at (origin_x + x * stride_x, origin_y + y * stride_y)
 *   ssim              DOUBLE     SSIM against the exact heatmap, where it was measured: the tuning
 *                                sample's images and those VERIFY chose; NULL elsewhere (exact
 *                                results have none to measure)
 *   tau               DOUBLE     propagation threshold of incremental plans (1 = exact); NULL for naive
 *   coarse_stride_x/_y INTEGER   drill-down's stage-1 stride; NULL without drill-down
 *   drill_fraction    DOUBLE     drill-down's share of cells run at the requested stride; NULL without
 *   image_sha256      VARCHAR    SHA-256 of the image file's bytes the heatmap was computed from
 *   model_sha256      VARCHAR    SHA-256 of the model file; a rerun recomputes a row whose image or
 *                                model file changed since (NULL in rows written before these existed)
 *   frame             INTEGER    the frame of a multi-frame DICOM file, from 1; 1 for every other
 *                                image (and in rows written before it existed). An image is its
 *                                (image_path, frame)
 */
export const RESULTS_COLUMNS: readonly ResultsColumn[] = [
  column('query_id', 'VARCHAR'),
  column('image_path', 'VARCHAR'),
  column('image_id', 'VARCHAR'),
  column('model', 'VARCHAR'),
  column('class_index', 'INTEGER'),
  column('class_label', 'VARCHAR', true),
  column('base_probability', 'DOUBLE'),
  column('patch_h', 'INTEGER'),
  column('patch_w', 'INTEGER'),
  column('stride_y', 'INTEGER'),
  column('stride_x', 'INTEGER'),
  column('strategy', 'VARCHAR'),
  column('height', 'INTEGER'),
  column('width', 'INTEGER'),
  column('heatmap', 'FLOAT[]'),
  column('min_probability', 'DOUBLE'),
  column('max_drop', 'DOUBLE'),
  column('max_drop_x', 'INTEGER'),
  column('max_drop_y', 'INTEGER'),
  column('elapsed_ms', 'DOUBLE'),
  column('created_at', 'TIMESTAMP'),
  column('origin_x', 'INTEGER'),
  column('origin_y', 'INTEGER'),
  column('ssim', 'DOUBLE', true),
  column('tau', 'DOUBLE', true),
  column('coarse_stride_x', 'INTEGER', true),
  column('coarse_stride_y', 'INTEGER', true),
  column('drill_fraction', 'DOUBLE', true),
  column('image_sha256', 'VARCHAR', true),
  column('model_sha256', 'VARCHAR', true),
  { ...column('frame', 'INTEGER'), addedDefault: '1' },
];

/** Columns added after the first release: a table that lacks only these gets them added. */
const ADDED_COLUMNS = new Set(['tau', 'coarse_stride_x', 'coarse_stride_y', 'drill_fraction', 'image_sha256', 'model_sha256', 'frame']);

function column(name: string, type: string, nullable = false): ResultsColumn {
  return { name, type, nullable };
}

export function createResultsTableSql(name: TableName): string {
  const columns = RESULTS_COLUMNS.map(
    (c) => `  ${quoteIdentifier(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${quoteTableName(name)} (\n${columns.join(',\n')}\n)`;
}

/** Creates the table (and its schema) if missing; refuses an existing table of another shape. */
export async function ensureResultsTable(connection: DuckDBConnection, name: TableName): Promise<void> {
  const shown = quoteTableName(name);
  try {
    if (name.schema !== undefined && name.catalog === undefined) {
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(name.schema)}`);
    }
    await connection.run(createResultsTableSql(name));
  } catch (error) {
    throw new KryptonError(`cannot create results table ${shown}: ${errorLine(error)}`, 'store');
  }
  await refuseViewTarget(connection, name);
  let found = await describe(connection, shown);
  const missing = RESULTS_COLUMNS.slice(found.length);
  if (missing.length > 0 && missing.every((c) => ADDED_COLUMNS.has(c.name)) && !describeDifference(found, found.length)) {
    try {
      for (const c of missing) await connection.run(`ALTER TABLE ${shown} ADD COLUMN ${quoteIdentifier(c.name)} ${c.type}${c.addedDefault ? ` DEFAULT ${c.addedDefault}` : ''}`);
    } catch (error) {
      throw new KryptonError(`cannot add the new columns to results table ${shown}: ${errorLine(error)}`, 'store');
    }
    found = await describe(connection, shown);
  }
  const difference = describeDifference(found);
  if (difference) {
    throw new KryptonError(
      `table ${shown} exists but is not a Krypton results table (${difference}); choose another INTO name`,
      'store',
    );
  }
}

/**
 * CREATE TABLE IF NOT EXISTS passes over a view of the same name, and appending to it fails only
 * once heatmaps are computed. An empty INSERT resolves the name as the writer will, and changes
 * nothing; a name that does not exist yet passes.
 */
export async function refuseViewTarget(connection: DuckDBConnection, name: TableName): Promise<void> {
  const shown = quoteTableName(name);
  try {
    await connection.run(`INSERT INTO ${shown} SELECT * FROM ${shown} LIMIT 0`);
  } catch (error) {
    const message = errorLine(error);
    if (/is not an? table/i.test(message)) throw new KryptonError(`${shown} is a view, not a table: results cannot be stored in it; choose another INTO name`, 'store');
  }
}

async function describe(connection: DuckDBConnection, shown: string): Promise<{ name: string; type: string }[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${shown}`);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/** The first column that differs from the schema, among the first `upTo` (all by default). */
function describeDifference(found: readonly { name: string; type: string }[], upTo = Math.max(found.length, RESULTS_COLUMNS.length)): string | undefined {
  for (let i = 0; i < upTo; i++) {
    const want = RESULTS_COLUMNS[i];
    const have = found[i];
    if (!want) return `unexpected column ${have.name} ${have.type}`;
    if (!have) return `missing column ${want.name} ${want.type}`;
    if (have.name !== want.name || have.type !== want.type) {
      return `column ${i + 1} is ${have.name} ${have.type}, expected ${want.name} ${want.type}`;
    }
  }
  return undefined;
}

/**
 * `FROM heatmap_cells('heatmaps')`: one row per heatmap cell. A table macro reads any results
 * table through `query`, so one definition serves every INTO name, written inside the string as
 * INTO took it: `heatmap_cells('analytics."My Maps"')`, `heatmap_cells('"we""ird"')`
 * (`query_table` reads no name with a doubled quote in it). x/y are cell indices, pixel_x/pixel_y
 * the top-left of the patch that produced the cell.
 */
export const HEATMAP_CELLS_MACRO = `CREATE OR REPLACE MACRO heatmap_cells(tbl) AS TABLE
SELECT query_id, image_id, image_path, model, class_index, x, y,
       origin_x + x * stride_x AS pixel_x, origin_y + y * stride_y AS pixel_y, value
FROM (
  SELECT *, (cell % width)::INTEGER AS x, (cell // width)::INTEGER AS y
  FROM (
    SELECT query_id, image_id, image_path, model, class_index, width, stride_x, stride_y, origin_x, origin_y,
           unnest(range(len(heatmap))) AS cell, unnest(heatmap) AS value
    FROM query('SELECT * FROM ' || tbl)
  )
)`;
