import { PassThrough } from 'node:stream';
import { formatCell, formatNumber, rowToJson } from '../../src/cli/format-value.js';
import { occlusionProgress, progressMode } from '../../src/cli/occlusion-progress.js';
import { ResultPrinter, type PrintableResult } from '../../src/cli/print-result.js';
import { capture } from './helpers.js';

describe('cell text', () => {
  test('a heatmap column shows its first values and its length', () => {
    const heatmap = Float32Array.from({ length: 2809 }, (_, i) => 0.98 - i * 1e-5);
    expect(formatCell(heatmap, 'FLOAT[]')).toBe('[0.98, 0.98, 0.98, … 2809 values]');
    expect(formatCell(Array.from(heatmap), 'FLOAT[]')).toBe('[0.98, 0.98, 0.98, … 2809 values]');
    expect(formatCell([0.5, 0.25], 'DOUBLE[]')).toBe('[0.5, 0.25]');
    expect(formatCell([], 'INTEGER[]')).toBe('[]');
    expect(formatCell([[1, 2], [3]], 'INTEGER[][]')).toBe('[[1, 2], [3]]');
    expect(formatCell(['a', null], 'VARCHAR[]')).toBe("['a', NULL]");
  });

  test('numbers: integers as they are, fractions to six significant digits', () => {
    expect(formatCell(2024, 'INTEGER')).toBe('2024');
    expect(formatCell(0.1 + 0.2, 'DOUBLE')).toBe('0.3');
    expect(formatCell(0.00012345678, 'DOUBLE')).toBe('0.000123457');
    expect(formatCell(1234.56789, 'DOUBLE')).toBe('1234.57');
    expect(formatCell(1e25, 'DOUBLE')).toBe('1e+25');
    expect(formatCell(Number.NaN, 'DOUBLE')).toBe('NaN');
    expect(formatCell(-Infinity, 'DOUBLE')).toBe('-inf');
    expect(formatNumber(2.5)).toBe('2.5');
  });

  test('NULL, bigints, booleans, dates and times', () => {
    expect(formatCell(null, 'INTEGER')).toBe('NULL');
    expect(formatCell(undefined)).toBe('NULL');
    expect(formatCell(12345678901234567890n, 'HUGEINT')).toBe('12345678901234567890');
    expect(formatCell(true, 'BOOLEAN')).toBe('true');
    expect(formatCell(new Date('2024-01-02T00:00:00Z'), 'DATE')).toBe('2024-01-02');
    expect(formatCell(new Date('2024-01-02T03:04:05.500Z'), 'TIMESTAMP')).toBe('2024-01-02 03:04:05.500');
    expect(formatCell(new Date('2024-01-02T03:04:05Z'), 'TIMESTAMP')).toBe('2024-01-02 03:04:05');
    expect(formatCell(new Date('2024-01-02T03:04:05Z'), 'TIMESTAMP WITH TIME ZONE')).toBe('2024-01-02 03:04:05+00');
    expect(formatCell('infinity', 'TIMESTAMP')).toBe('infinity');
    expect(formatCell(11045000000n, 'TIME')).toBe('03:04:05');
    expect(formatCell({ months: 14, days: 3, micros: 3_600_000_000n }, 'INTERVAL')).toBe('1 year 2 months 3 days 01:00:00');
  });

  test('blobs, structs and maps', () => {
    expect(formatCell(Buffer.from([0x61, 0x62, 0x00]), 'BLOB')).toBe('ab\\x00');
    expect(formatCell({ x: 1, y: 'z' }, 'STRUCT("x" INTEGER, "y" VARCHAR)')).toBe("{x: 1, y: 'z'}");
    expect(formatCell([{ key: 'a', value: 1 }], 'MAP(VARCHAR, INTEGER)')).toBe("{'a'=1}");
  });

  test('line breaks are shown escaped and long text is cut', () => {
    expect(formatCell('two\nlines\tand a tab', 'VARCHAR')).toBe('two\\nlines\\tand a tab');
    const long = formatCell('x'.repeat(500), 'VARCHAR');
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('JSON lines', () => {
  const columns = (types: Record<string, string>) => Object.entries(types).map(([name, type]) => ({ name, type }));

  test('full precision, whole lists, and types JSON lacks made plain', () => {
    const row = {
      heatmap: Float32Array.from([0.5, 0.25]),
      big: 12345678901234567890n,
      small: 42n,
      day: new Date('2024-01-02T00:00:00Z'),
      at: new Date('2024-01-02T03:04:05.5Z'),
      time: 11045000000n,
      blob: Buffer.from('hi'),
      nan: Number.NaN,
      none: null,
      nested: { list: [1n, 2n] },
    };
    const parsed = JSON.parse(rowToJson(row, columns({ heatmap: 'FLOAT[]', big: 'HUGEINT', small: 'BIGINT', day: 'DATE', at: 'TIMESTAMP', time: 'TIME', blob: 'BLOB', nan: 'DOUBLE', none: 'INTEGER', nested: 'STRUCT(list BIGINT[])' })));
    expect(parsed).toEqual({
      heatmap: [0.5, 0.25],
      big: '12345678901234567890',
      small: 42,
      day: '2024-01-02',
      at: '2024-01-02T03:04:05.500Z',
      time: '03:04:05',
      blob: Buffer.from('hi').toString('base64'),
      nan: null,
      none: null,
      nested: { list: [1, 2] },
    });
  });
});

describe('result printing', () => {
  function printed(results: PrintableResult[], options = { json: false, maxRows: 100 }) {
    const stdout = capture();
    const stderr = capture();
    const printer = new ResultPrinter({ stdin: new PassThrough(), stdout, stderr }, options);
    for (const result of results) printer.print(result);
    return { stdout: stdout.text(), stderr: stderr.text() };
  }

  test('a table right-aligns numbers, counts rows and separates results by a blank line', () => {
    const result: PrintableResult = {
      kind: 'Sql',
      columns: [{ name: 'image_id', type: 'VARCHAR' }, { name: 'max_drop', type: 'DOUBLE' }],
      rows: [{ image_id: 'a', max_drop: 0.5 }, { image_id: 'bbbbbbbbbbb', max_drop: 0.125 }],
    };
    const { stdout } = printed([result, { kind: 'CreateModel', columns: [], rows: [], message: 'model m created' }]);
    expect(stdout).toBe(
      ['image_id     max_drop', '-----------  --------', 'a                 0.5', 'bbbbbbbbbbb     0.125', '(2 rows)', '', 'model m created', ''].join('\n'),
    );
  });

  test('long results show the first rows and say how many there are', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ i }));
    const { stdout } = printed([{ kind: 'Sql', columns: [{ name: 'i', type: 'INTEGER' }], rows }], { json: false, maxRows: 10 });
    expect(stdout.trimEnd().split('\n')).toHaveLength(2 + 10 + 1);
    expect(stdout).toContain('(2,500 rows, first 10 shown;');
    expect(printed([{ kind: 'Sql', columns: [{ name: 'i', type: 'INTEGER' }], rows }], { json: false, maxRows: 0 }).stdout).toContain('(2,500 rows)\n');
  });

  test("OCCLUDE's report leaves out columns that are empty for every image and ends with the message", () => {
    const { stdout } = printed([{
      kind: 'Occlude',
      columns: [{ name: 'image_id', type: 'VARCHAR' }, { name: 'status', type: 'VARCHAR' }, { name: 'error', type: 'VARCHAR' }],
      rows: [{ image_id: 'a', status: 'done', error: null }],
      message: 'occluded 1 image into heatmaps (naive) in 0.1 s',
    }]);
    expect(stdout).toBe('image_id  status\n--------  ------\na         done\noccluded 1 image into heatmaps (naive) in 0.1 s\n');
  });

  test("DuckDB's empty Count of a CREATE prints ok; EXPLAIN prints its plan by section", () => {
    const { stdout } = printed([
      { kind: 'Sql', columns: [{ name: 'Count', type: 'BIGINT' }], rows: [] },
      { kind: 'Explain', columns: [{ name: 'section', type: 'VARCHAR' }, { name: 'line', type: 'VARCHAR' }], rows: [
        { section: 'logical plan', line: 'Insert' }, { section: 'logical plan', line: '  Occlude' }, { section: 'notes', line: 'a note' },
      ] },
    ]);
    expect(stdout).toBe('ok\n\nlogical plan:\n  Insert\n    Occlude\n\nnotes:\n  a note\n');
  });

  test("DuckDB's EXPLAIN prints its drawn plan as it is", () => {
    const plan = '┌─────┐\n│ SEQ │\n└─────┘\n';
    const { stdout } = printed([{ kind: 'Sql', columns: [{ name: 'explain_key', type: 'VARCHAR' }, { name: 'explain_value', type: 'VARCHAR' }], rows: [{ explain_key: 'physical_plan', explain_value: plan }] }]);
    expect(stdout).toBe('┌─────┐\n│ SEQ │\n└─────┘\n');
  });

  test('--json: rows on stdout, one object a line; messages on stderr', () => {
    const { stdout, stderr } = printed([
      { kind: 'CreateModel', columns: [], rows: [], message: 'model m created' },
      { kind: 'Occlude', columns: [{ name: 'image_id', type: 'VARCHAR' }], rows: [{ image_id: 'a' }, { image_id: 'b' }], message: 'occluded 2 images' },
    ], { json: true, maxRows: 1 });
    expect(stdout.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual([{ image_id: 'a' }, { image_id: 'b' }]);
    expect(stderr).toBe('model m created\noccluded 2 images\n');
  });
});

describe('OCCLUDE progress', () => {
  const event = (imagesDone: number, positionsDone: number) => ({ imagesDone, images: 3, imagePath: `/x/${imagesDone}.png`, positionsDone, positions: 100 });

  test('a bar on a terminal, lines for long runs only in a pipe, nothing with --quiet, lines when asked for', () => {
    expect(progressMode(capture(true), {})).toBe('bar');
    expect(progressMode(capture(true), { quiet: true })).toBe('off');
    expect(progressMode(capture(), {})).toBe('long');
    expect(progressMode(capture(), { progress: true })).toBe('lines');
    expect(progressMode(capture(), { progress: true, quiet: true })).toBe('off');
  });

  test('lines: one per image', () => {
    const stderr = capture();
    const report = occlusionProgress('lines', stderr);
    for (const [images, positions] of [[0, 0], [0, 50], [1, 0], [1, 100], [2, 0]]) report.onProgress(event(images, positions));
    report.stop();
    expect(stderr.text()).toBe('occluding image 1 of 3: /x/0.png\noccluding image 2 of 3: /x/1.png\noccluding image 3 of 3: /x/2.png\n');
  });

  test('in a pipe: silent for a short statement; a long one is announced with its estimate and logged', () => {
    const short = capture();
    const quiet = occlusionProgress('long', short);
    for (const [images, positions] of [[0, 0], [1, 0], [2, 0]]) quiet.onProgress({ ...event(images, positions), estimatedSeconds: 12 });
    expect(short.text()).toBe('');
    const long = capture();
    const report = occlusionProgress('long', long);
    report.onProgress({ ...event(0, 0), tuning: 'exact heatmap of 0.png' });
    for (const [images, positions] of [[0, 0], [1, 0]]) report.onProgress({ ...event(images, positions), estimatedSeconds: 8192 });
    expect(long.text()).toBe('OCCLUDE of 3 images is estimated to take 2.3 h; Ctrl-C stops it after the current batch, keeping finished images\noccluding image 1 of 3: /x/0.png\noccluding image 2 of 3: /x/1.png\n');
  });

  test('a terminal announces a long statement above its bar', () => {
    const stderr = capture(true);
    const report = occlusionProgress('bar', stderr);
    report.onProgress({ ...event(0, 0), estimatedSeconds: 600 });
    report.stop();
    expect(stderr.text()).toMatch(/^OCCLUDE of 3 images is estimated to take 10 min;/);
  });

  test('the bar counts positions across all images, and shows an ETA', () => {
    const stderr = capture(true);
    const report = occlusionProgress('bar', stderr);
    report.onProgress(event(0, 0));
    report.onProgress(event(1, 50));
    report.stop();
    const text = stderr.text();
    expect(text).toContain('occlude [');
    expect(text).toMatch(/50% \| image 2\/3 \| ETA/);
  });
});
