import { formatTable } from '../format/text-table.js';
import type { StatementResult } from '../krypton.js';
import { explainText } from '../planner/explain.js';
import { formatCell, isNumericType, rowToJson } from './format-value.js';
import type { CliStreams } from './streams.js';

export interface PrintOptions {
  /** One JSON object per row on stdout, messages on stderr. */
  readonly json: boolean;
  /** Most rows a table shows; 0 for all. */
  readonly maxRows: number;
}

/** What printing needs of a result; the REPL's own commands make such results too. */
export type PrintableResult = Pick<StatementResult, 'kind' | 'columns' | 'rows' | 'message'>;

type Column = StatementResult['columns'][number];

/**
 * Prints statement results as they arrive: rows as aligned tables with a row count, Krypton's
 * statements with their message, EXPLAIN as its plan text; or, with --json, rows as JSON lines.
 */
export class ResultPrinter {
  private printedInGroup = false;

  constructor(
    private readonly streams: CliStreams,
    private readonly options: PrintOptions,
  ) {}

  /** The results of one script (or one REPL entry) are separated by blank lines; a new one starts clean. */
  startGroup(): void {
    this.printedInGroup = false;
  }

  print(result: PrintableResult): void {
    if (this.options.json) this.printJson(result);
    else this.write(this.asText(result));
  }

  private write(text: string): void {
    this.streams.stdout.write(`${this.printedInGroup ? '\n' : ''}${text}\n`);
    this.printedInGroup = true;
  }

  private printJson(result: PrintableResult): void {
    const { stdout, stderr } = this.streams;
    for (const row of result.rows) stdout.write(`${rowToJson(row, result.columns)}\n`);
    const message = messageOf(result);
    if (message !== undefined) stderr.write(`${message}\n`);
  }

  private asText(result: PrintableResult): string {
    if (result.kind === 'Explain') return explainText(result.rows);
    // DuckDB's own EXPLAIN draws its plan as multi-line text in the explain_value column.
    if (isDuckDBExplain(result)) return result.rows.map((row) => String(row.explain_value).trimEnd()).join('\n');
    const message = messageOf(result);
    if (result.columns.length === 0 || (message !== undefined && result.rows.length === 0)) return message ?? 'ok';
    // Krypton's per-image report has columns (overlay, error) that are often empty for every image.
    const columns = result.kind === 'Occlude' ? result.columns.filter((c) => result.rows.some((row) => row[c.name] !== null && row[c.name] !== undefined)) : result.columns;
    const table = this.table(columns, result.rows);
    return `${table}\n${message ?? rowCount(result.rows.length, this.shownRows(result.rows.length))}`;
  }

  private shownRows(count: number): number {
    return this.options.maxRows > 0 ? Math.min(count, this.options.maxRows) : count;
  }

  private table(columns: readonly Column[], rows: readonly Record<string, unknown>[]): string {
    const shown = rows.slice(0, this.shownRows(rows.length));
    const cells = shown.map((row) => columns.map((c) => formatCell(row[c.name], c.type)));
    // formatTable right-aligns only cells that are numbers; ours are already text, so pad them here.
    columns.forEach((column, i) => {
      if (!isNumericType(column.type)) return;
      const width = Math.max(column.name.length, ...cells.map((row) => row[i].length));
      for (const row of cells) row[i] = row[i].padStart(width);
    });
    return formatTable(columns.map((c) => c.name), cells);
  }
}

/**
 * The message to show for a result, if any. DuckDB answers CREATE TABLE and the like with an empty
 * `Count` column, which is no result set to show.
 */
function messageOf(result: PrintableResult): string | undefined {
  if (result.message !== undefined) return result.message;
  const onlyCount = result.kind === 'Sql' && result.columns.length === 1 && result.columns[0].name === 'Count' && result.rows.length === 0;
  return onlyCount ? 'ok' : undefined;
}

function isDuckDBExplain(result: PrintableResult): boolean {
  return result.kind === 'Sql' && result.columns.map((c) => c.name).join(',') === 'explain_key,explain_value';
}

function rowCount(count: number, shown: number): string {
  const rows = `${count.toLocaleString('en-US')} row${count === 1 ? '' : 's'}`;
  return shown < count ? `(${rows}, first ${shown.toLocaleString('en-US')} shown; --max-rows 0 or --json shows all)` : `(${rows})`;
}
