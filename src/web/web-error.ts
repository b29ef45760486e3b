import { KryptonError, type KryptonErrorCode } from '../errors.js';

/** A problem with a request: its HTTP status, and a one-line message the page shows as it is. */
export class WebError extends KryptonError {
  constructor(readonly status: number, message: string, code: KryptonErrorCode = 'argument') {
    super(message, code);
  }
}

/** The status a KryptonError of the engine answers with: what was asked for is missing, or the request is wrong. */
export function statusOf(error: KryptonError): number {
  if (error instanceof WebError) return error.status;
  if (error.code === 'catalog' && /does not exist/.test(error.message)) return 404;
  if (/^(line \d+: )?Permission Error: /.test(error.message)) return 403;
  return 400;
}
