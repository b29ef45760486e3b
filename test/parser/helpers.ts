import { parseScript } from '../../src/parser/index.js';
import type { SourcePosition, Statement, SyntaxProblem } from '../../src/parser/index.js';

/** Parses a script that must be free of problems. */
export function parseClean(text: string): readonly Statement[] {
  const { statements, errors } = parseScript(text);
  expect(errors).toEqual([]);
  return statements;
}

/** Parses a script of exactly one statement that must be free of problems. */
export function parseOne(text: string): Statement {
  const statements = parseClean(text);
  expect(statements).toHaveLength(1);
  return statements[0];
}

/** The statement's values without where they came from, for comparing what was said. */
export function valuesOf(statement: Statement): Record<string, unknown> {
  const { position: _position, text: _text, ...rest } = statement;
  const values: Record<string, unknown> = { ...rest };
  delete values.clauses;
  if (statement.kind === 'Explain') values.occlude = valuesOf(statement.occlude);
  return values;
}

/** The messages only, in order. */
export function messagesOf(text: string): string[] {
  return parseScript(text).errors.map((problem: SyntaxProblem) => problem.message);
}

/** Where the `occurrence`-th copy of `needle` starts in `text` (counted independently of the parser). */
export function positionOf(text: string, needle: string, occurrence = 1): SourcePosition {
  let offset = -1;
  for (let i = 0; i < occurrence; i++) {
    offset = text.indexOf(needle, offset + 1);
    if (offset === -1) throw new Error(`'${needle}' occurs fewer than ${occurrence} times`);
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1, offset };
}
