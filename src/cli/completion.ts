import { KEYWORDS } from '../parser/index.js';

/** SQL that DuckDB understands and a Krypton session often types. */
export const SQL_WORDS: readonly string[] = [
  'ALL', 'ALTER', 'AND', 'AS', 'ASC', 'ATTACH', 'AVG', 'BETWEEN', 'BY', 'CASE', 'CAST', 'COPY', 'COUNT', 'CROSS', 'DELETE',
  'DESC', 'DESCRIBE', 'DISTINCT', 'ELSE', 'END', 'EXCEPT', 'FALSE', 'FULL', 'GROUP', 'HAVING', 'ILIKE', 'IN', 'INNER',
  'INSERT', 'INTERSECT', 'IS', 'JOIN', 'LEFT', 'LIKE', 'LIMIT', 'MAX', 'MIN', 'NOT', 'NULL', 'OFFSET', 'ON', 'OR', 'ORDER',
  'OUTER', 'PRAGMA', 'REPLACE', 'RIGHT', 'SELECT', 'SET', 'SHOW', 'SUM', 'SUMMARIZE', 'TABLE', 'TABLES', 'THEN', 'TRUE',
  'UNION', 'UPDATE', 'VALUES', 'VIEW', 'WHEN', 'WHERE',
  // Functions are lower case, as DuckDB's documentation writes them.
  'getvariable', 'heatmap_cells', 'krypton_ssim', 'list_max', 'list_min', 'read_csv', 'read_json', 'read_parquet', 'unnest',
];

export const DOT_COMMANDS: readonly string[] = ['.help', '.tables', '.models', '.quit', '.exit'];

const KEYWORD_SET = new Set([...KEYWORDS, ...SQL_WORDS.filter((w) => w === w.toUpperCase())]);

/**
 * Completes the word before the cursor from keywords (in the case being typed), model names,
 * table names and, at the start of an entry, the dot commands. Returns readline's [hits, word].
 */
export function complete(line: string, names: readonly string[], atEntryStart: boolean): [string[], string] {
  if (atEntryStart && /^\s*\.\w*$/.test(line)) {
    const word = line.trim();
    return [DOT_COMMANDS.filter((c) => c.startsWith(word.toLowerCase())), word];
  }
  const word = /[A-Za-z_][\w.]*$/.exec(line)?.[0] ?? '';
  if (word === '') return [[], ''];
  const lower = word.toLowerCase();
  const typedLower = word === lower;
  const hits = new Set<string>();
  for (const keyword of KEYWORD_SET) {
    if (keyword.toLowerCase().startsWith(lower)) hits.add(typedLower ? keyword.toLowerCase() : keyword);
  }
  for (const name of [...SQL_WORDS.filter((w) => !KEYWORD_SET.has(w)), ...names]) {
    if (name.toLowerCase().startsWith(lower)) hits.add(name);
  }
  return [[...hits].sort(), word];
}
