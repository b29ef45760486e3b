import { postJson } from './api.js';
import { byId, resultTable, showError } from './dom.js';

interface SqlAnswer {
  readonly columns: { name: string; type: string }[];
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number;
  readonly message?: string;
  readonly plan?: string;
}

/** SQL: a query box over the database, with the same one-line errors as the CLI. */
export class SqlView {
  private readonly text = byId<HTMLTextAreaElement>('sql-text');
  private readonly error = byId('sql-error');

  constructor() {
    byId('sql-run').addEventListener('click', () => void this.run());
    this.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void this.run();
    });
  }

  setMode(allowWrite: boolean): void {
    byId('sql-mode').textContent = allowWrite ? 'read-write (--allow-write)' : 'read-only: SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE and EXPLAIN OCCLUDE';
  }

  private async run(): Promise<void> {
    showError(this.error, undefined);
    const message = byId('sql-message');
    const result = byId('sql-result');
    message.textContent = '';
    result.replaceChildren();
    try {
      const answer = await postJson<SqlAnswer>('/api/sql', { sql: this.text.value });
      if (answer.plan) {
        const plan = document.createElement('pre');
        plan.textContent = answer.plan;
        result.append(plan);
      } else if (answer.columns.length) {
        result.append(resultTable(answer.columns.map((c) => c.name), answer.rows));
      }
      const shown = answer.rows.length < answer.rowCount ? ` (first ${answer.rows.length} shown)` : '';
      message.textContent = answer.message ?? `${answer.rowCount} row${answer.rowCount === 1 ? '' : 's'}${shown}`;
    } catch (error) {
      showError(this.error, error);
    }
  }
}
