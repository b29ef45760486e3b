import { KryptonError } from '../../../src/errors';
import { ImageFailures, SyntaxErrors } from '../../../src/krypton';
import type { Krypton } from '../../../src/krypton';
import type { ParsedScript, Statement } from '../../../src/parser/index';
import { describeThrown } from './parse-properties';

const OBJECTS = `SELECT coalesce(string_agg(database_name || '.' || schema_name || '.' || table_name || ': ' || sql, chr(10) ORDER BY database_name, schema_name, table_name), '') AS objects
  FROM duckdb_tables() WHERE NOT internal`;

/** Per database, the tables last seen and the query that digests their rows. */
const digestQueries = new WeakMap<Krypton, { objects: string; query: string }>();

/**
 * Everything a script could change: every table with its definition and its rows (their count and
 * the sum of their hashes). One query while the tables stay the same; when they change, the query is
 * built anew for them.
 */
export async function databaseSnapshot(db: Krypton): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const cached = digestQueries.get(db);
    if (cached !== undefined) {
      const row = await db.query(cached.query).then((result) => result.rows[0], () => undefined);
      if (row !== undefined && row.objects === cached.objects) return JSON.stringify(row, jsonValue);
    }
    const tables = await db.query(`SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE NOT internal ORDER BY ALL`);
    const digests = tables.rows.map((row, index) => {
      const name = [row.database_name, row.schema_name, row.table_name].map((part) => `"${String(part).replaceAll('"', '""')}"`).join('.');
      // The sum of row hashes does not depend on the order rows are stored in, and needs no sort.
      return `(SELECT count(*) || ' ' || coalesce(sum(hash(t)), 0) FROM ${name} t) AS t${index}`;
    });
    const query = `SELECT (${OBJECTS}) AS objects${digests.map((d) => `, ${d}`).join('')}`;
    digestQueries.set(db, { objects: String((await db.query(OBJECTS)).rows[0].objects), query });
  }
  throw new Error('the tables keep changing while the snapshot is taken');
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

export interface EngineCheck {
  readonly problems: string[];
  /** The snapshot after the case, to compare the next case against. */
  readonly snapshot: string;
  readonly ran: number;
  readonly failed: boolean;
}

/**
 * Runs a fuzz script through the engine as the library does and checks what a failure must be: a
 * KryptonError (a script with syntax errors is refused whole, with the parser's own messages, each
 * positioned; any other failure is one line), and a database left exactly as it was before the
 * failing statement. `safe` says whether a statement may run at all (nothing the fuzzer damaged
 * may reach real images or write outside its folder); when one may not, the case stops there.
 */
export async function checkEngine(
  db: Krypton,
  text: string,
  parsed: ParsedScript,
  before: string,
  safe: (statement: Statement) => boolean,
): Promise<EngineCheck> {
  const problems: string[] = [];
  if (parsed.errors.length > 0) {
    try {
      await db.execute(text);
      problems.push('execute ran a script that has syntax errors');
    } catch (error) {
      if (!(error instanceof SyntaxErrors)) problems.push(`execute refused a script with syntax errors with ${describeThrown(error)}`);
      else if (error.problems.join('\n') !== parsed.errors.map((e) => e.message).join('\n')) problems.push('execute reported other problems than parseScript');
    }
    const after = await databaseSnapshot(db);
    if (after !== before) problems.push('a script with syntax errors changed the database');
    return { problems, snapshot: after, ran: 0, failed: true };
  }
  let snapshot = before;
  let ran = 0;
  for (const statement of parsed.statements) {
    if (!safe(statement)) break;
    ran++;
    try {
      await db.runStatement(statement);
    } catch (error) {
      if (!(error instanceof KryptonError)) problems.push(`${statement.kind} failed with ${describeThrown(error)}`);
      else if (/[\n\r]/.test(error.message)) problems.push(`${statement.kind} failed with a message of several lines: ${JSON.stringify(error.message.slice(0, 200))}`);
      const after = await databaseSnapshot(db);
      // An OCCLUDE whose images failed ran: it stores the others (and makes its results table) before failing.
      if (after !== snapshot && !(error instanceof ImageFailures)) problems.push(`a failing ${statement.kind} changed the database (${JSON.stringify(error instanceof Error ? error.message.slice(0, 160) : error)})`);
      return { problems, snapshot: after, ran, failed: true };
    }
    snapshot = await databaseSnapshot(db);
  }
  return { problems, snapshot, ran, failed: false };
}
