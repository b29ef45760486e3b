/** A DuckDB value as JSON can carry it: big integers as numbers where exact (else text), dates as ISO text, bytes as hex. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(jsonValue);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, jsonValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value;
}

export function jsonRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => jsonValue(row) as Record<string, unknown>);
}
