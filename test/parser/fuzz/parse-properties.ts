import { performance } from 'node:perf_hooks';
import { parseScript } from '../../../src/parser/index';
import type { ParsedScript, SyntaxProblem } from '../../../src/parser/index';

/** The slowest a script of a fuzz case may parse. */
export const PARSE_LIMIT_MS = 1000;
/** Longer than this, a one-line message is not one a person reads. */
const LONGEST_MESSAGE = 400;

export interface ParseCheck {
  readonly parsed?: ParsedScript;
  /** What is wrong with how the parser treated the text; empty when nothing is. */
  readonly problems: string[];
  readonly elapsedMs: number;
}

/**
 * Parses a script and checks what every input must get: no exception, an answer within
 * PARSE_LIMIT_MS, and every problem one line that starts with its own position, a position inside
 * the text that matches its offset.
 */
export function checkParse(text: string): ParseCheck {
  const started = performance.now();
  let parsed: ParsedScript;
  try {
    parsed = parseScript(text);
  } catch (error) {
    const elapsedMs = performance.now() - started;
    return { problems: [`parseScript threw ${describeThrown(error)}`], elapsedMs };
  }
  const elapsedMs = performance.now() - started;
  const problems: string[] = [];
  if (elapsedMs > PARSE_LIMIT_MS) problems.push(`parsing took ${elapsedMs.toFixed(0)} ms`);
  for (const error of parsed.errors) problems.push(...problemsWithError(text, error));
  return { parsed, problems, elapsedMs };
}

export function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]} (${error.stack?.split('\n')[1]?.trim() ?? 'no stack'})`;
  return String(error);
}

/** Line and column of an offset, counted here independently of the parser's LineIndex. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastBreak };
}

export function problemsWithError(text: string, error: SyntaxProblem): string[] {
  const problems: string[] = [];
  const quote = JSON.stringify(error.message.slice(0, 120));
  const prefix = `line ${error.line}, column ${error.column}: `;
  if (!error.message.startsWith(prefix)) problems.push(`message does not start with its position: ${quote}`);
  if (!(Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= text.length)) {
    problems.push(`offset ${error.offset} outside the ${text.length}-character text: ${quote}`);
  } else {
    const expected = positionAt(text, error.offset);
    if (expected.line !== error.line || expected.column !== error.column) {
      problems.push(`position line ${error.line}, column ${error.column} is not that of offset ${error.offset} (line ${expected.line}, column ${expected.column}): ${quote}`);
    }
  }
  if (/[\n\r\u2028\u2029]/.test(error.message)) problems.push(`message spans lines: ${quote}`);
  if (error.message.length > LONGEST_MESSAGE) problems.push(`message of ${error.message.length} characters: ${quote}`);
  if (/undefined|NaN|\[object|null/.test(error.message.slice(prefix.length).replace(/'[^']*'|"[^"]*"/g, ''))) {
    problems.push(`message shows an internal value: ${quote}`);
  }
  if (error.message.length <= prefix.length + 2) problems.push(`message says nothing: ${quote}`);
  return problems;
}
