import type { Krypton } from '../krypton.js';
import type { Statement } from '../parser/ast.js';
import { quoteString } from '../store/index.js';
import { WebError } from './web-error.js';

/**
 * Refuses a statement that could change the database, unless writes are allowed. DuckDB's own
 * parser decides what SQL is a query: `json_serialize_sql` serialises SELECT statements only (WITH,
 * set operations, DESCRIBE, SHOW and SUMMARIZE are SELECTs to it), so anything else — DDL, DML,
 * COPY, ATTACH, SET, PRAGMA, several statements — is refused. Of Krypton's own statements only a
 * plain EXPLAIN (which plans and stores nothing) reads.
 */
export async function checkReadOnly(db: Krypton, statement: Statement): Promise<void> {
  if (statement.kind === 'Explain' && !statement.analyze) return;
  if (statement.kind === 'Sql' && (await isQuery(db, statement.text))) return;
  throw new WebError(403, `the database is read-only here (start krypton serve with --allow-write to change it): ${firstWords(statement.text)}`);
}

async function isQuery(db: Krypton, sql: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT json_serialize_sql(${quoteString(sql)}) AS parsed`);
  const parsed = JSON.parse(String(rows[0].parsed)) as { error?: boolean; statements?: unknown[] };
  return !parsed.error && parsed.statements?.length === 1;
}

function firstWords(text: string): string {
  const words = text.trim().replace(/\s+/g, ' ');
  return words.length > 60 ? `${words.slice(0, 57)}…` : words;
}
