import { KryptonError } from '../errors.js';

/** A table name as the user wrote it in `INTO`, split into its dot-separated parts and unquoted. */
export interface TableName {
  readonly catalog?: string;
  readonly schema?: string;
  readonly table: string;
}

const BARE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*/;

/**
 * Parses `heatmaps`, `"My Heatmaps"`, `analytics.heatmaps` or `db.analytics."x y"`.
 * Bare parts keep their spelling: DuckDB itself matches names case-insensitively.
 */
export function parseTableName(text: string): TableName {
  const parts: string[] = [];
  let rest = text.trim();
  for (;;) {
    const part = readPart(rest, text);
    parts.push(part.name);
    rest = part.rest.trimStart();
    if (rest === '') break;
    if (!rest.startsWith('.')) throw invalidName(text);
    rest = rest.slice(1).trimStart();
  }
  if (parts.length > 3) throw invalidName(text);
  const [table, schema, catalog] = parts.reverse();
  return { table, ...(schema !== undefined && { schema }), ...(catalog !== undefined && { catalog }) };
}

function readPart(text: string, whole: string): { name: string; rest: string } {
  if (text.startsWith('"')) {
    let name = '';
    for (let i = 1; i < text.length; i++) {
      if (text[i] !== '"') {
        name += text[i];
      } else if (text[i + 1] === '"') {
        name += '"';
        i++;
      } else {
        if (name === '') throw invalidName(whole);
        return { name, rest: text.slice(i + 1) };
      }
    }
    throw invalidName(whole);
  }
  const bare = BARE_IDENTIFIER.exec(text);
  if (!bare) throw invalidName(whole);
  return { name: bare[0], rest: text.slice(bare[0].length) };
}

function invalidName(text: string): KryptonError {
  return new KryptonError(
    `'${text}' is not a valid table name: use letters, digits and _ (or "quote" it), optionally as schema.table`,
    'argument',
  );
}

/** Always quotes, so reserved words and odd characters are safe. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteTableName(name: TableName): string {
  return [name.catalog, name.schema, name.table]
    .filter((part): part is string => part !== undefined)
    .map(quoteIdentifier)
    .join('.');
}

/** A SQL string literal. */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
