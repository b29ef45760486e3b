import * as arrow from 'apache-arrow';
// The native binding's functions are not enumerable, so `import * as` would copy none of them.
import bindings = require('@duckdb/node-bindings');
import { DuckDBDataChunk, DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBType } from '@duckdb/node-api';

/*
 * Arrow → DuckDB without the arrow extension: each Arrow column's buffers are copied straight into
 * the vectors of a DuckDB data chunk (2,048 rows at most), and whole chunks go through the
 * appender. Fixed-width values, validity bitmaps and list children are one memcpy per chunk;
 * only strings are written one value at a time, because DuckDB keeps them as string_t records.
 * Arrow's and DuckDB's validity masks are both least-significant-bit-first bitmaps, so they copy as
 * bytes. Arrow keeps `values`/`valueOffsets` relative to a slice but its null bitmap relative to
 * the unsliced buffer (`data.offset`).
 */

const VECTOR_SIZE = bindings.vector_size();

/** Appends every row of `table` through `appender`, whose columns must match the table's in order and type. */
export function appendArrowTable(appender: DuckDBAppender, table: arrow.Table): number {
  const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
  checkColumns(table.schema, types);
  for (const batch of table.batches) {
    for (let start = 0; start < batch.numRows; start += VECTOR_SIZE) {
      const count = Math.min(VECTOR_SIZE, batch.numRows - start);
      const chunk = DuckDBDataChunk.create(types, count);
      batch.data.children.forEach((data, column) => {
        writeColumn(bindings.data_chunk_get_vector(chunk.chunk, column), data, start, count);
      });
      appender.appendDataChunk(chunk);
    }
  }
  return table.numRows;
}

function checkColumns(schema: arrow.Schema, types: readonly DuckDBType[]): void {
  if (schema.fields.length !== types.length) {
    throw new Error(`Arrow table has ${schema.fields.length} columns, the DuckDB table ${types.length}`);
  }
  schema.fields.forEach((field, i) => {
    if (!compatible(field.type, types[i])) {
      throw new Error(`Arrow column ${field.name} (${field.type}) cannot be copied into DuckDB ${types[i]}`);
    }
  });
}

function compatible(type: arrow.DataType, target: DuckDBType): boolean {
  if (arrow.DataType.isList(type)) {
    return target.typeId === DuckDBTypeId.LIST && compatible(type.children[0].type, target.valueType);
  }
  return duckdbTypeIdFor(type) === target.typeId;
}

function duckdbTypeIdFor(type: arrow.DataType): DuckDBTypeId | undefined {
  if (arrow.DataType.isInt(type)) {
    const ids: Record<number, [DuckDBTypeId, DuckDBTypeId]> = {
      8: [DuckDBTypeId.TINYINT, DuckDBTypeId.UTINYINT],
      16: [DuckDBTypeId.SMALLINT, DuckDBTypeId.USMALLINT],
      32: [DuckDBTypeId.INTEGER, DuckDBTypeId.UINTEGER],
      64: [DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT],
    };
    return ids[type.bitWidth][type.isSigned ? 0 : 1];
  }
  if (arrow.DataType.isFloat(type)) {
    if (type.precision === arrow.Precision.SINGLE) return DuckDBTypeId.FLOAT;
    if (type.precision === arrow.Precision.DOUBLE) return DuckDBTypeId.DOUBLE;
    return undefined;
  }
  if (arrow.DataType.isBool(type)) return DuckDBTypeId.BOOLEAN;
  if (arrow.DataType.isUtf8(type)) return DuckDBTypeId.VARCHAR;
  if (arrow.DataType.isDate(type) && type.unit === arrow.DateUnit.DAY) return DuckDBTypeId.DATE;
  if (arrow.DataType.isTimestamp(type) && type.unit === arrow.TimeUnit.MICROSECOND) {
    return type.timezone ? DuckDBTypeId.TIMESTAMP_TZ : DuckDBTypeId.TIMESTAMP;
  }
  return undefined;
}

