/**
 * Finds statement boundaries in a script: every `;` outside strings, quoted identifiers, dollar
 * quotes and comments. Nothing else is interpreted, so pass-through SQL reaches DuckDB as written.
 */
import { opaqueSpanAt, significantEnd, skipTrivia } from '../../grammar/sql-text.js';
import type { OpaqueSpan } from '../../grammar/sql-text.js';

export interface ScriptPiece {
  /** From the first significant character to the last; leading and trailing comments excluded. */
  readonly text: string;
  readonly start: number;
  /** Offset just past the last significant character. */
  readonly end: number;
  /** True when a `;` closes the statement (false for the last one of a script without it). */
  readonly closed: boolean;
}

export interface SplitScript {
  /** Non-empty statements in order; `;;` and comment-only stretches are skipped. */
  readonly pieces: readonly ScriptPiece[];
  /** A string, quoted name, dollar quote or comment still open at the end of the script. */
  readonly unterminated?: OpaqueSpan;
}

export function splitScript(text: string): SplitScript {
  const pieces: ScriptPiece[] = [];
  let pieceStart = 0;
  let at = 0;
  const emit = (end: number, closed: boolean) => {
    const start = skipTrivia(text, pieceStart, end);
    const last = significantEnd(text, start, end);
    if (last > start) pieces.push(Object.freeze({ text: text.slice(start, last), start, end: last, closed }));
  };
  while (at < text.length) {
    const span = opaqueSpanAt(text, at);
    if (span !== undefined) {
      if (!span.terminated) {
        emit(text.length, false);
        return Object.freeze({ pieces: Object.freeze(pieces), unterminated: span });
      }
      at = span.end;
    } else if (text[at] === ';') {
      emit(at, true);
      pieceStart = ++at;
    } else {
      at++;
    }
  }
  emit(text.length, false);
  return Object.freeze({ pieces: Object.freeze(pieces) });
}

/**
 * True when the text ends outside any string or comment and its last statement is closed by `;`:
 * what a REPL needs to know before running what has been typed so far.
 */
export function isCompleteScript(text: string): boolean {
  const { pieces, unterminated } = splitScript(text);
  return unterminated === undefined && pieces.length > 0 && pieces[pieces.length - 1].closed;
}
