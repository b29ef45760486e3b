import type { Krypton } from '../krypton.js';
import { quoteIdentifier, quoteString } from '../store/index.js';
import { WebError } from './web-error.js';

/** A results table as the page names it: `heatmaps`, or `analytics.maps` outside the main schema. */
export interface ResultsTable {
  readonly name: string;
  /** The quoted SQL name. */
  readonly sql: string;
  readonly rows: number;
  /** Whether it has the frame column (tables made before frames get it from their next OCCLUDE). */
  readonly hasFrame: boolean;
}

/** The columns that make a table a Krypton results table, whatever else it holds. */
const SIGNATURE = ['query_id', 'image_path', 'image_id', 'model', 'class_index', 'base_probability', 'heatmap', 'width', 'height', 'max_drop', 'stride_x', 'patch_w'];

/** Every column the gallery shows, the heatmap itself fetched apart. */
const LISTED = [
  'query_id', 'image_id', 'image_path', 'model', 'class_index', 'class_label', 'base_probability', 'max_drop', 'max_drop_x', 'max_drop_y',
  'patch_w', 'patch_h', 'stride_x', 'stride_y', 'width', 'height', 'origin_x', 'origin_y', 'strategy', 'ssim', 'created_at',
];

export async function resultsTables(db: Krypton): Promise<ResultsTable[]> {
  const { rows } = await db.query(`
    SELECT table_catalog, table_schema, table_name, bool_or(column_name = 'frame') AS has_frame FROM information_schema.columns
    WHERE column_name IN (${[...SIGNATURE, 'frame'].map(quoteString).join(', ')}) AND table_catalog = current_database()
    GROUP BY table_catalog, table_schema, table_name HAVING count(DISTINCT column_name) FILTER (WHERE column_name <> 'frame') = ${SIGNATURE.length}
    ORDER BY table_schema <> 'main', table_schema, table_name`);
  const tables: ResultsTable[] = [];
  for (const row of rows) {
    const schema = String(row.table_schema);
    const table = String(row.table_name);
    const sql = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
    const count = (await db.query(`SELECT count(*)::INTEGER AS n FROM ${sql}`)).rows[0].n as number;
    tables.push({ name: schema === 'main' ? table : `${schema}.${table}`, sql, rows: count, hasFrame: Boolean(row.has_frame) });
  }
  return tables;
}

/** A table named by the page, looked up among the results tables (never pasted into SQL as given). */
export async function resultsTable(db: Krypton, name: unknown): Promise<ResultsTable> {
  const tables = await resultsTables(db);
  const found = tables.find((t) => t.name === name);
  if (!found) {
    const known = tables.length ? `results tables: ${tables.map((t) => t.name).join(', ')}` : 'the database has no results tables yet';
    throw new WebError(404, `no results table '${String(name)}' (${known})`);
  }
  return found;
}

export interface GalleryFilter {
  readonly model?: string;
  readonly classLabel?: string;
  /** Joined to the results (aliased h), e.g. `JOIN metadata m USING (image_id)`. */
  readonly join?: string;
  /** A SQL condition over h and the joined tables. */
  readonly where?: string;
  readonly limit?: number;
}

/** The query behind the gallery; the caller checks it reads only (read-only-sql.ts) before it runs. */
export function galleryQuery(table: ResultsTable, filter: GalleryFilter): string {
  const asked = Math.floor(filter.limit ?? 60);
  const limit = Number.isFinite(asked) ? Math.min(Math.max(asked, 1), 500) : 60;
  return `SELECT ${listed(table)} ${galleryRows(table, filter)} ORDER BY h.created_at DESC, h.image_id LIMIT ${limit}`;
}

/** How many rows the filter matches, beyond the ones shown; checked like galleryQuery. */
export function galleryCountQuery(table: ResultsTable, filter: GalleryFilter): string {
  return `SELECT count(*)::INTEGER AS matched ${galleryRows(table, filter)}`;
}

function galleryRows(table: ResultsTable, filter: GalleryFilter): string {
  const conditions = [
    filter.model ? `h.model = ${quoteString(filter.model)}` : undefined,
    filter.classLabel ? `coalesce(h.class_label, 'class ' || h.class_index) = ${quoteString(filter.classLabel)}` : undefined,
    filter.where?.trim() ? `(${filter.where})` : undefined,
  ].filter((c) => c !== undefined);
  return `FROM ${table.sql} h ${filter.join?.trim() ?? ''}
    ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}`;
}

/** The listed columns, and the frame (1 where a table predates frames or a row has none). */
function listed(table: ResultsTable): string {
  return [...LISTED.map((c) => `h.${c}`), table.hasFrame ? 'coalesce(h.frame, 1)::INTEGER AS frame' : '1 AS frame'].join(', ');
}

/** A frame named by the page: a whole number from 1, or absent for the first. */
export function frameParameter(value: unknown): number {
  if (value === undefined || value === '') return 1;
  const frame = Number(value);
  if (!Number.isSafeInteger(frame) || frame < 1) throw new WebError(400, `a frame is a whole number from 1, got '${String(value)}'`);
  return frame;
}

/** One stored heatmap (of one frame of a multi-frame file), with what drawing it over its image needs. */
export async function storedHeatmap(db: Krypton, table: ResultsTable, queryId: unknown, imagePath: unknown, frame: unknown): Promise<Record<string, unknown>> {
  if (typeof queryId !== 'string' || typeof imagePath !== 'string') throw new WebError(400, "a heatmap is named by 'query_id' and 'image_path'");
  const wanted = frameParameter(frame);
  const { rows } = await db.query(`
    SELECT ${listed(table)}, h.heatmap, m.input_width AS model_width, m.input_height AS model_height
    FROM ${table.sql} h LEFT JOIN krypton_models m ON lower(m.name) = lower(h.model)
    WHERE h.query_id = ${quoteString(queryId)} AND h.image_path = ${quoteString(imagePath)}
      AND ${table.hasFrame ? 'coalesce(h.frame, 1)' : '1'} = ${wanted}`);
  if (rows.length === 0) throw new WebError(404, `no heatmap of '${imagePath}'${wanted === 1 ? '' : ` frame ${wanted}`} for query ${queryId} in ${table.name}`);
  return rows[0];
}
