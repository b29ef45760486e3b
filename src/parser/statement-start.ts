/**
 * Which statements are Krypton's: decided from their first words alone, so that everything else,
 * including DuckDB's own EXPLAIN and CREATE/DROP of other objects, passes through untouched.
 */
import { skipTrivia } from '../../grammar/sql-text.js';

const WORD = /[A-Za-z_][A-Za-z0-9_$]*/y;

/** Up to `count` leading words, upper-cased, looking past whitespace and comments. */
function leadingWords(text: string, count: number): string[] {
  const words: string[] = [];
  let at = 0;
  while (words.length < count) {
    at = skipTrivia(text, at);
    WORD.lastIndex = at;
    const match = WORD.exec(text);
    if (match === null) break;
    words.push(match[0].toUpperCase());
    at += match[0].length;
  }
  return words;
}

/**
 * True when the statement is one of Krypton's: OCCLUDE, EXPLAIN [ANALYZE] OCCLUDE, CREATE [OR
 * REPLACE] MODEL, DROP MODEL or LOAD DICOM (DuckDB's own LOAD of an extension passes through).
 * Leading whitespace and comments are allowed.
 */
export function isKryptonStatementStart(text: string): boolean {
  const [first, second, third, fourth] = leadingWords(text, 4);
  switch (first) {
    case 'OCCLUDE':
      return true;
    case 'CREATE':
      return second === 'MODEL' || (second === 'OR' && third === 'REPLACE' && fourth === 'MODEL');
    case 'DROP':
      return second === 'MODEL';
    case 'LOAD':
      return second === 'DICOM';
    case 'EXPLAIN':
      return second === 'OCCLUDE' || (second === 'ANALYZE' && third === 'OCCLUDE');
    default:
      return false;
  }
}
