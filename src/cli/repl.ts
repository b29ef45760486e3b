import { createInterface, type Interface } from 'node:readline';
import { KryptonError } from '../errors.js';
import type { Krypton } from '../krypton.js';
import { isCompleteScript, splitScript } from '../parser/index.js';
import { complete } from './completion.js';
import { HistoryFile } from './history.js';
import type { ProgressMode } from './occlusion-progress.js';
import type { PrintableResult, ResultPrinter } from './print-result.js';
import { errorLines, runScript } from './run-script.js';
import type { CliStreams } from './streams.js';

export const PROMPT = 'krypton> ';
export const CONTINUATION_PROMPT = '     -> ';

export const HELP = `Statements end with ';' and may span lines. Krypton's own:
  CREATE [OR REPLACE] MODEL name FROM 'model.onnx' [INPUT …] [CHANNELS …] [SCALE …] [NORMALIZE …] [LABELS 'labels.txt'];
  DROP MODEL [IF EXISTS] name;
  [EXPLAIN [ANALYZE]] OCCLUDE 'images/*.png' USING MODEL name WITH PATCH 16 STRIDE 4
    [QUALITY SSIM >= 0.9 [TUNE ON 3 IMAGES] [RETUNE] [VERIFY 10 %]] [STRATEGY …] [INTO table];
  LOAD DICOM 'scans/**/*.dcm' INTO table [DEIDENTIFY];
Everything else is SQL for DuckDB, e.g. SELECT image_id, max_drop, ssim FROM heatmaps;
Commands:
  .help     this text
  .tables   the tables in the database
  .models   the models created with CREATE MODEL
  .quit     leave (also .exit, or Ctrl-D)
Tab completes keywords, model and table names; Ctrl-C clears the statement being typed.`;

export interface ReplOptions {
  readonly db: Krypton;
  readonly streams: CliStreams;
  readonly printer: ResultPrinter;
  readonly progress: ProgressMode;
  /** Image failures of an OCCLUDE are warnings, not errors. */
  readonly keepGoing?: boolean;
  /** Where history persists between sessions; undefined keeps none. */
  readonly historyFile?: string;
  /** Ends the process when Ctrl-C interrupts a running statement (tests replace it). */
  readonly exit?: (code: number) => void;
}

/**
 * Reads statements until `.quit` or end of input. On a terminal it prompts, keeps history and
 * completes names; from a pipe it reads the statements silently. A failing statement prints its
 * error and the REPL goes on. Resolves to the exit code: 0, or, when reading from a pipe, 1 if any
 * statement or command failed (as a script run would report it).
 */
export async function runRepl(options: ReplOptions): Promise<number> {
  return new Repl(options).run();
}

class Repl {
  private readonly interactive: boolean;
  private readonly readline: Interface;
  /** Where prompts and other interface chatter go. */
  private readonly terminal: NodeJS.WritableStream | undefined;
  private readonly history: HistoryFile;
  /** Lines of the statement being typed. */
  private pending: string[] = [];
  private names: string[] = [];
  private busy = false;
  private failed = false;
  private quitting = false;
  private interruptedOnce = false;
  /** Aborts the running statement; a second Ctrl-C while it winds down leaves at once. */
  private running?: AbortController;

  constructor(private readonly options: ReplOptions) {
    const { stdin, stdout, stderr } = options.streams;
    this.interactive = Boolean(stdin.isTTY);
    this.history = new HistoryFile(this.interactive ? options.historyFile : undefined);
    // With stdout redirected to a file, the prompts go to the terminal instead of into the file.
    this.terminal = this.interactive ? (stdout.isTTY ? stdout : stderr) : undefined;
    this.readline = createInterface({
      input: stdin,
      output: this.terminal,
      terminal: this.interactive,
      history: this.history.load(),
      historySize: 1000,
      removeHistoryDuplicates: true,
      completer: (line: string) => complete(line, this.names, this.pending.length === 0),
    });
  }

  async run(): Promise<number> {
    if (this.interactive) {
      this.readline.on('SIGINT', () => this.interrupt());
      this.notice(`Krypton on ${this.options.db.path}: statements end with ';', .help for help, .quit to leave.`);
      await this.refreshNames();
      this.prompt();
    }
    for await (const line of this.readline) {
      this.history.add(line);
      await this.accept(line);
      if (this.quitting) break;
      this.prompt();
    }
    // A piped script may end without the last ';'; on a terminal, Ctrl-D drops an unfinished statement.
    if (!this.interactive && !this.quitting && this.pending.join('\n').trim() !== '') await this.execute(this.pending.splice(0).join('\n'));
    this.readline.close();
    this.notice('');
    return !this.interactive && this.failed ? 1 : 0;
  }

