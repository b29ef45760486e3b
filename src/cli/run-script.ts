import { isKryptonError, KryptonError, messageOf } from '../errors.js';
import { checkScript, ImageFailures, SyntaxErrors, type Krypton, type StatementResult } from '../krypton.js';
import type { Statement } from '../parser/index.js';
import { occlusionProgress, type ProgressMode } from './occlusion-progress.js';
import type { ResultPrinter } from './print-result.js';
import type { OutputStream } from './streams.js';

export interface ScriptContext {
  readonly db: Krypton;
  readonly printer: ResultPrinter;
  readonly progress: ProgressMode;
  readonly stderr: OutputStream;
  /** Stops a running OCCLUDE between batches (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** An OCCLUDE whose images partly fail warns and goes on, instead of failing the statement. */
  readonly keepGoing?: boolean;
}

/**
 * Runs a script one statement at a time, printing each result as soon as it is there, so a long
 * script shows its progress and a failure leaves the earlier results on screen. A script with
 * syntax errors runs nothing (SyntaxErrors with every problem); otherwise the first failing
 * statement stops it, with its error located in the script.
 */
export async function runScript(script: string, context: ScriptContext): Promise<void> {
  const { statements, errors } = await checkScript(script);
  if (errors.length > 0) throw new SyntaxErrors(errors.map((e) => e.message));
  for (const statement of statements) {
    const report = occlusionProgress(context.progress, context.stderr);
    let result: StatementResult;
    try {
      result = await context.db.runStatement(statement, { onProgress: report.onProgress, signal: context.signal, keepGoing: context.keepGoing });
    } catch (error) {
      report.stop();
      // The images that did not fail are stored: show them with the failures before the error.
      if (error instanceof ImageFailures) context.printer.print(error.result);
      throw statements.length > 1 ? locate(error, statement) : error;
    } finally {
      report.stop();
    }
    context.printer.print(result);
    if (result.failures?.length) context.stderr.write(`krypton: warning: ${new ImageFailures(result).message} (--keep-going)\n`);
  }
}

/** DuckDB's messages do not say where in the script the statement was; in a script of several, say it. */
function locate(error: unknown, statement: Statement): unknown {
  if (!isKryptonError(error) || error instanceof SyntaxErrors || /^line \d+/.test(error.message)) return error;
  return new KryptonError(`line ${statement.position.line}: ${error.message}`, error.code);
}

/**
 * An error as the lines to print: one per syntax problem, else one. `where` (a script file name)
 * starts each line.
 */
export function errorLines(error: unknown, where?: string): { lines: string[]; internal: boolean } {
  const prefix = where ? `${where}: ` : '';
  if (error instanceof SyntaxErrors) return { lines: error.problems.map((p) => `${prefix}${p}`), internal: false };
  if (isKryptonError(error)) return { lines: [`${prefix}${messageOf(error)}`], internal: false };
  return { lines: [`internal error: ${messageOf(error)}`], internal: true };
}
