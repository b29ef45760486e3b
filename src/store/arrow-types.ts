import * as arrow from 'apache-arrow';
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBType } from '@duckdb/node-api';

/**
 * The Arrow type a DuckDB result column becomes. Chosen to hold the plain JS values of
 * duckdb-to-js.ts: timestamps are milliseconds (like Date), DECIMAL and 128-bit integers are
 * Float64, and types Arrow JS cannot build well (TIME, INTERVAL, MAP, UNION, VARIANT) are text.
 */
export function arrowTypeFor(type: DuckDBType): arrow.DataType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new arrow.Bool();
    case DuckDBTypeId.TINYINT:
      return new arrow.Int8();
    case DuckDBTypeId.SMALLINT:
      return new arrow.Int16();
    case DuckDBTypeId.INTEGER:
      return new arrow.Int32();
    case DuckDBTypeId.BIGINT:
      return new arrow.Int64();
    case DuckDBTypeId.UTINYINT:
      return new arrow.Uint8();
    case DuckDBTypeId.USMALLINT:
      return new arrow.Uint16();
    case DuckDBTypeId.UINTEGER:
      return new arrow.Uint32();
    case DuckDBTypeId.UBIGINT:
      return new arrow.Uint64();
    case DuckDBTypeId.FLOAT:
      return new arrow.Float32();
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return new arrow.Float64();
    case DuckDBTypeId.BLOB:
    case DuckDBTypeId.BIT:
    case DuckDBTypeId.GEOMETRY:
      return new arrow.Binary();
    case DuckDBTypeId.DATE:
      return new arrow.DateDay();
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return new arrow.TimestampMillisecond();
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new arrow.TimestampMillisecond('UTC');
    case DuckDBTypeId.LIST:
      return new arrow.List(new arrow.Field('item', arrowTypeFor(type.valueType), true));
    case DuckDBTypeId.ARRAY:
      return new arrow.FixedSizeList(type.length, new arrow.Field('item', arrowTypeFor(type.valueType), true));
    case DuckDBTypeId.STRUCT:
      return new arrow.Struct(
        type.entryNames.map((name, i) => new arrow.Field(name, arrowTypeFor(type.entryTypes[i]), true)),
      );
    case DuckDBTypeId.SQLNULL:
      return new arrow.Null();
    default:
      return new arrow.Utf8();
  }
}
