// The REPL in this process: statements piped in, and a pretend terminal for prompts, history,
// Ctrl-C and completion.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { complete } from '../../src/cli/completion.js';
import { HistoryFile, historyPath } from '../../src/cli/history.js';
import { progressMode } from '../../src/cli/occlusion-progress.js';
import { ResultPrinter } from '../../src/cli/print-result.js';
import { CONTINUATION_PROMPT, PROMPT, runRepl } from '../../src/cli/repl.js';
import { open } from '../../src/krypton.js';
import { CREATE_CXR, CREATE_MNIST, MNIST_IMAGE, SOME_XRAYS, capture, runCli, useTempDir } from './helpers.js';

const dir = useTempDir();

describe('statements piped in', () => {
  test('multi-line statements, .tables, .models, an error and then a good statement, .quit', async () => {
    const db = join(dir(), 'piped.duckdb');
    const input = [
      `${CREATE_MNIST};`,
      'SELECT 40',
      '  + 2 AS answer;',
      '-- a comment alone is no statement',
      '.tables',
      '.models',
      'SELECT * FROM missing_table;',
      "SELECT 'still here' AS status;",
      '.quit',
      "SELECT 'never run';",
    ].join('\n');
    const run = await runCli(['--db', db], input);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: Catalog Error: Table with name missing_table does not exist!\n');
    expect(run.stdout).not.toContain(PROMPT.trim());
    expect(run.stdout).not.toContain('never run');
    const blocks = run.stdout.trimEnd().split('\n\n');
    expect(blocks[0]).toBe('model mnist created (28x28, gray, logits)');
    expect(blocks[1]).toBe('answer\n------\n    42\n(1 row)');
    expect(blocks[2]).toMatch(/^name\n-+\n(.*\n)*krypton_models\n(.*\n)*\(\d rows\)$/);
    expect(blocks[3]).toMatch(/^name\s+path\s+input\s+channels\s+output\s+labels\n.*\nmnist\s+\S+mnist\.onnx\s+28x28\s+gray\s+logits\s+NULL\n\(1 row\)$/);
    expect(blocks[4]).toBe('status\n----------\nstill here\n(1 row)');
    expect(blocks).toHaveLength(5);
  });

  test('every statement runs to the end of input, the last one even without its ;', async () => {
    const run = await runCli(['--db', ':memory:'], "SELECT 1 AS a;\n\nSELECT 'x;y' AS b; SELECT 3 AS c\n");
    expect(run).toEqual({ code: 0, stdout: 'a\n-\n1\n(1 row)\n\nb\n---\nx;y\n(1 row)\n\nc\n-\n3\n(1 row)\n', stderr: '' });
  });

  test('an unterminated string at the end of input is reported', async () => {
    const run = await runCli(['--db', ':memory:'], "SELECT 'open;\n");
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("error: line 1, column 8: unterminated string: the closing ' is missing\n");
  });

  test('a failing statement leaves the stored results as they were', async () => {
    const db = join(dir(), 'intact.duckdb');
    const occlude = `OCCLUDE '${MNIST_IMAGE}' USING MODEL mnist WITH PATCH 7 STRIDE 7`;
    const run = await runCli(['--db', db], [
      `${CREATE_MNIST};`,
      `${occlude};`,
      `${occlude.replace('MODEL mnist', 'MODEL missing')};`,
      `${occlude.replace('PATCH 7', 'PATCH 70')};`,
      'DROP TABLE no_such_table;',
      'SELECT image_id, width * height AS cells FROM heatmaps;',
      '.nonsense',
    ].join('\n'));
    expect(run.code).toBe(1);
    const errors = run.stderr.trimEnd().split('\n');
    expect(errors).toEqual([
      expect.stringMatching(/^error: line 1, column \d+: model 'missing' does not exist/),
      expect.stringMatching(/^error: line 1, column \d+: .*patch/i),
      expect.stringMatching(/^error: Catalog Error: Table with name no_such_table does not exist/),
      "error: unknown command '.nonsense'; .help lists the commands",
    ]);
    expect(run.stdout).toContain('image_id  cells\n--------  -----\nmnist_28     16\n(1 row)');
  });
});

