import type { SourcePosition } from './ast.js';

/** One thing wrong with a script, found before anything runs. */
export interface SyntaxProblem {
  /** One line: `line 3, column 14: expected STRIDE but found 'STRIDES'`. */
  readonly message: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  /** 0-based character offset into the script. */
  readonly offset: number;
  /** The offending text, as written, when there is one. */
  readonly token?: string;
  /** What would have been accepted here, e.g. `['STRIDE']` or `['a number']`. */
  readonly expected?: string[];
}

export function syntaxProblem(
  position: SourcePosition,
  detail: string,
  extra: { token?: string; expected?: readonly string[] } = {},
): SyntaxProblem {
  const problem: SyntaxProblem = {
    message: `line ${position.line}, column ${position.column}: ${detail}`,
    line: position.line,
    column: position.column,
    offset: position.offset,
    ...(extra.token === undefined ? {} : { token: extra.token }),
    ...(extra.expected === undefined ? {} : { expected: [...extra.expected] }),
  };
  return Object.freeze(problem);
}

/** "A", "A or B", "A, B or C". */
export function listAlternatives(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
