/**
 * Words for parse errors. Chevrotain builds an error's message when it raises it, but we want the
 * expected tokens as data (for `SyntaxProblem.expected`) and the position from the whole script,
 * so the provider records the expectation as JSON and `describeParseError` writes the sentence.
 */
import { EOF, tokenMatcher } from '../../grammar/chevrotain.js';
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { Keyword, LParen, Minus, SelectSource, StringLiteral } from '../../grammar/tokens.js';
import { listAlternatives } from './syntax-problem.js';

export const END_OF_STATEMENT = 'the end of the statement';

const NAME = 'a name';
const NUMBER = 'a number';
const LONGEST_SHOWN = 40;

/** How a token type reads in "expected …": keywords as written, others by their label. */
export function displayName(type: TokenType): string {
  if (type === EOF) return END_OF_STATEMENT;
  // To the reader a query source is just an opening parenthesis.
  if (type === SelectSource) return displayName(LParen);
  return type.LABEL ?? type.name;
}

/** Distinct display names in grammar order, leaving out that a number may have a sign. */
export function expectedNames(types: readonly TokenType[]): string[] {
  const names = [...new Set(types.map(displayName))];
  return names.includes(NUMBER) ? names.filter((name) => name !== displayName(Minus)) : names;
}

function encode(types: readonly TokenType[]): string {
  return JSON.stringify(expectedNames(types));
}

export const expectationRecorder: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) => encode([expected]),
  // Filled in later from content assist: only the parser knows what could have followed.
  buildNotAllInputParsedMessage: () => encode([]),
  buildNoViableAltMessage: ({ expectedPathsPerAlt }) =>
    encode(expectedPathsPerAlt.flat().map((path) => path[0])),
  buildEarlyExitMessage: ({ expectedIterationPaths }) => encode(expectedIterationPaths.map((path) => path[0])),
};

/** The expected names recorded by `expectationRecorder` in an error's message. */
export function recordedExpectation(message: string): string[] {
  try {
    const parsed: unknown = JSON.parse(message);
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
  } catch {
    // A message from somewhere else: nothing recorded.
  }
  return [];
}

export function isEndOfInput(token: IToken): boolean {
  return token.tokenType === EOF;
}

/** Characters that would break the message's one line (or hide in it), shown as escapes. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The offending token as the message quotes it. */
export function foundText(token: IToken): string {
  if (isEndOfInput(token)) return END_OF_STATEMENT;
  const long = token.image.length > LONGEST_SHOWN;
  const image = escapeUnprintable(long ? `${token.image.slice(0, LONGEST_SHOWN - 1)}…` : token.image);
  // A string literal carries its own quotes.
  if (tokenMatcher(token, StringLiteral)) return long ? `${image}'` : image;
  return `'${image}'`;
}

/**
 * When the offending word is a near miss of exactly one expected keyword (`STRIDES`, `COLOUR`,
 * `RGBA`), that keyword alone: the other alternatives are not what the writer meant.
 */
export function narrowToNearMiss(expected: readonly string[], token: IToken): readonly string[] {
  if (!/^[A-Za-z_]+$/.test(token.image)) return expected;
  const word = token.image.toUpperCase();
  const allowed = word.length <= 4 ? 1 : 2;
  // Words differing in length by more than `allowed` are further apart than that: no need to compare them.
  const near = expected.filter(
    (name) => /^[A-Z]+$/.test(name) && Math.abs(word.length - name.length) <= allowed && editDistance(word, name) <= allowed,
  );
  return near.length === 1 ? near : expected;
}

/** Levenshtein distance, for spotting typos in keywords. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * "expected STRIDE but found 'STRIDES'", plus a hint when a keyword stands where a name was wanted.
 * A keyword in capitals there is more likely a forgotten name (`USING MODEL WITH …`) than a name.
 */
export function describeParseError(expected: readonly string[], token: IToken): string {
  const found = foundText(token);
  const sentence =
    expected.length === 0 ? `unexpected ${found}` : `expected ${listAlternatives(expected)} but found ${found}`;
  if (expected.includes(NAME) && tokenMatcher(token, Keyword) && token.image !== token.image.toUpperCase()) {
    return `${sentence} (a keyword; write "${token.image}" to use it as a name)`;
  }
  return sentence;
}
