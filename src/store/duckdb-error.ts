/**
 * The first line of an error's message. DuckDB's errors are made by the native addon in Node's
 * main realm, so `instanceof Error` is false for them under jest: read the message by shape.
 */
export function errorLine(error: unknown): string {
  const message =
    typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string'
      ? (error as { message: string }).message
      : String(error);
  return message.split('\n')[0].trim();
}

/** DuckDB's messages start with their category: "Parser Error: …", "Constraint Error: …". */
export function isDuckDBError(error: unknown): boolean {
  return /^[A-Za-z ]+ Error: /.test(errorLine(error));
}