/** Writes rows [start, start + count) of `data` to rows [0, count) of `vector`. */
function writeColumn(vector: bindings.Vector, data: arrow.Data, start: number, count: number): void {
  writeValidity(vector, data, start, count);
  const type = data.type;
  if (arrow.DataType.isUtf8(type)) {
    writeStrings(vector, data as arrow.Data<arrow.Utf8>, start, count);
  } else if (arrow.DataType.isList(type)) {
    writeList(vector, data as arrow.Data<arrow.List>, start, count);
  } else if (arrow.DataType.isBool(type)) {
    writeBooleans(vector, data as arrow.Data<arrow.Bool>, start, count);
  } else {
    const values = data.values as ArrayBufferView & { subarray(begin: number, end: number): ArrayBufferView };
    copyTypedArray(vector, 0, values.subarray(start, start + count));
  }
}

function copyTypedArray(vector: bindings.Vector, targetByteOffset: number, values: ArrayBufferView): void {
  if (values.byteLength === 0) return;
  bindings.copy_data_to_vector(vector, targetByteOffset, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

function writeValidity(vector: bindings.Vector, data: arrow.Data, start: number, count: number): void {
  if (data.nullCount <= 0 || !data.nullBitmap || data.nullBitmap.length === 0) return;
  const mask = bitSlice(data.nullBitmap, data.offset + start, count);
  bindings.vector_ensure_validity_writable(vector);
  bindings.copy_data_to_vector_validity(vector, 0, mask.buffer as ArrayBuffer, mask.byteOffset, mask.byteLength);
}

/** Bits [first, first + count) of an LSB-first bitmap, re-aligned to start at bit 0. */
function bitSlice(bitmap: Uint8Array, first: number, count: number): Uint8Array {
  const byteCount = Math.ceil(count / 8);
  if (first % 8 === 0) return bitmap.subarray(first / 8, first / 8 + byteCount);
  const out = new Uint8Array(byteCount);
  for (let i = 0; i < count; i++) {
    const bit = first + i;
    if ((bitmap[bit >> 3] >> (bit & 7)) & 1) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

function isValid(data: arrow.Data, row: number): boolean {
  if (data.nullCount <= 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + row;
  return ((data.nullBitmap[bit >> 3] >> (bit & 7)) & 1) === 1;
}

const EMPTY = new Uint8Array(0);

function writeStrings(vector: bindings.Vector, data: arrow.Data<arrow.Utf8>, start: number, count: number): void {
  const offsets = data.valueOffsets;
  const bytes = data.values;
  for (let i = 0; i < count; i++) {
    const row = start + i;
    // NULL rows get an empty string too: DuckDB must never meet an unwritten string record.
    const value = isValid(data, row) ? bytes.subarray(offsets[row], offsets[row + 1]) : EMPTY;
    bindings.vector_assign_string_element_len(vector, i, value);
  }
}

function writeBooleans(vector: bindings.Vector, data: arrow.Data<arrow.Bool>, start: number, count: number): void {
  // Arrow packs booleans into bits, DuckDB keeps one byte per value.
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = data.offset + start + i;
    bytes[i] = (data.values[bit >> 3] >> (bit & 7)) & 1;
  }
  copyTypedArray(vector, 0, bytes);
}

/** DuckDB list entries are (offset, length) pairs of uint64 into one child vector. */
function writeList(vector: bindings.Vector, data: arrow.Data<arrow.List>, start: number, count: number): void {
  const offsets = data.valueOffsets;
  const first = offsets[start];
  const total = offsets[start + count] - first;
  const entries = new BigUint64Array(count * 2);
  for (let i = 0; i < count; i++) {
    entries[2 * i] = BigInt(offsets[start + i] - first);
    entries[2 * i + 1] = BigInt(offsets[start + i + 1] - offsets[start + i]);
  }
  copyTypedArray(vector, 0, entries);
  bindings.list_vector_reserve(vector, total);
  bindings.list_vector_set_size(vector, total);
  writeColumn(bindings.list_vector_get_child(vector), data.children[0], first, total);
}
