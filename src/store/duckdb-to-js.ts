// The native binding's functions are not enumerable, so `import * as` would copy none of them.
import bindings = require('@duckdb/node-bindings');
import { DuckDBListVector, DuckDBTypeId, JSDuckDBValueConverter } from '@duckdb/node-api';
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

const NUMERIC_CHILDREN = new Set<DuckDBTypeId>([
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
]);

function convertChunkColumn(chunk: DuckDBDataChunk, column: number, type: DuckDBType): unknown[] {
  // Heatmaps are lists of thousands of floats: slicing the flat child vector avoids building a
  // DuckDB value object per element.
  if (type.typeId === DuckDBTypeId.LIST && NUMERIC_CHILDREN.has(type.valueType.typeId)) {
    const vector = chunk.getColumnVector(column);
    if (vector instanceof DuckDBListVector) {
      const raw = bindings.data_chunk_get_vector(chunk.chunk, column);
      const validity = bindings.vector_get_validity(raw, Math.ceil(vector.itemCount / 64) * 8) as Uint8Array | null;
      const children = vector.childVector.toArray() as (number | null)[];
      return Array.from({ length: vector.itemCount }, (_, row) => {
        if (validity && ((validity[row >> 3] >> (row & 7)) & 1) === 0) return null;
        const offset = vector.getEntryOffset(row);
        return children.slice(offset, offset + vector.getEntryLength(row));
      });
    }
  }
  return chunk.convertColumnValues(column, toPlainJs);
}
