// Statements through the CLI (-c, run, --json), in this process: main() with captured streams.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CREATE_CXR, CREATE_MNIST, MNIST_IMAGE, SOME_XRAYS, XRAY_METADATA, expectOneLineError, runCli, sqlList, useTempDir } from './helpers.js';

const dir = useTempDir();
const db = (name: string) => join(dir(), name);

/** A database with the X-ray model, calibrated once for the tests that occlude. */
let cxrDb = '';
beforeAll(async () => {
  cxrDb = db('cxr.duckdb');
  const run = await runCli(['--db', cxrDb, '-c', `${CREATE_CXR}; ${CREATE_MNIST};`]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
});

const tables = async (path: string) => (await runCli(['--db', path, '--json', '-c', 'SELECT table_name FROM information_schema.tables ORDER BY 1'])).stdout;

describe('-c', () => {
  test('CREATE MODEL, OCCLUDE three X-rays, then join their heatmaps with the patient metadata', async () => {
    const path = db('join.duckdb');
    const run = await runCli(['--db', path, '-c', `
      ${CREATE_CXR};
      OCCLUDE ${sqlList(SOME_XRAYS)} USING MODEL cxr WITH PATCH 56 STRIDE 56 INTO xrays;
      SELECT h.image_id, m.projection, h.class_label, h.width * h.height AS cells, h.heatmap
      FROM xrays h JOIN read_csv('${XRAY_METADATA}') m ON h.image_id = m.image_id ORDER BY h.image_id;`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [created, report, joined] = run.stdout.trimEnd().split('\n\n');
    expect(created).toBe('model cxr created (224x224, gray, logits)');
    expect(report.split('\n')[0]).toMatch(/^image_id\s+image_path\s+status\s+class_index\s+class_label\s+base_probability\s+max_drop/);
    expect(report.split('\n').filter((line) => / done /.test(line))).toHaveLength(3);
    expect(report).toMatch(/\noccluded 3 images into xrays \((naive|incremental)\) in [\d.]+ s$/);
    const lines = joined.split('\n');
    expect(lines[0]).toMatch(/^image_id\s+projection\s+class_label\s+cells\s+heatmap$/);
    expect(lines.slice(2, 5).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['00870a9c', expect.stringMatching(/^(ap|pa)$/), expect.stringMatching(/^(ap|pa)$/), '16'],
      ['0578e08b', expect.stringMatching(/^(ap|pa)$/), expect.stringMatching(/^(ap|pa)$/), '16'],
      ['073a8f93', expect.stringMatching(/^(ap|pa)$/), expect.stringMatching(/^(ap|pa)$/), '16'],
    ]);
    expect(lines[2]).toMatch(/\[0\.\d+, 0\.\d+, 0\.\d+, … 16 values\]$/);
    expect(lines[5]).toBe('(3 rows)');

    // --json: every line of stdout is one row, in full.
    const json = await runCli(['--db', path, '--json', '-c', 'SELECT image_id, width, height, heatmap, created_at FROM xrays ORDER BY image_id']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const rows = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(rows.map((r) => r.image_id)).toEqual(['00870a9c', '0578e08b', '073a8f93']);
    for (const row of rows) {
      expect(row.heatmap).toHaveLength(row.width * row.height);
      expect(row.heatmap.every((p: unknown) => typeof p === 'number' && p >= 0 && p <= 1)).toBe(true);
      expect(Number.isNaN(Date.parse(row.created_at))).toBe(false);
    }
  });

  test('--json: the OCCLUDE report rows on stdout, the messages on stderr', async () => {
    const run = await runCli(['--db', cxrDb, '--json', '-c', `OCCLUDE '${MNIST_IMAGE}' USING MODEL mnist WITH PATCH 7 STRIDE 7 INTO digits; SELECT count(*) AS n FROM digits`]);
    expect(run.code).toBe(0);
    const [report, count] = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(report).toMatchObject({ image_id: 'mnist_28', status: expect.stringMatching(/done/), class_index: 8, error: null });
    expect(count).toEqual({ n: 1 });
    expect(run.stderr).toMatch(/^occluded [01] images? into digits/);
  });

  test('nothing to run is no error', async () => {
    expect(await runCli(['--db', ':memory:', '-c', ' -- only a comment\n'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('run <script.sql>', () => {
  test('runs a file; the root options may come before the command or after the file', async () => {
    const script = join(dir(), 'answer.sql');
    writeFileSync(script, '-- a script\nCREATE TABLE answers AS SELECT 42 AS answer;\n\nSELECT answer, answer / 8 AS eighth FROM answers;\n');
    const path = db('run.duckdb');
    const before = await runCli(['--db', path, 'run', script]);
    expect(before).toEqual({ code: 0, stdout: 'Count\n-----\n    1\n(1 row)\n\nanswer  eighth\n------  ------\n    42    5.25\n(1 row)\n', stderr: '' });
    const after = await runCli(['run', script, '--db', path, '--json', '--quiet']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^krypton: .*answer\.sql: line 2: Catalog Error: Table with name "answers" already exists/);
  });

  test('stops at the first failing statement, naming the file and line; what ran before stays', async () => {
    const script = join(dir(), 'fails.sql');
    writeFileSync(script, 'CREATE TABLE kept AS SELECT 1 AS one;\nSELECT one FROM kept;\nSELECT * FROM missing_table;\nCREATE TABLE never AS SELECT 1;\n');
    const path = db('fails.duckdb');
    const run = await runCli(['--db', path, 'run', script]);
    expectOneLineError(run, /^krypton: .*fails\.sql: line 3: Catalog Error: Table with name missing_table does not exist!/);
    expect(run.stdout).toContain('one\n---\n  1\n(1 row)');
    expect(await tables(path)).toContain('"kept"');
    expect(await tables(path)).not.toContain('"never"');
  });

  test('reads the script from stdin with -', async () => {
    const run = await runCli(['--db', ':memory:', 'run', '-'], 'SELECT 1 + 1 AS two;');
    expect(run).toEqual({ code: 0, stdout: 'two\n---\n  2\n(1 row)\n', stderr: '' });
  });

  test('a missing script file', async () => {
    expectOneLineError(await runCli(['--db', ':memory:', 'run', join(dir(), 'nope.sql')]), /cannot read script '.*nope\.sql': no such file$/);
  });
});

describe('problems: one line each, exit 1, no stack trace', () => {
  test('syntax errors: every problem with its line and column, and nothing runs, not even the database file is made', async () => {
    const path = db('never-made.duckdb');
    const script = `CREATE TABLE t AS SELECT 1;\nOCCLUDE 'x.png' USING MODEL m WITH PATCH 7 STRIDES 7;\nSELECT 1;\nCREATE MODEL FROM 'm.onnx';`;
    const run = await runCli(['--db', path, '-c', script]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      "krypton: line 2, column 44: expected STRIDE but found 'STRIDES'",
      expect.stringMatching(/^krypton: line 4, column 14: expected a name but found 'FROM'/),
    ]);
    expect(existsSync(path)).toBe(false);

    // An existing database is left as it was.
    const before = await tables(cxrDb);
    expect((await runCli(['--db', cxrDb, '-c', script])).code).toBe(1);
    expect(await tables(cxrDb)).toBe(before);
  });

  test('a syntax error in a script file names the file', async () => {
    const script = join(dir(), 'typo.sql');
    writeFileSync(script, 'SELECT 1;\n\nDROP MODEL IF cxr;\n');
    const run = await runCli(['--db', cxrDb, 'run', script]);
    expectOneLineError(run, /^krypton: .*typo\.sql: line 3, column 15: /);
  });

  test('an unknown model, located in the script', async () => {
    const occlude = `OCCLUDE '${MNIST_IMAGE}' USING MODEL nope WITH PATCH 7 STRIDE 7`;
    const run = await runCli(['--db', cxrDb, '-c', `SELECT 1;\n  ${occlude}`]);
    const column = 3 + occlude.indexOf('nope');
    expectOneLineError(run, new RegExp(`^krypton: line 2, column ${column}: model 'nope' does not exist \\(known models: cxr, mnist\\)$`));
  });

  test('an unknown table', async () => {
    expectOneLineError(await runCli(['--db', cxrDb, '-c', 'SELECT * FROM nope']), /^krypton: Catalog Error: Table with name nope does not exist!/);
  });

  test('a glob that matches nothing', async () => {
    const run = await runCli(['--db', cxrDb, '-c', `OCCLUDE '${join(dir(), 'none', '*.png')}' USING MODEL mnist WITH PATCH 7 STRIDE 7`]);
    expectOneLineError(run, /^krypton: line 1, column 9: no images match '.*none\/\*\.png'$/);
  });

  test('a query source without a path column', async () => {
    const run = await runCli(['--db', cxrDb, '-c', 'OCCLUDE (SELECT 1) USING MODEL mnist WITH PATCH 7 STRIDE 7']);
    expectOneLineError(run, /^krypton: line 1, column 9: the image query's first column '1' must hold image paths, found 1$/);
  });

  test('a file that is not a database, and a folder that does not exist', async () => {
    const notes = join(dir(), 'notes.duckdb');
    writeFileSync(notes, 'these are my notes, not a database\n'.repeat(200));
    expectOneLineError(await runCli(['--db', notes, '-c', 'SELECT 1']), /is not a DuckDB database file/);
    expect(readFileSync(notes, 'utf8')).toMatch(/^these are my notes/);
    expectOneLineError(await runCli(['--db', join(dir(), 'no', 'such', 'x.duckdb'), '-c', 'SELECT 1']), /folder '.*such' does not exist/);
  });

  test('usage mistakes', async () => {
    const stray = await runCli(['SELECT 1']);
    expectOneLineError(stray, /unknown command 'SELECT 1'; statements go in -c/);
    expectOneLineError(await runCli(['-c', 'SELECT 1', 'zoo', 'vgg16', '--out', 'x.onnx']), /-c cannot be combined with the zoo command/);
    expectOneLineError(await runCli(['--db', ':memory:', '--max-rows', '-1', '-c', 'SELECT 1']), /--max-rows must be a non-negative integer/);
    const unknown = await runCli(['--frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});

test('an unreadable image among others: the others complete, the statement fails (exit 1) unless --keep-going', async () => {
  const images = join(dir(), 'mixed');
  mkdirSync(images);
  copyFileSync(SOME_XRAYS[0], join(images, '1.png'));
  writeFileSync(join(images, '2.png'), readFileSync(SOME_XRAYS[1]).subarray(0, 200));
  copyFileSync(SOME_XRAYS[2], join(images, '3.png'));
  const script = `OCCLUDE '${images}/*.png' USING MODEL cxr WITH PATCH 56 STRIDE 56 INTO mixed; SELECT image_id FROM mixed ORDER BY 1`;
  const run = await runCli(['--db', cxrDb, '-c', script]);
  expect(run.code).toBe(1);
  const statuses = run.stdout.trimEnd().split('\n').slice(2, 5).map((line) => line.split(/\s{2,}/).slice(0, 3));
  expect(statuses).toEqual([
    ['1', expect.stringContaining('1.png'), 'done'],
    ['2', expect.stringContaining('2.png'), 'failed'],
    ['3', expect.stringContaining('3.png'), 'done'],
  ]);
  expect(run.stdout).toMatch(/occluded 2 images into mixed .*, 1 failed: 2 \(.+\)$/m);
  // The script stopped at the failing statement: the SELECT did not run.
  expect(run.stdout).not.toMatch(/image_id\n--------/);
  expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^krypton: line 1: 1 of 3 images failed: 2: .*2\.png/)]);
  const piped = await runCli(['--db', cxrDb], `${script}\n`);
  expect(piped.code).toBe(1);
  expect(piped.stderr).toMatch(/1 of 3 images failed/);
  const kept = await runCli(['--db', cxrDb, '--keep-going', '-c', script]);
  expect(kept.code).toBe(0);
  expect(kept.stdout.trimEnd().split('\n\n')[1]).toBe('image_id\n--------\n1\n3\n(2 rows)');
  expect(kept.stderr).toMatch(/^krypton: warning: 1 of 3 images failed: 2: .*\(--keep-going\)$/m);
});
