// The native binding's functions are not enumerable, so `import * as` would copy none of them.
import bindings = require('@duckdb/node-bindings');
import { DuckDBTypeId, JSDuckDBValueConverter } from '@duckdb/node-api';
import type { DuckDBDataChunk, DuckDBResult, DuckDBType, DuckDBValueConverter, JS } from '@duckdb/node-api';

/**
 * DuckDB values as plain JS (documented in README.md):
 * integers of 64 bits and more become numbers when they are safe integers, else bigints; DECIMAL
 * becomes a number; timestamps and dates become Dates (millisecond precision), or the DuckDB text
 * ('infinity') when a Date cannot hold them; lists and arrays become arrays; structs objects;
 * everything else follows @duckdb/node-api's JS conversion.
 */
export const toPlainJs: DuckDBValueConverter<JS> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return typeof value === 'bigint' ? numberIfSafe(value) : JSDuckDBValueConverter(value, type, converter);
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      try {
        return JSDuckDBValueConverter(value, type, converter);
      } catch {
        return String(value);
      }
    default:
      return JSDuckDBValueConverter(value, type, converter);
  }
};

export function numberIfSafe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Reads every chunk of a result into one array of plain JS values per column. */
export async function readColumns(result: DuckDBResult): Promise<unknown[][]> {
  const types = result.columnTypes();
  const columns: unknown[][] = types.map(() => []);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    types.forEach((type, i) => appendAll(columns[i], convertChunkColumn(chunk, i, type)));
  }
  return columns;
}

function appendAll(target: unknown[], values: readonly unknown[]): void {
  for (const value of values) target.push(value);
}

type NumberArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
type NumberArrayConstructor = { new (length: number): NumberArray; readonly BYTES_PER_ELEMENT: number };

/** List element types read straight from DuckDB's child vector memory. */
const NUMBER_ARRAYS = new Map<DuckDBTypeId, NumberArrayConstructor>([
  [DuckDBTypeId.FLOAT, Float32Array],
  [DuckDBTypeId.DOUBLE, Float64Array],
  [DuckDBTypeId.TINYINT, Int8Array],
  [DuckDBTypeId.SMALLINT, Int16Array],
  [DuckDBTypeId.INTEGER, Int32Array],
  [DuckDBTypeId.UTINYINT, Uint8Array],
  [DuckDBTypeId.USMALLINT, Uint16Array],
  [DuckDBTypeId.UINTEGER, Uint32Array],
]);

function convertChunkColumn(chunk: DuckDBDataChunk, column: number, type: DuckDBType): unknown[] {
  const NumberArray = type.typeId === DuckDBTypeId.LIST ? NUMBER_ARRAYS.get(type.valueType.typeId) : undefined;
  if (NumberArray) return numberLists(chunk, column, NumberArray);
  return chunk.convertColumnValues(column, toPlainJs);
}

/**
 * Heatmaps are lists of thousands of floats: reading the flat child vector as one typed array
 * avoids a DuckDB value object, and a converter call, per element.
 */
function numberLists(
  chunk: DuckDBDataChunk,
  column: number,
  NumberArray: NumberArrayConstructor,
): ((number | null)[] | null)[] {
  const rowCount = chunk.rowCount;
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  const validity = validityOf(vector, rowCount);
  const entries = new BigUint64Array(copyOf(bindings.vector_get_data(vector, rowCount * 16)).buffer);
  const child = bindings.list_vector_get_child(vector);
  const childCount = bindings.list_vector_get_size(vector);
  const childValidity = validityOf(child, childCount);
  const values = new NumberArray(childCount);
  new Uint8Array(values.buffer).set(bindings.vector_get_data(child, childCount * NumberArray.BYTES_PER_ELEMENT));
  return Array.from({ length: rowCount }, (_, row) => {
    if (!isSet(validity, row)) return null;
    const offset = Number(entries[2 * row]);
    const list: (number | null)[] = Array.from(values.subarray(offset, offset + Number(entries[2 * row + 1])));
    for (let i = 0; childValidity && i < list.length; i++) {
      if (!isSet(childValidity, offset + i)) list[i] = null;
    }
    return list;
  });
}

/** DuckDB's validity mask, or null when every row is valid. */
function validityOf(vector: bindings.Vector, count: number): Uint8Array | null {
  return (bindings.vector_get_validity(vector, Math.ceil(count / 64) * 8) as Uint8Array | null) ?? null;
}

function isSet(mask: Uint8Array | null, index: number): boolean {
  return mask === null || ((mask[index >> 3] >> (index & 7)) & 1) === 1;
}

/** A private, aligned copy of bytes that may be a view of DuckDB's memory. */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
