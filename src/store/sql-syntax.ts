/**
 * DuckDB's parser on its own: a script's SQL is checked for syntax errors before any statement
 * runs, as Krypton's own statements are. Only parsed, never bound, so a table that an earlier
 * statement of the script creates is not missed. A database of its own (in memory, empty) does the
 * parsing, so a script can be checked before the user's database is opened.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { errorLine } from './duckdb-error.js';
import { quoteString } from './identifiers.js';

/** Where in the SQL text (0-based, in characters) its first syntax error is, and what it is. */
export interface SqlSyntaxError {
  readonly offset: number;
  readonly detail: string;
}

let parser: Promise<DuckDBConnection> | undefined;

function parserConnection(): Promise<DuckDBConnection> {
  parser ??= DuckDBInstance.create(':memory:').then((instance) => instance.connect());
  return parser;
}

/** The first syntax error of one SQL statement, or undefined when DuckDB parses it. */
export async function sqlSyntaxError(sql: string): Promise<SqlSyntaxError | undefined> {
  const connection = await parserConnection();
  try {
    await connection.extractStatements(sql);
    return undefined;
  } catch (error) {
    const fallback = errorLine(error).replace(/^Failed to extract statements: /, '').replace(/^Parser Error: /, '');
    return (await locateSyntaxError(connection, sql)) ?? { offset: 0, detail: fallback };
  }
}

/** extractStatements says what is wrong but not where; json_serialize_sql reports the position. */
async function locateSyntaxError(connection: DuckDBConnection, sql: string): Promise<SqlSyntaxError | undefined> {
  try {
    const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${quoteString(sql)})::VARCHAR AS report`);
    const report = JSON.parse(String(reader.getRowObjectsJS()[0]?.report)) as { error?: boolean; error_type?: string; error_message?: string; position?: string };
    if (!report.error || report.error_type !== 'parser' || report.error_message === undefined) return undefined;
    const offset = Number(report.position);
    return { offset: Number.isInteger(offset) && offset >= 0 && offset <= sql.length ? offset : 0, detail: report.error_message };
  } catch {
    return undefined;
  }
}
