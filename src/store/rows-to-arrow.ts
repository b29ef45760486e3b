import * as arrow from 'apache-arrow';

export interface ArrowColumn {
  readonly name: string;
  readonly type: arrow.DataType;
}

/**
 * Plain JS rows (as `Store.query` returns them) → an Arrow table. With `columns` the types are
 * given (query() derives them from DuckDB's); without, each column's type is inferred from its
 * first non-null value: number → Float64, bigint → Int64, string → Utf8, boolean → Bool,
 * Date → Timestamp(ms), Float32Array → List<Float32>, other arrays → List of their first element's
 * type, Uint8Array → Binary, anything else → its JSON text.
 */
export function rowsToArrow(rows: readonly Record<string, unknown>[], columns?: readonly ArrowColumn[]): arrow.Table {
  const resolved = columns ?? inferColumns(rows);
  const vectors: Record<string, arrow.Vector> = {};
  for (const { name, type } of resolved) {
    vectors[name] = columnVector(
      rows.map((row) => row[name]),
      type,
    );
  }
  if (resolved.length === 0) return new arrow.Table();
  return new arrow.Table(vectors);
}

function columnVector(values: readonly unknown[], type: arrow.DataType): arrow.Vector {
  if (isNumberList(type)) {
    const fast = numberListVector(values, type);
    if (fast) return fast;
  }
  return arrow.vectorFromArray(
    values.map((value) => normalise(value, type)),
    type,
  );
}

function isNumberList(type: arrow.DataType): type is arrow.List<arrow.Float> {
  return arrow.DataType.isList(type) && arrow.DataType.isFloat(type.children[0].type);
}

/** Lists of numbers without null elements go straight into one child buffer (heatmaps are big). */
function numberListVector(values: readonly unknown[], type: arrow.List<arrow.Float>): arrow.Vector | undefined {
  const valueOffsets = new Int32Array(values.length + 1);
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    const list = values[i];
    if (list === null || list === undefined) {
      nullCount++;
      valueOffsets[i + 1] = valueOffsets[i];
      continue;
    }
    if (!isNumberArray(list)) return undefined;
    nullBitmap[i >> 3] |= 1 << (i & 7);
    valueOffsets[i + 1] = valueOffsets[i] + list.length;
  }
  const childType = type.children[0].type;
  const ChildArray = childType.precision === arrow.Precision.SINGLE ? Float32Array : Float64Array;
  if (childType.precision === arrow.Precision.HALF) return undefined;
  const flat = new ChildArray(valueOffsets[values.length]);
  values.forEach((list, i) => {
    if (list) flat.set(list as ArrayLike<number>, valueOffsets[i]);
  });
  const child = arrow.makeData({ type: childType, length: flat.length, nullCount: 0, data: flat });
  return arrow.makeVector(
    arrow.makeData({ type, length: values.length, nullCount, nullBitmap, valueOffsets, child }),
  );
}

function isNumberArray(value: unknown): value is ArrayLike<number> {
  if (value instanceof Float32Array || value instanceof Float64Array) return true;
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

/** Shapes a plain JS value the way apache-arrow's builder for `type` expects it. */
function normalise(value: unknown, type: arrow.DataType): unknown {
  if (value === null || value === undefined) return null;
  if (arrow.DataType.isInt(type) && type.bitWidth === 64) {
    return typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
  }
  if (arrow.DataType.isInt(type) || arrow.DataType.isFloat(type)) return Number(value);
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) {
    return value instanceof Date ? value.getTime() : null;
  }
  if (arrow.DataType.isBool(type)) return Boolean(value);
  if (arrow.DataType.isUtf8(type)) return typeof value === 'string' ? value : toJsonText(value);
  if (arrow.DataType.isBinary(type)) return value instanceof Uint8Array ? value : null;
  if (arrow.DataType.isList(type) || arrow.DataType.isFixedSizeList(type)) {
    const child = type.children[0].type;
    return Array.from(value as ArrayLike<unknown>, (item) => normalise(item, child));
  }
  if (arrow.DataType.isStruct(type)) {
    const object = value as Record<string, unknown>;
    return Object.fromEntries(type.children.map((field) => [field.name, normalise(object[field.name], field.type)]));
  }
  return value;
}

function toJsonText(value: unknown): string {
  if (typeof value !== 'object') return String(value);
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function inferColumns(rows: readonly Record<string, unknown>[]): ArrowColumn[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) names.add(name);
  return [...names].map((name) => {
    const sample = rows.map((row) => row[name]).find((v) => v !== null && v !== undefined);
    return { name, type: inferType(sample) };
  });
}

function inferType(sample: unknown): arrow.DataType {
  if (sample === undefined || sample === null) return new arrow.Null();
  if (typeof sample === 'number') return new arrow.Float64();
  if (typeof sample === 'bigint') return new arrow.Int64();
  if (typeof sample === 'boolean') return new arrow.Bool();
  if (typeof sample === 'string') return new arrow.Utf8();
  if (sample instanceof Date) return new arrow.TimestampMillisecond();
  if (sample instanceof Uint8Array) return new arrow.Binary();
  if (sample instanceof Float32Array) return new arrow.List(new arrow.Field('item', new arrow.Float32(), true));
  if (sample instanceof Float64Array) return new arrow.List(new arrow.Field('item', new arrow.Float64(), true));
  if (Array.isArray(sample)) {
    const first = sample.find((v) => v !== null && v !== undefined);
    return new arrow.List(new arrow.Field('item', inferType(first ?? 0), true));
  }
  return new arrow.Utf8();
}
