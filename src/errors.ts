/**
 * An error the user can act on: its message is one line that names the problem, and the CLI prints
 * it without a stack trace. Anything else that escapes is a bug in Krypton.
 */
export class KryptonError extends Error {
  constructor(
    message: string,
    /** A stable, machine-readable category, e.g. 'model', 'image', 'argument', 'syntax', 'store'. */
    readonly code: KryptonErrorCode = 'argument',
  ) {
    // A path or name quoted in the message may hold a line break; shown escaped, it stays one line.
    super(message.replace(/\r\n|[\r\n\u2028\u2029]/g, escapeLineBreak));
    this.name = 'KryptonError';
  }
}

/**
 * A problem at one place of a statement: the message leads with "line L, column C", and the place
 * and the bare detail are kept for callers that name the place in their own terms (typed options).
 */
export class StatementError extends KryptonError {
  constructor(
    readonly position: { readonly line: number; readonly column: number; readonly offset: number },
    readonly detail: string,
    code: KryptonErrorCode = 'argument',
  ) {
    super(`line ${position.line}, column ${position.column}: ${detail}`, code);
  }
}

const LINE_BREAK_ESCAPES: Record<string, string> = { '\r\n': '\\r\\n', '\r': '\\r', '\n': '\\n', '\u2028': '\\u2028', '\u2029': '\\u2029' };

function escapeLineBreak(lineBreak: string): string {
  return LINE_BREAK_ESCAPES[lineBreak];
}

export type KryptonErrorCode =
  | 'argument'
  | 'model'
  | 'image'
  | 'syntax'
  | 'catalog'
  | 'store'
  | 'plan'
  | 'io'
  | 'interrupted';

export function isKryptonError(error: unknown): error is KryptonError {
  return error instanceof KryptonError;
}

/** The message of any thrown value, for wrapping third-party errors into one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}
