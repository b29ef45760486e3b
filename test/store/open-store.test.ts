import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KryptonError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { kill, startChild, useTempDir } from './fixtures.js';

const dir = useTempDir();

async function openError(path: string): Promise<KryptonError> {
  const error: unknown = await openStore(path).then(
    (store) => store.close(),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KryptonError);
  const krypton = error as KryptonError;
  expect(krypton.code).toBe('store');
  expect(krypton.message).not.toContain('\n');
  return krypton;
}

describe('openStore', () => {
  test('creates a database file that keeps its contents across close and reopen', async () => {
    const path = join(dir(), 'kept.duckdb');
    const first = await openStore(path);
    await first.query('CREATE TABLE notes (id INTEGER, text VARCHAR)');
    await first.query(`INSERT INTO notes VALUES (1, 'chest'), (2, 'retina')`);
    await first.close();
    const second = await openStore(path);
    expect((await second.query('SELECT * FROM notes ORDER BY id')).rows).toEqual([
      { id: 1, text: 'chest' },
      { id: 2, text: 'retina' },
    ]);
    await second.close();
  });

  test('opens an in-memory database', async () => {
    const store = await openStore(':memory:');
    expect(store.path).toBe(':memory:');
    expect((await store.query('SELECT 42 AS answer')).rows).toEqual([{ answer: 42 }]);
    await store.close();
  });

  test('a database held by another process is a clear error', async () => {
    const path = join(dir(), 'locked.duckdb');
    const { child } = await startChild('hold', path, /^ready$/);
    try {
      const error = await openError(path);
      expect(error.message).toMatch(/^database '.*locked\.duckdb' is in use by another process \(.*PID \d+\)/);
      expect(error.message).toContain(`PID ${child.pid}`);
    } finally {
      await kill(child);
    }
    // Once the other process is gone the file opens.
    const store = await openStore(path);
    await store.close();
  });

  test('a second open of the same file in this process is refused until the first is closed', async () => {
    const path = join(dir(), 'twice.duckdb');
    const store = await openStore(path);
    const error = await openError(join(dir(), '.', 'twice.duckdb'));
    expect(error.message).toMatch(/already open in this process/);
    await store.close();
    await (await openStore(path)).close();
  });

  test('a text file is not taken for a database', async () => {
    const path = join(dir(), 'notes.txt');
    writeFileSync(path, 'image_id,sex\n1,F\n');
    const error = await openError(path);
    expect(error.message).toBe(`'${path}' is not a DuckDB database file; choose another path`);
  });

  test('a missing folder is named', async () => {
    const error = await openError(join(dir(), 'no-such-folder', 'x.duckdb'));
    expect(error.message).toMatch(/folder '.*no-such-folder' does not exist/);
  });

  test('a folder is not a database file', async () => {
    const folder = join(dir(), 'a-folder');
    mkdirSync(folder);
    const error = await openError(folder);
    expect(error.message).toMatch(/it is a folder/);
  });

  test('a closed store refuses further work', async () => {
    const store = await openStore(':memory:');
    await store.close();
    await store.close();
    await expect(store.query('SELECT 1')).rejects.toThrow(/is closed/);
  });
});
