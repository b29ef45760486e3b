/**
 * Tokens of Krypton's own statements. Pass-through SQL is never tokenised here: the script splitter
 * hands it to DuckDB as text.
 */
import { createToken, Lexer } from './chevrotain.js';
import type { CustomPatternMatcherReturn, IToken, TokenType } from 'chevrotain';
import { matchingParenEnd, opaqueSpanAt, skipTrivia } from './sql-text.js';

// ---- trivia --------------------------------------------------------------------------------------

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED });

const LineComment = createToken({ name: 'LineComment', pattern: /--[^\n]*/, group: Lexer.SKIPPED });

/** Block comments nest, as in DuckDB, so a regular expression cannot find their end. */
const BlockComment = createToken({
  name: 'BlockComment',
  pattern: { exec: matchBlockComment },
  line_breaks: true,
  start_chars_hint: ['/'],
  group: Lexer.SKIPPED,
});

// ---- names and literals ----------------------------------------------------------------------------

export const Identifier = createToken({
  name: 'Identifier',
  label: 'a name',
  pattern: /[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\uFFFF][A-Za-z0-9_$\u00C0-\u00D6\u00D8-\u00F6\u00F8-\uFFFF]*/,
});

export const QuotedIdentifier = createToken({
  name: 'QuotedIdentifier',
  label: 'a name',
  pattern: /"(?:[^"]|"")*"/,
  line_breaks: true,
});

export const StringLiteral = createToken({
  name: 'StringLiteral',
  label: 'a string',
  pattern: /'(?:[^']|'')*'/,
  line_breaks: true,
});

/**
 * A parenthesised query used as the image source: `(SELECT …)`, `(WITH …)`, `(VALUES …)`, `(FROM …)`.
 * It is one token holding the exact SQL up to the matching `)`; when the text ends before that `)`,
 * the token runs to the end and the parser reports the missing parenthesis. Only the source, right
 * after OCCLUDE (or LOAD DICOM), can be a query, so elsewhere `(` stays a parenthesis.
 */
export const SelectSource = createToken({
  name: 'SelectSource',
  label: '(SELECT …)',
  pattern: { exec: matchSelectSource },
  line_breaks: true,
  start_chars_hint: ['('],
});

export const NumberLiteral = createToken({ name: 'NumberLiteral', label: 'a number', pattern: Lexer.NA });

const DecimalNumber = createToken({
  name: 'DecimalNumber',
  label: 'a number',
  pattern: /(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?/,
  categories: NumberLiteral,
});

const IntegerNumber = createToken({
  name: 'IntegerNumber',
  label: 'a number',
  pattern: /\d+(?:[eE][+-]?\d+)?/,
  categories: NumberLiteral,
});

// ---- punctuation -----------------------------------------------------------------------------------

export const LParen = createToken({ name: 'LParen', label: "'('", pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', label: "')'", pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', label: "','", pattern: /,/ });
export const Dot = createToken({ name: 'Dot', label: "'.'", pattern: /\./ });
export const Minus = createToken({ name: 'Minus', label: "'-'", pattern: /-/ });
export const GreaterEqual = createToken({ name: 'GreaterEqual', label: "'>='", pattern: />=/ });
export const Percent = createToken({ name: 'Percent', label: "'%'", pattern: /%/ });

/**
 * The `x` of `16 x 16`, also written `X` or `×`, with or without spaces (`16x16`). It is the
 * separator only right after a number, so `x`, `x1` and `xray` elsewhere are names.
 */
export const By = createToken({
  name: 'By',
  label: "'x'",
  pattern: { exec: matchBy },
  start_chars_hint: ['x', 'X', '×'],
});

/**
 * Any other character. Krypton statements never use it, but as a token it lets the parser say
 * "expected '>=' but found '>'" and recover, where a lexer error would end the statement.
 */
