/**
 * Query values as text for a table cell, and as JSON for pipelines. Values are the plain JS that
 * the store returns (see src/store/duckdb-to-js.ts): numbers, bigints beyond 2^53, Dates, arrays
 * (a heatmap is thousands of floats), objects for structs, Buffers for blobs; the column's DuckDB
 * type tells apart what JS alone cannot (a DATE from a TIMESTAMP, a TIME from a BIGINT).
 */

/** Longest text shown in one cell; the rest becomes '…'. */
export const MAX_CELL_LENGTH = 100;
/** Lists longer than this show their first LIST_HEAD items and their length. */
const MAX_LIST_ITEMS = 8;
const LIST_HEAD = 3;

const NUMERIC_TYPE = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL(\(.*\))?|VARINT|BIGNUM)$/i;

/** Numeric columns are right-aligned. */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type.trim());
}

export function formatCell(value: unknown, type = ''): string {
  return truncate(formatValue(value, type.toUpperCase(), false), MAX_CELL_LENGTH);
}

function formatValue(value: unknown, type: string, nested: boolean): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return nested ? `'${escapeText(value).replace(/'/g, "''")}'` : escapeText(value);
  if (typeof value === 'number') return formatNumber(value, nested ? 4 : 6);
  if (typeof value === 'bigint') return type === 'TIME' ? formatTime(value) : value.toString();
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Date) return formatDate(value, type);
  if (Buffer.isBuffer(value) || (type === 'BLOB' && value instanceof Uint8Array)) return formatBlob(value);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return formatList(value as ArrayLike<unknown>, elementType(type), type.startsWith('MAP'));
  if (typeof value === 'object') return type === 'INTERVAL' ? formatInterval(value as Interval) : formatStruct(value as Record<string, unknown>);
  return String(value);
}

/** Six significant digits for a cell (full precision is what --json is for), four inside a list. */
export function formatNumber(value: number, digits = 6): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const text = value.toPrecision(digits);
  // toPrecision keeps trailing zeros (0.500000) and may switch to exponent form (1.00000e+21).
  return text.includes('e') ? text.replace(/\.?0+e/, 'e') : text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** `[0.9812, 0.9734, 0.9701, … 2809 values]`. */
function formatList(list: ArrayLike<unknown>, itemType: string, isMap: boolean): string {
  const shown = list.length > MAX_LIST_ITEMS ? LIST_HEAD : list.length;
  const items: string[] = [];
  for (let i = 0; i < shown; i++) items.push(isMap ? formatMapEntry(list[i]) : formatValue(list[i], itemType, true));
  if (isMap) return `{${items.join(', ')}${list.length > shown ? `, … ${list.length} entries` : ''}}`;
  return `[${items.join(', ')}${list.length > shown ? `, … ${list.length} values` : ''}]`;
}

/** DuckDB's MAP arrives as a list of {key, value} entries. */
function formatMapEntry(entry: unknown): string {
  const { key, value } = (entry ?? {}) as { key?: unknown; value?: unknown };
  return `${formatValue(key, '', true)}=${formatValue(value, '', true)}`;
}

function formatStruct(struct: Record<string, unknown>): string {
  return `{${Object.entries(struct).map(([key, value]) => `${key}: ${formatValue(value, '', true)}`).join(', ')}}`;
}

/** 'INTEGER[]' → 'INTEGER', 'FLOAT[3]' → 'FLOAT'. */
function elementType(type: string): string {
  return type.replace(/\[\d*\]$/, '');
}

function formatDate(date: Date, type: string): string {
  if (Number.isNaN(date.getTime())) return String(date);
  const iso = date.toISOString();
  if (type === 'DATE') return iso.slice(0, 10);
  const time = iso.slice(0, 23).replace('T', ' ').replace(/\.000$/, '');
  return type.includes('TIME ZONE') || type === 'TIMESTAMPTZ' ? `${time}+00` : time;
}

/** TIME arrives as microseconds since midnight. */
function formatTime(micros: bigint): string {
  const total = Number(micros);
  const seconds = Math.floor(total / 1e6);
  const fraction = total % 1e6;
  const hms = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return fraction ? `${hms}.${String(fraction).padStart(6, '0').replace(/0+$/, '')}` : hms;
}

interface Interval {
  readonly months: number;
  readonly days: number;
  readonly micros: bigint | number;
}

function formatInterval({ months, days, micros }: Interval): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${Math.abs(n) === 1 ? '' : 's'}`;
  const parts: string[] = [];
  if (Math.trunc(months / 12)) parts.push(plural(Math.trunc(months / 12), 'year'));
  if (months % 12) parts.push(plural(months % 12, 'month'));
  if (days) parts.push(plural(days, 'day'));
  if (BigInt(micros) !== 0n || parts.length === 0) {
    const negative = BigInt(micros) < 0n;
    const time = formatTime(negative ? -BigInt(micros) : BigInt(micros));
    parts.push(negative ? `-${time}` : time);
  }
  return parts.join(' ');
}

/** As DuckDB shows blobs: printable ASCII as is, other bytes as \xHH. */
function formatBlob(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length && text.length <= MAX_CELL_LENGTH; i++) {
    const byte = bytes[i];
    text += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return text;
}

/** Line breaks and tabs would break the table's alignment. */
function escapeText(text: string): string {
  return text.replace(/[\n\r\t]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * One row as a JSON object. Full precision; lists in full; bigints as numbers when safe, else as
 * strings; DATE as 'YYYY-MM-DD', TIME as 'HH:MM:SS', other times as ISO 8601 in UTC; blobs as
 * base64; NaN and infinities become null (JSON has no such numbers).
 */
export function rowToJson(row: Record<string, unknown>, columns: readonly { readonly name: string; readonly type: string }[]): string {
  const object: Record<string, unknown> = {};
  for (const { name, type } of columns) object[name] = topLevelJson(row[name], type.toUpperCase());
  return JSON.stringify(object, jsonReplacer);
}

function topLevelJson(value: unknown, type: string): unknown {
  if (type === 'DATE' && value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  if (type === 'TIME' && typeof value === 'bigint') return formatTime(value);
  return value;
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // Buffer.toJSON has already run by now; the holder still has the Buffer itself.
  const original = (this as Record<string, unknown>)[key];
  if (Buffer.isBuffer(original)) return original.toString('base64');
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}
