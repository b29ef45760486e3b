import type { DuckDBConnection } from '@duckdb/node-api';

/** Ends a failed transaction without hiding the error that failed it. */
export async function rollBack(connection: DuckDBConnection): Promise<void> {
  try {
    await connection.run('ROLLBACK');
  } catch {
    // No transaction left to end (DuckDB already aborted it); the original error says why.
  }
}
