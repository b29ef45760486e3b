// What needs real processes: a database held by another process, a run killed halfway, the REPL
// on a real pipe, and the installed entry point bin/krypton.js.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CREATE_CXR, ROOT, SOME_XRAYS, XRAYS, expectOneLineError, runChild, runCli, sqlList, startCli, useTempDir, waitForOutput } from './helpers.js';

const dir = useTempDir();

test('a database another process holds: one line naming it, exit 1', async () => {
  const path = join(dir(), 'held.duckdb');
  const holder = startCli(['--db', path]);
  try {
    holder.stdin.write("SELECT 'ready' AS state;\n");
    await waitForOutput(holder, /ready/);
    expectOneLineError(await runCli(['--db', path, '-c', 'SELECT 1']), /^krypton: database '.*held\.duckdb' is in use by another process \(.*, PID \d+\); close it there or choose another file$/);
  } finally {
    holder.stdin.end();
  }
  expect(await holder.done).toMatchObject({ code: 0, stderr: '' });
  expect((await runCli(['--db', path, '-c', 'SELECT 1 AS free'])).code).toBe(0);
});

test('an OCCLUDE killed after its first image: the rerun does the rest, every image once', async () => {
  const path = join(dir(), 'killed.duckdb');
  const images = [...SOME_XRAYS, join(XRAYS, '09258248.png')];
  const occlude = `OCCLUDE ${sqlList(images)} USING MODEL cxr WITH PATCH 32 STRIDE 16 INTO scans`;
  expect((await runCli(['--db', path, '-c', CREATE_CXR])).code).toBe(0);

  // --progress reports each image as it starts; image 2 starting means image 1 is committed.
  const child = startCli(['--db', path, '--progress', '-c', occlude]);
  await waitForOutput(child, new RegExp(`occluding image 2 of ${images.length}:`), 'stderr');
  child.kill('SIGKILL');
  expect((await child.done).signal).toBe('SIGKILL');

  const kept = await runCli(['--db', path, '--json', '-c', 'SELECT image_id FROM scans']);
  expect(kept.code).toBe(0);
  const finished = kept.stdout.trim().split('\n').length;
  expect(finished).toBeGreaterThanOrEqual(1);
  expect(finished).toBeLessThan(images.length);

  const rerun = await runCli(['--db', path, '--json', '-c', occlude]);
  expect(rerun.code).toBe(0);
  const statuses = rerun.stdout.trim().split('\n').map((line) => JSON.parse(line).status);
  expect(statuses.filter((s) => s === 'already done')).toHaveLength(finished);
  expect(statuses.filter((s) => s === 'done')).toHaveLength(images.length - finished);
  expect(rerun.stderr).toMatch(new RegExp(`^occluded ${images.length - finished} images? into scans .*, ${finished} already done\\n$`));

  const counts = await runCli(['--db', path, '--json', '-c', 'SELECT image_id, count(*) AS n FROM scans GROUP BY ALL ORDER BY 1']);
  expect(counts.stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual(
    images.map((p) => ({ image_id: p.slice(p.lastIndexOf('/') + 1, -'.png'.length), n: 1 })).sort((a, b) => a.image_id.localeCompare(b.image_id)),
  );
});

test('the REPL reads a piped script to its end, then exits with the status of its statements', async () => {
  const good = await runChild(['--db', ':memory:'], 'SELECT 1 AS one;\nSELECT 2\n  AS two;\n');
  expect(good).toEqual({ code: 0, signal: null, stdout: 'one\n---\n  1\n(1 row)\n\ntwo\n---\n  2\n(1 row)\n', stderr: '' });
  const bad = await runChild(['--db', ':memory:'], 'SELECT nope;\nSELECT 3 AS three;\n');
  expect(bad.code).toBe(1);
  expect(bad.stdout).toBe('three\n-----\n    3\n(1 row)\n');
  expect(bad.stderr).toMatch(/^error: Binder Error: .*"nope"/);
});

test('bin/krypton.js, the installed command, runs the built CLI (dist/ is built by npm ci and npm run build)', async () => {
  const sources = readdirSync(join(ROOT, 'src', 'cli')).filter((name) => name.endsWith('.ts'));
  const stale = sources.filter((name) => {
    const built = join(ROOT, 'dist', 'src', 'cli', name.replace(/\.ts$/, '.js'));
    return !existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, 'src', 'cli', name)).mtimeMs;
  });
  if (stale.length > 0) throw new Error(`dist/ is older than src/cli (${stale.join(', ')}): run \`npm run build\` first`);
  const child = startCli(['--db', ':memory:', '-c', 'SELECT 42 AS answer'], {}, join(ROOT, 'bin', 'krypton.js'));
  child.stdin.end();
  expect(await child.done).toEqual({ code: 0, signal: null, stdout: 'answer\n------\n    42\n(1 row)\n', stderr: '' });
});

test('a -c script of 40,000 characters loads a model without crashing (onnxruntime dies on such a command line)', async () => {
  const script = `${CREATE_CXR}; SELECT 42 AS answer; -- ${'x'.repeat(40_000)}`;
  const child = startCli(['--db', ':memory:', '-c', script], {}, join(ROOT, 'bin', 'krypton.js'));
  child.stdin.end();
  expect(await child.done).toEqual({ code: 0, signal: null, stdout: expect.stringMatching(/^model cxr created .*\n\nanswer\n------\n    42\n\(1 row\)\n$/), stderr: '' });
});
