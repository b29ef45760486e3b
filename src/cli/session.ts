import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { KryptonError, messageOf } from '../errors.js';
import { nonNegativeInteger } from './args.js';
import { historyPath } from './history.js';
import type { CliStreams, OutputStream } from './streams.js';

/** Options of a session on a database: krypton's own, and `run`'s (which may repeat them after the file). */
export interface SessionOptions {
  readonly db?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly progress?: boolean;
  readonly maxRows?: string;
  readonly keepGoing?: boolean;
  readonly redis?: string;
}

export const DEFAULT_DATABASE = 'krypton.duckdb';

/** The most rows a table shows when --max-rows is not given. */
export const DEFAULT_MAX_ROWS = 100;

export function addSessionOptions(command: Command, withDefaults: boolean): Command {
  return command
    .option('--db <file>', 'database file; :memory: for a throwaway one', withDefaults ? DEFAULT_DATABASE : undefined)
    .option('--json', 'result rows as JSON lines, one object per row; messages go to stderr')
    .option('--quiet', 'no progress bar')
    .option('--progress', 'report OCCLUDE progress even when stderr is no terminal, one line per image')
    .option('--max-rows <n>', `most rows a table shows, 0 for all (default ${DEFAULT_MAX_ROWS})`)
    .option('--keep-going', 'an OCCLUDE some of whose images fail is not an error: the failures are listed and warned about')
    .option('--redis <url>', 'OCCLUDE on the workers (krypton worker) of this Redis, redis://host:port');
}

export type SessionWork =
  | { readonly kind: 'repl' }
  /** `where` names the script file in error messages. */
  | { readonly kind: 'statements'; readonly script: string; readonly where?: string };

/** Opens the database, does the work, closes it; resolves to the exit code. */
export async function startSession(options: SessionOptions, streams: CliStreams, work: SessionWork): Promise<number> {
  const maxRows = options.maxRows === undefined ? DEFAULT_MAX_ROWS : nonNegativeInteger('--max-rows', options.maxRows);
  // The engine loads when a session starts, not for --help, a usage error or another command.
  const [{ checkScript, open, SyntaxErrors }, { progressMode }, { ResultPrinter }, { runScript }] = await Promise.all([
    import('../krypton.js'), import('./occlusion-progress.js'), import('./print-result.js'), import('./run-script.js'),
  ]);
  if (work.kind === 'statements') {
    // A script with syntax errors must change nothing, not even create the database file.
    const { errors } = await checkScript(work.script);
    if (errors.length > 0) return await reportError(new SyntaxErrors(errors.map((e) => e.message)), streams.stderr, work.where);
  }
  const db = await open(options.db ?? DEFAULT_DATABASE, options.redis ? { workers: options.redis } : {});
  try {
    const printer = new ResultPrinter(streams, { json: options.json ?? false, maxRows });
    const progress = progressMode(streams.stderr, options);
    const keepGoing = options.keepGoing ?? false;
    if (work.kind === 'repl') {
      const { runRepl } = await import('./repl.js');
      return await runRepl({ db, streams, printer, progress, keepGoing, historyFile: historyPath() });
    }
    const stop = stopOnInterrupt(streams.stderr);
    try {
      await runScript(work.script, { db, printer, progress, stderr: streams.stderr, signal: stop.signal, keepGoing });
      return 0;
    } catch (error) {
      const code = await reportError(error, streams.stderr, work.where);
      return stop.signal.aborted ? 130 : code;
    } finally {
      stop.dispose();
    }
  } finally {
    await db.close();
  }
}

/**
 * Ctrl-C asks a running OCCLUDE to stop after its current batch (finished images stay stored and
 * the database closes cleanly); a second Ctrl-C leaves at once.
 */
function stopOnInterrupt(stderr: OutputStream): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    stderr.write('\nstopping after the current batch (Ctrl-C again to leave now)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onInterrupt) };
}

/** `krypton run script.sql`: the root options may also follow the file. */
export function runCommand(program: Command, streams: CliStreams, setExitCode: (code: number) => void): void {
  const command = program
    .command('run')
    .description('run a script of statements from a file (- reads stdin); stops at the first failing statement')
    .argument('<script.sql>', 'the script');
  addSessionOptions(command, false).action(async (file: string, options: SessionOptions) => {
    const merged: SessionOptions = { ...program.opts<SessionOptions>(), ...definedOnly(options) };
    const script = await readScript(file, streams);
    setExitCode(await startSession(merged, streams, { kind: 'statements', script, where: file === '-' ? undefined : file }));
  });
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

async function readScript(file: string, streams: CliStreams): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of streams.stdin) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : messageOf(error);
    throw new KryptonError(`cannot read script '${file}': ${reason}`, 'io');
  }
}

/** Prints an error as `krypton: …` lines; resolves to the exit code (2 for a bug in Krypton, else 1). */
export async function reportError(error: unknown, stderr: OutputStream, where?: string): Promise<number> {
  const { errorLines } = await import('./run-script.js');
  const { lines, internal } = errorLines(error, where);
  for (const line of lines) stderr.write(`krypton: ${line}\n`);
  if (internal && process.env.KRYPTON_DEBUG) stderr.write(`${(error as Error).stack}\n`);
  return internal ? 2 : 1;
}
