/**
 * Script → statements. Statements are split first; those that start like Krypton's are parsed by
 * the grammar, every other one is kept as SQL text for DuckDB. Problems from every statement are
 * returned together, ordered by position, so one run shows everything that needs fixing.
 */
import type { OpaqueSpan } from '../../grammar/sql-text.js';
import { freezeNode } from './ast.js';
import type { OccludeStatement, SqlStatement, Statement } from './ast.js';
import { LineIndex } from './line-index.js';
import { parseKryptonStatement } from './parse-statement.js';
import { splitScript } from './split-script.js';
import type { ScriptPiece } from './split-script.js';
import { isKryptonStatementStart } from './statement-start.js';
import { syntaxProblem } from './syntax-problem.js';
import type { SyntaxProblem } from './syntax-problem.js';

export interface ParsedScript {
  /** The statements without problems, in script order. */
  statements: Statement[];
  /** Every problem found, in script order; when there is any, the script must not run. */
  errors: SyntaxProblem[];
}

export function parseScript(text: string): ParsedScript {
  const lines = new LineIndex(text);
  const { pieces, unterminated } = splitScript(text);
  const statements: Statement[] = [];
  const errors: SyntaxProblem[] = [];
  if (unterminated !== undefined) {
    errors.push(syntaxProblem(lines.position(unterminated.start), unterminatedDetail(text, unterminated)));
  }
  for (const piece of pieces) {
    // The statement holding an unterminated string ends where the script does; it is reported already.
    if (unterminated !== undefined && piece.end > unterminated.start) continue;
    if (!isKryptonStatementStart(piece.text)) {
      statements.push(sqlStatement(piece, lines));
      continue;
    }
    const parsed = parseKryptonStatement(text, piece, lines);
    errors.push(...parsed.problems);
    if (parsed.statement !== undefined) statements.push(parsed.statement);
  }
  errors.sort((a, b) => a.offset - b.offset);
  return { statements, errors };
}

/** The first syntax error of one SQL text (offset in it, and what is wrong), or undefined. */
export type SqlSyntaxCheck = (sql: string) => Promise<{ readonly offset: number; readonly detail: string } | undefined>;

/**
 * parseScript, with the script's SQL checked by `checkSql` as well (DuckDB's parser: statements
 * passed through, and the query of an OCCLUDE (SELECT …) source), so that a syntax error anywhere
 * means nothing runs. Parsing only: names are bound when each statement runs.
 */
export async function parseScriptWithSql(text: string, checkSql: SqlSyntaxCheck): Promise<ParsedScript> {
  const parsed = parseScript(text);
  const lines = new LineIndex(text);
  const errors = [...parsed.errors];
  for (const { sql, offset } of parsed.statements.flatMap(sqlTextsOf)) {
    const problem = await checkSql(sql);
    if (problem) errors.push(syntaxProblem(lines.position(offset + problem.offset), problem.detail));
  }
  errors.sort((a, b) => a.offset - b.offset);
  return { statements: parsed.statements, errors };
}

function sqlTextsOf(statement: Statement): { sql: string; offset: number }[] {
  const occlude: OccludeStatement | undefined = statement.kind === 'Occlude' ? statement : statement.kind === 'Explain' ? statement.occlude : undefined;
  if (statement.kind === 'Sql') return [{ sql: statement.text, offset: statement.position.offset }];
  if (occlude?.source.kind === 'select') return [{ sql: occlude.source.sql, offset: occlude.source.position.offset }];
  return [];
}

function sqlStatement(piece: ScriptPiece, lines: LineIndex): SqlStatement {
  return freezeNode({ kind: 'Sql', position: lines.position(piece.start), text: piece.text });
}

function unterminatedDetail(text: string, span: OpaqueSpan): string {
  switch (span.kind) {
    case 'string':
    case 'escape-string':
      return "unterminated string: the closing ' is missing";
    case 'quoted-identifier':
      return 'unterminated quoted name: the closing " is missing';
    case 'dollar-quote': {
      const tag = /^\$[^$]*\$/.exec(text.slice(span.start))?.[0] ?? '$$';
      return `unterminated dollar-quoted string: the closing ${tag} is missing`;
    }
    case 'block-comment':
    case 'line-comment':
      return 'unterminated comment: the closing */ is missing';
  }
}