export const OtherSymbol = createToken({
  name: 'OtherSymbol',
  label: 'a symbol',
  // ASCII punctuation and the Latin-1 symbols; every other character belongs to some token already.
  pattern: /[!-\/:-@[-`{-~\u0080-\u00BF\u00D7\u00F7]/,
});

// ---- keywords --------------------------------------------------------------------------------------

/** Every keyword belongs to this category, so error messages can tell a keyword from a name. */
export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA });

function keyword(word: string): TokenType {
  return createToken({
    name: word,
    pattern: new RegExp(word, 'i'),
    longer_alt: Identifier,
    categories: Keyword,
  });
}

export const Absolute = keyword('ABSOLUTE');
export const Analyze = keyword('ANALYZE');
export const Auto = keyword('AUTO');
export const Bgr = keyword('BGR');
export const Black = keyword('BLACK');
export const Channels = keyword('CHANNELS');
export const Class = keyword('CLASS');
export const Color = keyword('COLOR');
export const Create = keyword('CREATE');
export const Deidentify = keyword('DEIDENTIFY');
export const Dicom = keyword('DICOM');
export const Drilldown = keyword('DRILLDOWN');
export const Drop = keyword('DROP');
export const Exists = keyword('EXISTS');
export const Explain = keyword('EXPLAIN');
export const For = keyword('FOR');
export const Fraction = keyword('FRACTION');
export const From = keyword('FROM');
export const Gray = keyword('GRAY');
export const If = keyword('IF');
export const Image = keyword('IMAGE');
export const Imagenet = keyword('IMAGENET');
export const In = keyword('IN');
export const Images = keyword('IMAGES');
export const Incremental = keyword('INCREMENTAL');
export const Input = keyword('INPUT');
export const Into = keyword('INTO');
export const Labels = keyword('LABELS');
export const Load = keyword('LOAD');
export const Logits = keyword('LOGITS');
export const Mean = keyword('MEAN');
export const Model = keyword('MODEL');
export const Naive = keyword('NAIVE');
export const Name = keyword('NAME');
export const None = keyword('NONE');
export const Normalize = keyword('NORMALIZE');
export const Occlude = keyword('OCCLUDE');
export const On = keyword('ON');
export const Or = keyword('OR');
export const Output = keyword('OUTPUT');
export const Patch = keyword('PATCH');
export const Pixels = keyword('PIXELS');
export const Predicted = keyword('PREDICTED');
export const Probabilities = keyword('PROBABILITIES');
export const Quality = keyword('QUALITY');
export const Query = keyword('QUERY');
export const Region = keyword('REGION');
export const Render = keyword('RENDER');
export const Replace = keyword('REPLACE');
export const Retune = keyword('RETUNE');
export const Rgb = keyword('RGB');
export const Scale = keyword('SCALE');
export const Sigmoid = keyword('SIGMOID');
export const Ssim = keyword('SSIM');
export const Std = keyword('STD');
export const Strategy = keyword('STRATEGY');
export const Stride = keyword('STRIDE');
export const Threshold = keyword('THRESHOLD');
export const To = keyword('TO');
export const Tune = keyword('TUNE');
export const Using = keyword('USING');
export const Verify = keyword('VERIFY');
export const With = keyword('WITH');
export const Without = keyword('WITHOUT');

const keywordTokens = [
  Absolute, Analyze, Auto, Bgr, Black, Channels, Class, Color, Create, Drilldown, Drop, Exists, Explain, For,
  Fraction, From, Gray, If, Image, Imagenet, Images, In, Incremental, Input, Into, Labels, Logits, Mean,
  Model, Naive, Name, None, Normalize, Occlude, On, Or, Output, Patch, Pixels, Predicted, Probabilities, Quality,
  Query, Region, Render, Replace, Retune, Rgb, Scale, Sigmoid, Ssim, Std, Strategy, Stride, Threshold, To, Tune,
  Using, Verify, With, Without,
  // LOAD DICOM
  Deidentify, Dicom, Load,
];

/**
 * The lexer takes the first keyword that matches, and a keyword followed by more letters becomes a
 * name, so a keyword that begins another (IMAGE in IMAGES and IMAGENET, WITH in WITHOUT) must come
 * after it: longest first.
 */
const keywordsLongestFirst = [...keywordTokens].sort((a, b) => b.name.length - a.name.length);

/** The keywords of Krypton's statements, upper case, sorted (for tab completion and highlighting). */
export const KEYWORDS: readonly string[] = Object.freeze(keywordTokens.map((token) => token.name).sort());

/**
 * Lexer order matters: trivia first, the query source before `(`, keywords (longest first) and `x`
 * before names, `%` before the catch-all symbol.
 */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  SelectSource,
  LParen,
  RParen,
  Comma,
  GreaterEqual,
  Percent,
  Minus,
  DecimalNumber,
  IntegerNumber,
  NumberLiteral,
  Dot,
  StringLiteral,
  QuotedIdentifier,
  Keyword,
  ...keywordsLongestFirst,
  By,
  Identifier,
  OtherSymbol,
];

/**
 * The lexer of Krypton's statements. `validate: false` skips chevrotain's checks of the token
 * definitions, a third of a fresh process's cost of building it; the grammar's tests build it with them.
 */
export function createKryptonLexer({ validate }: { validate: boolean }): InstanceType<typeof Lexer> {
  return new Lexer(allTokens, {
    // Line and column are computed against the whole script afterwards, so offsets are enough here.
    positionTracking: 'onlyOffset',
    ensureOptimizations: true,
    skipValidations: !validate,
  });
}

export const kryptonLexer = createKryptonLexer({ validate: false });

/** True when a SelectSource token's text ends before its closing parenthesis. */
export function isUnclosedSelectSource(image: string): boolean {
  return matchingParenEnd(image, 0) !== image.length;
}

const QUERY_START = /(?:SELECT|WITH|VALUES|FROM|TABLE)(?![A-Za-z0-9_$])/iy;

function matchSelectSource(text: string, offset: number, tokens: IToken[]): CustomPatternMatcherReturn | null {
  const previous = tokens[tokens.length - 1]?.tokenType;
  if (text[offset] !== '(' || (previous !== Occlude && previous !== Dicom)) return null;
  // Look past comments and further opening parentheses, as in `((SELECT …) UNION (SELECT …))`.
  let at = offset + 1;
  for (;;) {
    at = skipTrivia(text, at);
    if (text[at] !== '(') break;
    at++;
  }
  QUERY_START.lastIndex = at;
  if (!QUERY_START.test(text)) return null;
  const end = matchingParenEnd(text, offset) ?? text.length;
  return [text.slice(offset, end)];
}

function matchBy(text: string, offset: number, tokens: IToken[]): CustomPatternMatcherReturn | null {
  const char = text[offset];
  if (char !== 'x' && char !== 'X' && char !== '×') return null;
  const previous = tokens[tokens.length - 1]?.tokenType;
  if (previous !== IntegerNumber && previous !== DecimalNumber) return null;
  const next = text[offset + 1];
  if (char !== '×' && next !== undefined && /[A-Za-z_$\u00C0-\uFFFF]/.test(next)) return null;
  return [char];
}

function matchBlockComment(text: string, offset: number): CustomPatternMatcherReturn | null {
  const span = opaqueSpanAt(text, offset);
  return span?.kind === 'block-comment' ? [text.slice(offset, span.end)] : null;
}
