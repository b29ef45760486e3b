import type * as arrow from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { arrowTypeFor } from './arrow-types.js';
import { readColumns } from './duckdb-to-js.js';
import { rowsToArrow } from './rows-to-arrow.js';

export interface QueryColumn {
  readonly name: string;
  /** DuckDB's name for the type, e.g. 'INTEGER', 'FLOAT[]', 'DECIMAL(18,3)'. */
  readonly type: string;
}

export interface QueryResult {
  /** Names are made unique (DuckDB suffixes a repeated name: a, a:1) so they can key the row objects. */
  readonly columns: readonly QueryColumn[];
  /** Plain JS values (see duckdb-to-js.ts). DDL gives no rows; INSERT/UPDATE/DELETE one Count row. */
  readonly rows: readonly Record<string, unknown>[];
  /** The same rows as Arrow, built on first access. */
  readonly arrow: arrow.Table;
  /** Rows inserted, updated or deleted by the statement; 0 for others. */
  readonly rowsChanged: number;
}

/** Runs one statement and reads its whole result. */
export async function runQuery(connection: DuckDBConnection, sql: string): Promise<QueryResult> {
  const result = await connection.run(sql);
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  const rowsChanged = result.rowsChanged;
  const columns = await readColumns(result);
  const rowCount = columns[0]?.length ?? 0;
  const rows = Array.from({ length: rowCount }, (_, row) =>
    Object.fromEntries(names.map((name, column) => [name, columns[column][row]])),
  );
  let table: arrow.Table | undefined;
  return {
    columns: names.map((name, i) => ({ name, type: types[i].toString() })),
    rows,
    rowsChanged,
    get arrow() {
      table ??= rowsToArrow(
        rows,
        names.map((name, i) => ({ name, type: arrowTypeFor(types[i]) })),
      );
      return table;
    },
  };
}
