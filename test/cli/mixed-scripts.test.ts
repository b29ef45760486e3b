/**
 * A script that mixes SQL with Krypton's statements is checked whole before anything runs: a SQL
 * syntax error anywhere (DuckDB's parser, parse only) stops it as a Krypton one does, located in
 * the script; names a statement binds (a table an earlier statement creates) are not checked early.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { open, SyntaxErrors } from '../../src/krypton';
import { MNIST_IMAGE, ROOT, runCli, useTempDir } from './helpers';

const dir = useTempDir();

async function tablesIn(path: string): Promise<string[]> {
  const db = await open(path);
  try {
    return (await db.listTables()).filter((name) => !name.startsWith('krypton_'));
  } finally {
    await db.close();
  }
}

async function databaseWithTable(name: string): Promise<string> {
  const path = join(dir(), name);
  const db = await open(path);
  await db.query('CREATE TABLE kept (a INTEGER)');
  await db.close();
  return path;
}

test('a SQL syntax error after a CREATE TABLE runs nothing: the table is not created in the database file', async () => {
  const path = await databaseWithTable('typo.duckdb');
  const run = await runCli(['--db', path, '-c', 'CREATE TABLE zz(a INT); SELEC 1;']);
  expect(run).toEqual({ code: 1, stdout: '', stderr: 'krypton: line 1, column 25: syntax error at or near "SELEC"\n' });
  expect(await tablesIn(path)).toEqual(['kept']);
});

test('every syntax problem of a script is given, SQL and Krypton alike, in script order with line and column', async () => {
  const path = await databaseWithTable('several.duckdb');
  const script = [
    'CREATE TABLE made (a INT);',
    'INSERT INTO made VALUES (1 2);',
    "OCCLUDE 'x.png' USING MODEL m WITH PATCH 7 STRIDES 7;",
    'SELECT a FROM made WHERE a IN (SELECT 1 FROM);',
    'DROP TABLE kept;',
  ].join('\n');
  const run = await runCli(['--db', path, 'run', '-'], script);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr.trimEnd().split('\n')).toEqual([
    'krypton: line 2, column 28: syntax error at or near "2"',
    "krypton: line 3, column 44: expected STRIDE but found 'STRIDES'",
    'krypton: line 4, column 45: syntax error at or near ")"',
  ]);
  expect(await tablesIn(path)).toEqual(['kept']);
});

test('an unfinished SQL statement is located at its end', async () => {
  const run = await runCli(['--db', ':memory:', '-c', 'SELECT 1;\nSELECT 2,\n  3 FROM (']);
  expect(run).toMatchObject({ code: 1, stdout: '', stderr: 'krypton: line 3, column 11: syntax error at end of input\n' });
});

test('binding is left to each statement: a table made earlier in the script is found, a missing one is the error of its statement', async () => {
  const path = await databaseWithTable('binding.duckdb');
  const run = await runCli(['--db', path, '-c', 'CREATE TABLE later (a INT); INSERT INTO later VALUES (41); SELECT a + 1 AS answer FROM later; SELECT * FROM nowhere;']);
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('answer');
  expect(run.stdout).toContain('42');
  expect(run.stderr).toMatch(/^krypton: line 1: Catalog Error: Table with name nowhere does not exist/);
  expect(await tablesIn(path)).toEqual(['kept', 'later']);
});

test('the query of an OCCLUDE (SELECT …) source is checked too, located in the script', async () => {
  const path = await databaseWithTable('source.duckdb');
  const mnist = join(ROOT, 'data/models/mnist.onnx');
  const script = `CREATE TABLE zz (a INT);\nOCCLUDE (SELECT '${MNIST_IMAGE}' AS path WHERE) USING MODEL '${mnist}' WITH PATCH 14 STRIDE 14;`;
  const run = await runCli(['--db', path, '-c', script]);
  // The query inside the parentheses ends right after WHERE.
  const column = script.split('\n')[1].indexOf('WHERE') + 'WHERE'.length + 1;
  expect(run).toEqual({ code: 1, stdout: '', stderr: `krypton: line 2, column ${column}: syntax error at end of input\n` });
  expect(await tablesIn(path)).toEqual(['kept']);
});

test('the library runs nothing of such a script either', async () => {
  const db = await open(join(dir(), 'library.duckdb'));
  try {
    const error = await db.execute('CREATE TABLE zz (a INT);\n  SELEC 1;').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SyntaxErrors);
    expect((error as SyntaxErrors).problems).toEqual(['line 2, column 3: syntax error at or near "SELEC"']);
    expect((await db.listTables()).filter((name) => !name.startsWith('krypton_'))).toEqual([]);
    // A script DuckDB parses runs as before, statement by statement.
    expect((await db.query("CREATE TABLE ok (a INT); INSERT INTO ok VALUES (1); SELECT count(*)::INTEGER AS n FROM ok;")).rows).toEqual([{ n: 1 }]);
  } finally {
    await db.close();
  }
});

test('the database file is not even made for a script with a SQL syntax error', async () => {
  const path = join(dir(), 'never-made.duckdb');
  expect((await runCli(['--db', path, '-c', 'CREATE TABLE zz(a INT); SELEC 1;'])).code).toBe(1);
  expect(existsSync(path)).toBe(false);
});
