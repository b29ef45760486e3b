/** Text → AST for one Krypton statement, with every lexer, parser and value problem it has. */
import { tokenMatcher } from '../../grammar/chevrotain.js';
import type { IRecognitionException, IToken } from 'chevrotain';
import { isUnclosedSelectSource, kryptonLexer, SelectSource } from '../../grammar/tokens.js';
import type { KryptonStatement } from './ast.js';
import { AstBuilder } from './build-ast.js';
import {
  describeParseError,
  END_OF_STATEMENT,
  expectedNames,
  isEndOfInput,
  narrowToNearMiss,
  recordedExpectation,
} from './error-messages.js';
import { kryptonParser } from './krypton-parser.js';
import type { LineIndex } from './line-index.js';
import type { ScriptPiece } from './split-script.js';
import { syntaxProblem } from './syntax-problem.js';
import type { SyntaxProblem } from './syntax-problem.js';
import { Reporter } from './values.js';

export interface ParsedStatement {
  /** Present only when the statement has no problems at all. */
  readonly statement?: KryptonStatement;
  readonly problems: readonly SyntaxProblem[];
}

export function parseKryptonStatement(script: string, piece: ScriptPiece, lines: LineIndex): ParsedStatement {
  const reporter = new Reporter(lines);
  const tokens = tokenize(piece, reporter);

  // An unclosed query swallowed the rest of the statement: nothing after it can be judged.
  const unclosed = tokens.find((token) => tokenMatcher(token, SelectSource) && isUnclosedSelectSource(token.image));
  if (unclosed !== undefined) {
    reporter.report(reporter.at(unclosed.startOffset), "missing ')' to close this query", '(');
    return { problems: reporter.problems };
  }

  kryptonParser.input = tokens;
  const cst = kryptonParser.statement();
  independentErrors(kryptonParser.errors, tokens).forEach((error, index) => {
    reporter.problems.push(parseProblem(error, tokens, piece, lines, index === 0));
  });
  if (reporter.problems.length > 0) return { problems: dedupe(reporter.problems) };

  const statement = new AstBuilder(script, piece.end, reporter).statement(cst.children);
  return reporter.problems.length > 0 ? { problems: reporter.problems } : { statement, problems: [] };
}

/** Lexes the statement and moves every token's offsets from the statement into the script. */
function tokenize(piece: ScriptPiece, reporter: Reporter): IToken[] {
  const lexed = kryptonLexer.tokenize(piece.text);
  for (const error of lexed.errors) {
    const character = piece.text.slice(error.offset, error.offset + error.length);
    const shown = JSON.stringify(character).slice(1, -1);
    reporter.report(reporter.at(piece.start + error.offset), `unexpected character '${shown}'`, character);
  }
  for (const token of lexed.tokens) {
    token.startOffset += piece.start;
    if (token.endOffset !== undefined) token.endOffset += piece.start;
  }
  return lexed.tokens;
}

function parseProblem(
  error: IRecognitionException,
  tokens: readonly IToken[],
  piece: ScriptPiece,
  lines: LineIndex,
  isFirst: boolean,
): SyntaxProblem {
  const { token } = error;
  const atEnd = isEndOfInput(token);
  const allowed = isFirst ? expectedAt(error, tokens) : recordedExpectation(error.message);
  const expected = atEnd ? allowed : narrowToNearMiss(allowed, token);
  // The end of input has no offset of its own: point just past the statement's last token.
  const position = lines.position(atEnd ? piece.end : token.startOffset);
  return syntaxProblem(position, describeParseError(expected, token), {
    ...(atEnd ? {} : { token: token.image }),
    expected,
  });
}

/**
 * Everything the grammar allows where the first error is. Chevrotain's own expectation names only
 * the token it tried last (`')'` where `','` would do as well), so ask content assist, which walks
 * every path from the tokens before the error. When the statement could have ended there, the
 * parser stopped without error and the leftover input is reported, so the end is expected too.
 */
function expectedAt(error: IRecognitionException, tokens: readonly IToken[]): string[] {
  const preceding = isEndOfInput(error.token) ? [...tokens] : tokens.slice(0, tokens.indexOf(error.token));
  const paths = kryptonParser.computeContentAssist('statement', preceding);
  const names = expectedNames(paths.map((path) => path.nextTokenType));
  if (error.name === 'NotAllInputParsedException') return [...names, END_OF_STATEMENT];
  return names.length > 0 ? names : recordedExpectation(error.message);
}

/** Errors this close after another one are usually its echo from error recovery, not news. */
const ECHO_DISTANCE = 2;

/**
 * The first error and those later ones that recovery found well past the previous, so that one
 * mistake is reported once. An error at the end of input after another error is an echo too.
 */
function independentErrors(
  errors: readonly IRecognitionException[],
  tokens: readonly IToken[],
): IRecognitionException[] {
  const kept: IRecognitionException[] = [];
  let previousIndex = -Infinity;
  for (const error of errors) {
    const index = isEndOfInput(error.token) ? tokens.length : tokens.indexOf(error.token);
    if (kept.length > 0 && (isEndOfInput(error.token) || index - previousIndex <= ECHO_DISTANCE)) continue;
    kept.push(error);
    previousIndex = index;
  }
  return kept;
}

function dedupe(problems: readonly SyntaxProblem[]): SyntaxProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => !seen.has(problem.message) && seen.add(problem.message) !== undefined);
}
