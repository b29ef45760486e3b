/** An element of the page by id, of the type the page declares it with. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

export function option(value: string, text = value): HTMLOptionElement {
  const element = document.createElement('option');
  element.value = value;
  element.textContent = text;
  return element;
}

/** Shows a one-line problem (or clears it). */
export function showError(element: HTMLElement, error: unknown): void {
  element.textContent = error === undefined ? '' : error instanceof Error ? error.message : String(error);
}

/** A plain table of result rows. */
export function resultTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'result';
  const head = table.createTHead().insertRow();
  for (const column of columns) {
    const cell = document.createElement('th');
    cell.textContent = column;
    head.append(cell);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    for (const column of columns) {
      const value = row[column];
      line.insertCell().textContent = value === null || value === undefined ? 'NULL' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
  }
  return table;
}
