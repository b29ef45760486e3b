/**
 * Literal values of Krypton statements and the checks on them that need no catalog. A failed check
 * is reported like a syntax error, at the offending value.
 */
import type { IToken } from 'chevrotain';
import type { SourcePosition } from './ast.js';
import type { LineIndex } from './line-index.js';
import { syntaxProblem } from './syntax-problem.js';
import type { SyntaxProblem } from './syntax-problem.js';

/** A number as written, sign included. */
export interface NumberValue {
  readonly value: number;
  readonly text: string;
  readonly position: SourcePosition;
}

/** Collects problems against positions in one script. */
export class Reporter {
  readonly problems: SyntaxProblem[] = [];

  constructor(private readonly lines: LineIndex) {}

  at(offset: number): SourcePosition {
    return this.lines.position(offset);
  }

  report(position: SourcePosition, detail: string, token?: string): void {
    this.problems.push(syntaxProblem(position, detail, token === undefined ? {} : { token }));
  }

  reportAtToken(token: IToken, detail: string): void {
    this.report(this.at(token.startOffset), detail, token.image);
  }
}

/** The text of a '…' literal, with '' turned back into '. */
export function unquoteString(image: string): string {
  return image.slice(1, -1).replaceAll("''", "'");
}

/** The name in a "…" identifier, with "" turned back into ". */
export function unquoteIdentifier(image: string): string {
  return image.slice(1, -1).replaceAll('""', '"');
}

/** A '…' literal that must not be empty, such as a file path. */
export function nonEmptyString(reporter: Reporter, token: IToken, what: string): string {
  const value = unquoteString(token.image);
  if (value.length === 0) reporter.reportAtToken(token, `${what} must not be empty`);
  return value;
}

export function checkPositiveInteger(reporter: Reporter, number: NumberValue, what: string): number {
  if (!Number.isSafeInteger(number.value) || number.value <= 0) {
    reporter.report(number.position, `${what} must be a positive integer`, number.text);
  }
  return number.value;
}

export function checkNonNegativeInteger(reporter: Reporter, number: NumberValue, what: string): number {
  if (!Number.isSafeInteger(number.value) || number.value < 0) {
    reporter.report(number.position, `${what} must be a non-negative integer`, number.text);
  }
  return number.value;
}

export function checkInRange(
  reporter: Reporter,
  number: NumberValue,
  range: { min: number; max: number; minExclusive?: boolean },
  message: string,
): number {
  const { value } = number;
  const aboveMin = range.minExclusive === true ? value > range.min : value >= range.min;
  if (!(aboveMin && value <= range.max)) reporter.report(number.position, message, number.text);
  return number.value;
}