describe('on a terminal', () => {
  /** A REPL on a pretend terminal; `type` sends keys and waits until the REPL asks for more. */
  async function terminalSession(historyFile: string | undefined) {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = capture(true);
    const stderr = capture(true);
    const streams = { stdin, stdout, stderr };
    const db = await open(':memory:');
    const exits: number[] = [];
    const done = runRepl({ db, streams, printer: new ResultPrinter(streams, { json: false, maxRows: 100 }), progress: progressMode(stderr, {}), historyFile, exit: (code) => exits.push(code) })
      .finally(() => db.close());
    const waitFor = async (predicate: () => boolean, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(predicate()).toBe(true);
    };
    let seen = 0;
    /** Sends keys; resolves with the new output once it matches (by default: ends with a prompt). */
    const type = async (keys: string, until = /(krypton> |     -> )(\x1b\[\d+G)?$/) => {
      stdin.write(keys);
      await waitFor(() => stdout.text().length > seen && until.test(stdout.text().slice(seen)));
      const fresh = stdout.text().slice(seen);
      seen = stdout.text().length;
      return fresh;
    };
    await waitFor(() => stdout.text().includes(PROMPT));
    seen = stdout.text().length;
    return { stdin, stdout, stderr, done, type, exits, waitFor };
  }

  test('prompts, continuation, Ctrl-C, .help, history kept in a file, Ctrl-D', async () => {
    const historyFile = join(dir(), 'history');
    writeFileSync(historyFile, 'SELECT 0;\n');
    const session = await terminalSession(historyFile);
    expect(session.stdout.text()).toMatch(/^Krypton on :memory:: statements end with ';'/);

    expect(await session.type('SELECT 6\r')).toContain(CONTINUATION_PROMPT);
    expect(await session.type('  * 7 AS answer;\r')).toMatch(/answer\r?\n------\r?\n    42\r?\n\(1 row\)\r?\n/);

    // Ctrl-C drops the statement being typed; what follows is a new statement.
    expect(await session.type('SELECT 1\r')).toContain(CONTINUATION_PROMPT);
    expect(await session.type('\x03')).toContain('^C');
    expect(await session.type('SELECT 2 AS two;\r')).toMatch(/two\r?\n---\r?\n  2\r?\n/);
    // Ctrl-C on an empty line only says how to leave.
    expect(await session.type('\x03')).toContain('press Ctrl-C again or Ctrl-D');

    expect(await session.type('.help\r')).toContain('.tables   the tables in the database');
    expect(await session.type('SELECT nope;\r')).toContain(PROMPT);
    expect(session.stderr.text()).toMatch(/^error: Binder Error: Referenced column "nope" was not found/);

    session.stdin.write('\x04');
    expect(await session.done).toBe(0);
    expect(session.exits).toEqual([]);
    expect(readFileSync(historyFile, 'utf8')).toBe('SELECT 0;\nSELECT 6\n  * 7 AS answer;\nSELECT 1\nSELECT 2 AS two;\n.help\nSELECT nope;\n');
  });

  test('tab completes keywords in the case typed, and table names', async () => {
    const session = await terminalSession(undefined);
    await session.type('CREATE TABLE xrays AS SELECT 1 AS x;\r');
    await session.type('sel', /sel$/);
    // One key at a time: readline takes a tab inside pasted text literally.
    expect(await session.type('\t', /ect/)).toContain('ect');
    await session.type(' * FROM xr', /xr$/);
    expect(await session.type('\t', /ays/)).toContain('ays');
    expect(await session.type(';\r')).toMatch(/x\r?\n-\r?\n1\r?\n/);
    session.stdin.write('.quit\r');
    expect(await session.done).toBe(0);
  });

  test('Ctrl-C while OCCLUDE runs stops it after the current batch and the REPL goes on', async () => {
    const session = await terminalSession(undefined);
    expect(await session.type(`${CREATE_CXR};\r`)).toContain('model cxr created');
    session.stdin.write(`OCCLUDE ('${SOME_XRAYS[0]}', '${SOME_XRAYS[1]}') USING MODEL cxr WITH PATCH 16 STRIDE 8 INTO stopped;\r`);
    await session.waitFor(() => session.stderr.text().includes('occlude ['));
    session.stdin.write('\x03');
    await session.waitFor(() => /error: interrupted: \d+ images? finished in this run (is|are) kept in stopped; run the statement again to do the rest/.test(session.stderr.text()));
    expect(session.stderr.text()).toContain('stopping after the current batch (Ctrl-C again to leave now)');
    expect(session.exits).toEqual([]);
    // The error reaches stderr before the prompt reaches stdout: wait for the prompt, or the
    // next statement's output would be taken for this one's.
    await session.type('');
    // The REPL is still there, and what was stored is whole.
    expect(await session.type('SELECT count(*) <= 2 AS ok FROM stopped;\r')).toMatch(/ok\r?\n-+\r?\ntrue/);
    session.stdin.write('.quit\r');
    expect(await session.done).toBe(0);
  });

  test('a second Ctrl-C while the statement winds down leaves at once', async () => {
    const session = await terminalSession(undefined);
    expect(await session.type(`${CREATE_CXR};\r`)).toContain('model cxr created');
    session.stdin.write(`OCCLUDE '${SOME_XRAYS[0]}' USING MODEL cxr WITH PATCH 16 STRIDE 4;\r`);
    await session.waitFor(() => session.stderr.text().includes('occlude ['));
    session.stdin.write('\x03');
    session.stdin.write('\x03');
    await session.waitFor(() => session.exits.length > 0);
    expect(session.exits).toEqual([130]);
    expect(session.stderr.text()).toContain('interrupted: the images finished so far are stored; run the statement again to continue');
    // Here the exit is only recorded, so the statement ends (interrupted) and the REPL can be closed.
    await session.waitFor(() => session.stderr.text().includes('error: interrupted'));
    session.stdin.write('.quit\r');
    expect(await session.done).toBe(0);
  });

  test('a history file that cannot be written is no problem', async () => {
    const folder = join(dir(), 'a-folder');
    mkdirSync(folder);
    const session = await terminalSession(folder);
    expect(await session.type('SELECT 1 AS one;\r')).toContain('(1 row)');
    session.stdin.write('.quit\r');
    expect(await session.done).toBe(0);
  });
});

describe('completion', () => {
  test('keywords in the case being typed, Krypton names, and dot commands at the start', () => {
    expect(complete('OCC', [], true)).toEqual([['OCCLUDE'], 'OCC']);
    expect(complete('occlude x using mo', [], true)).toEqual([['model'], 'mo']);
    expect(complete('SELECT * FROM heat', ['heatmaps', 'cxr'], true)).toEqual([['heatmap_cells', 'heatmaps'], 'heat']);
    expect(complete('OCCLUDE x USING MODEL C', ['heatmaps', 'cxr'], true)[0]).toEqual(expect.arrayContaining(['cxr', 'CLASS', 'CHANNELS', 'COLOR']));
    expect(complete('.ta', [], true)).toEqual([['.tables'], '.ta']);
    // The approximate-inference clauses complete like every other keyword, and so does the SSIM function.
    expect(complete('QUALITY SSIM >= 0.9 RET', [], true)).toEqual([['RETUNE'], 'RET']);
    expect(complete('STRATEGY INCREMENTAL THRESHOLD 0.6 dri', [], true)).toEqual([['drilldown'], 'dri']);
    expect(complete('STRATEGY AUTO WITH', [], true)).toEqual([['WITH', 'WITHOUT'], 'WITH']);
    expect(complete('SELECT krypton_s', [], true)).toEqual([['krypton_ssim'], 'krypton_s']);
    expect(complete('.ta', [], false)[0]).not.toContain('.tables');
    expect(complete('SELECT ', [], true)).toEqual([[], '']);
  });
});

describe('history file', () => {
  test('loads newest first, skips blank and repeated lines, and keeps the last thousand', () => {
    const path = join(dir(), 'long-history');
    writeFileSync(path, Array.from({ length: 2500 }, (_, i) => `SELECT ${i};\n\n`).join(''));
    const history = new HistoryFile(path);
    const lines = history.load();
    expect(lines).toHaveLength(1000);
    expect(lines[0]).toBe('SELECT 2499;');
    history.add('SELECT 2499;');
    history.add('SELECT 1;');
    history.add('   ');
    const stored = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(stored).toHaveLength(1001);
    expect(stored[stored.length - 1]).toBe('SELECT 1;');
  });

  test('$KRYPTON_HISTORY chooses the file; empty keeps none', () => {
    expect(historyPath({ KRYPTON_HISTORY: '/tmp/h' })).toBe('/tmp/h');
    expect(historyPath({ KRYPTON_HISTORY: '' })).toBeUndefined();
    expect(historyPath({})).toMatch(/\.krypton_history$/);
    expect(new HistoryFile(undefined).load()).toEqual([]);
  });
});
