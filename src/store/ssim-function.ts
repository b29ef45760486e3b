import { BIGINT, DOUBLE, DuckDBScalarFunction, FLOAT, INTEGER, LIST } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBListVector, DuckDBVector } from '@duckdb/node-api';
import { messageOf } from '../errors.js';
import { ssim } from '../operators/ssim.js';

export const SSIM_FUNCTION = 'krypton_ssim';

/**
 * `krypton_ssim(exact, approximate, width, height) → DOUBLE`: SQL access to the SSIM Krypton
 * reports for approximate heatmaps (src/operators/ssim.ts), so users can compare any two stored
 * heatmaps. Two signatures: FLOAT[] with INTEGER sizes, the results table's own types (read
 * without a cast), and DOUBLE[] with BIGINT sizes, which also takes computed lists and `len()`.
 * NULL in any argument gives NULL; sizes that do not fit the lists, or a NULL or non-finite cell,
 * fail the query with an `Invalid Input Error: krypton_ssim: …`.
 *
 * Registered per DuckDB instance (any connection to it sees the function), not stored in the file.
 */
export function registerSsimFunction(connection: DuckDBConnection): void {
  for (const [values, size] of [
    [FLOAT, INTEGER],
    [DOUBLE, BIGINT],
  ] as const) {
    connection.registerScalarFunction(
      DuckDBScalarFunction.create({
        name: SSIM_FUNCTION,
        returnType: DOUBLE,
        parameterTypes: [LIST(values), LIST(values), size, size],
        mainFunction: (info, input, output) => {
          try {
            ssimOfRows(input, output);
          } catch (error) {
            info.setError(`${SSIM_FUNCTION}: ${messageOf(error).replace(/^ssim: /, '')}`);
          }
        },
      }),
    );
  }
}

function ssimOfRows(input: DuckDBDataChunk, output: DuckDBVector): void {
  const exact = input.getColumnVector(0) as DuckDBListVector;
  const approximate = input.getColumnVector(1) as DuckDBListVector;
  const widths = input.getColumnVector(2);
  const heights = input.getColumnVector(3);
  for (let row = 0; row < input.rowCount; row++) {
    const width = widths.getItem(row);
    const height = heights.getItem(row);
    const exactCells = exact.getItemVector(row);
    const approximateCells = approximate.getItemVector(row);
    if (width === null || height === null || exactCells === null || approximateCells === null) {
      output.setItem(row, null);
      continue;
    }
    output.setItem(
      row,
      ssim(cellValues('exact', exactCells), cellValues('approximate', approximateCells), Number(width), Number(height)),
    );
  }
  output.flush();
}

/** One row's list as Float64; a NULL cell has no SSIM, unlike a NULL list. */
function cellValues(name: string, cells: DuckDBVector): Float64Array {
  const values = new Float64Array(cells.itemCount);
  for (let i = 0; i < values.length; i++) {
    const value = cells.getItem(i);
    if (value === null) throw new Error(`${name} heatmap has NULL at index ${i}`);
    values[i] = value as number;
  }
  return values;
}
