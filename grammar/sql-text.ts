/**
 * The lexical structure of SQL text that matters for finding where things end: quoted strings,
 * quoted identifiers, dollar quotes and comments. Inside any of these a `;` or `)` means nothing.
 * It follows DuckDB's (PostgreSQL's) scanner: '' and "" escape their quote, E'…' strings take
 * backslash escapes, block comments nest, and $tag$…$tag$ quotes need a tag that is an identifier.
 */

export type OpaqueSpanKind =
  | 'string'
  | 'escape-string'
  | 'quoted-identifier'
  | 'dollar-quote'
  | 'line-comment'
  | 'block-comment';

export interface OpaqueSpan {
  readonly kind: OpaqueSpanKind;
  readonly start: number;
  /** Offset just past the span (the end of the text when it is unterminated). */
  readonly end: number;
  readonly terminated: boolean;
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

export function isIdentifierChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(char);
}

/** The string, quoted identifier, dollar quote or comment that starts at `offset`, if any. */
export function opaqueSpanAt(text: string, offset: number): OpaqueSpan | undefined {
  const char = text[offset];
  const next = text[offset + 1];
  switch (char) {
    case "'":
      return quoted(text, offset, offset + 1, "'", 'string');
    case '"':
      return quoted(text, offset, offset + 1, '"', 'quoted-identifier');
    case 'E':
    case 'e':
      // E'…' only when the E is a word of its own, not the end of an identifier such as `name'`.
      return next === "'" && !isIdentifierChar(text[offset - 1]) ? escapeString(text, offset) : undefined;
    case '-':
      return next === '-' ? lineComment(text, offset) : undefined;
    case '/':
      return next === '*' ? blockComment(text, offset) : undefined;
    case '$':
      return isIdentifierChar(text[offset - 1]) ? undefined : dollarQuote(text, offset);
    default:
      return undefined;
  }
}

/** Skips whitespace and comments; returns the offset of the next significant character (or the end). */
export function skipTrivia(text: string, offset: number, end = text.length): number {
  let at = offset;
  while (at < end) {
    if (/\s/.test(text[at])) {
      at++;
      continue;
    }
    const span = opaqueSpanAt(text, at);
    if (span === undefined || (span.kind !== 'line-comment' && span.kind !== 'block-comment')) return at;
    at = span.end;
  }
  return end;
}

/**
 * The offset just past the last significant character in [start, end): trailing whitespace and
 * comments do not count. Scans forward because a comment can only be recognised from its start.
 */
export function significantEnd(text: string, start: number, end: number): number {
  let lastEnd = start;
  let at = start;
  while (at < end) {
    if (/\s/.test(text[at])) {
      at++;
      continue;
    }
    const span = opaqueSpanAt(text, at);
    if (span === undefined) {
      at++;
      lastEnd = at;
    } else {
      at = Math.min(span.end, end);
      if (span.kind !== 'line-comment' && span.kind !== 'block-comment') lastEnd = at;
    }
  }
  return lastEnd;
}

/**
 * Given the offset of an opening `(`, the offset just past its matching `)`, or undefined when the
 * text ends first. Parentheses inside strings, quoted identifiers, dollar quotes and comments do not count.
 */
export function matchingParenEnd(text: string, open: number): number | undefined {
  let depth = 0;
  let at = open;
  while (at < text.length) {
    const span = opaqueSpanAt(text, at);
    if (span !== undefined) {
      if (!span.terminated) return undefined;
      at = span.end;
      continue;
    }
    const char = text[at++];
    if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return at;
  }
  return undefined;
}

function quoted(
  text: string,
  start: number,
  bodyStart: number,
  quote: string,
  kind: OpaqueSpanKind,
): OpaqueSpan {
  let at = bodyStart;
  while (at < text.length) {
    if (text[at] === quote) {
      if (text[at + 1] !== quote) return { kind, start, end: at + 1, terminated: true };
      at += 2; // a doubled quote stands for itself
    } else {
      at++;
    }
  }
  return { kind, start, end: text.length, terminated: false };
}

function escapeString(text: string, start: number): OpaqueSpan {
  let at = start + 2;
  while (at < text.length) {
    const char = text[at];
    if (char === '\\') at += 2;
    else if (char === "'" && text[at + 1] === "'") at += 2;
    else if (char === "'") return { kind: 'escape-string', start, end: at + 1, terminated: true };
    else at++;
  }
  return { kind: 'escape-string', start, end: text.length, terminated: false };
}

function lineComment(text: string, start: number): OpaqueSpan {
  const newline = text.indexOf('\n', start + 2);
  const end = newline === -1 ? text.length : newline;
  // A line comment is closed by the end of its line or of the text alike.
  return { kind: 'line-comment', start, end, terminated: true };
}

function blockComment(text: string, start: number): OpaqueSpan {
  let depth = 0;
  let at = start;
  while (at < text.length) {
    if (text[at] === '/' && text[at + 1] === '*') {
      depth++;
      at += 2;
    } else if (text[at] === '*' && text[at + 1] === '/') {
      at += 2;
      if (--depth === 0) return { kind: 'block-comment', start, end: at, terminated: true };
    } else {
      at++;
    }
  }
  return { kind: 'block-comment', start, end: text.length, terminated: false };
}

function dollarQuote(text: string, start: number): OpaqueSpan | undefined {
  DOLLAR_TAG.lastIndex = start;
  const tag = DOLLAR_TAG.exec(text)?.[0];
  if (tag === undefined) return undefined;
  const close = text.indexOf(tag, start + tag.length);
  return close === -1
    ? { kind: 'dollar-quote', start, end: text.length, terminated: false }
    : { kind: 'dollar-quote', start, end: close + tag.length, terminated: true };
}