  private async accept(line: string): Promise<void> {
    this.interruptedOnce = false;
    if (this.pending.length === 0 && line.trim().startsWith('.')) {
      await this.command(line.trim());
      return;
    }
    this.pending.push(line);
    const text = this.pending.join('\n');
    const { pieces, unterminated } = splitScript(text);
    if (pieces.length === 0 && unterminated === undefined) {
      // Blank lines and comments alone are no statement to wait for.
      this.pending = [];
      return;
    }
    if (!isCompleteScript(text)) return;
    this.pending = [];
    await this.execute(text);
  }

  private async execute(script: string): Promise<void> {
    const { db, printer, progress, streams, keepGoing } = this.options;
    // On a terminal the prompt separates the entries; in a pipe's output, blank lines do.
    if (this.interactive) printer.startGroup();
    this.busy = true;
    this.running = new AbortController();
    try {
      await runScript(script, { db, printer, progress, stderr: streams.stderr, signal: this.running.signal, keepGoing });
    } catch (error) {
      this.fail(error);
    } finally {
      this.busy = false;
      this.running = undefined;
    }
    await this.refreshNames();
  }

  private async command(text: string): Promise<void> {
    const [name] = text.split(/\s+/);
    const { db, printer } = this.options;
    if (this.interactive) printer.startGroup();
    try {
      switch (name.toLowerCase()) {
        case '.help':
          this.say(HELP);
          return;
        case '.quit':
        case '.exit':
          this.quitting = true;
          return;
        case '.tables': {
          const tables = await db.listTables();
          printer.print(nameList(tables, 'no tables'));
          return;
        }
        case '.models':
          printer.print(await this.models());
          return;
        default:
          this.fail(new UnknownCommand(name));
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** The catalog's details where it can be read, else the names. */
  private async models(): Promise<PrintableResult> {
    const { db } = this.options;
    try {
      const result = await db.query(
        "SELECT name, path, input_width || 'x' || input_height AS input, channels, output_kind AS output, labels_path AS labels FROM krypton_models ORDER BY name",
      );
      return result.rows.length === 0 ? { kind: 'Sql', columns: [], rows: [], message: 'no models; create one with CREATE MODEL' } : result;
    } catch {
      return nameList(await db.listModels(), 'no models; create one with CREATE MODEL');
    }
  }

  private fail(error: unknown): void {
    this.failed = true;
    const { lines } = errorLines(error);
    for (const line of lines) this.options.streams.stderr.write(`error: ${line}\n`);
  }

  private interrupt(): void {
    if (this.busy) {
      if (this.running && !this.running.signal.aborted) {
        // An OCCLUDE stops after its current batch; every image it finished is already committed.
        this.options.streams.stderr.write('\nstopping after the current batch (Ctrl-C again to leave now)\n');
        this.running.abort();
        return;
      }
      this.options.streams.stderr.write('\ninterrupted: the images finished so far are stored; run the statement again to continue\n');
      (this.options.exit ?? process.exit)(130);
      return;
    }
    if (this.pending.length > 0 || this.readline.line !== '') {
      this.pending = [];
      this.notice('^C');
      // Ctrl-E then Ctrl-U: empty readline's own line buffer.
      this.readline.write(null, { ctrl: true, name: 'e' });
      this.readline.write(null, { ctrl: true, name: 'u' });
      this.prompt();
      return;
    }
    if (this.interruptedOnce) {
      this.quitting = true;
      this.readline.close();
      return;
    }
    this.interruptedOnce = true;
    this.notice('(press Ctrl-C again or Ctrl-D, or enter .quit, to leave)');
    this.prompt();
  }

  private prompt(): void {
    if (!this.interactive) return;
    this.readline.setPrompt(this.pending.length > 0 ? CONTINUATION_PROMPT : PROMPT);
    this.readline.prompt();
  }

  /** Asked-for text (.help): to stdout, like a result. */
  private say(text: string): void {
    this.options.streams.stdout.write(`${text}\n`);
  }

  /** Interface chatter (banner, hints): only on a terminal, never into a pipe or file. */
  private notice(text: string): void {
    this.terminal?.write(`${text}\n`);
  }

  private async refreshNames(): Promise<void> {
    if (!this.interactive) return;
    try {
      const { db } = this.options;
      this.names = [...new Set([...(await db.listModels()), ...(await db.listTables())])];
    } catch {
      // Completion without names is still completion.
    }
  }
}

class UnknownCommand extends KryptonError {
  constructor(name: string) {
    super(`unknown command '${name}'; .help lists the commands`);
  }
}

function nameList(names: readonly string[], none: string): PrintableResult {
  if (names.length === 0) return { kind: 'Sql', columns: [], rows: [], message: none };
  return { kind: 'Sql', columns: [{ name: 'name', type: 'VARCHAR' }], rows: names.map((name) => ({ name })) };
}
