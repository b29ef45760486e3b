import { parseScript } from '../../src/parser/index.js';
import type { OccludeStatement } from '../../src/parser/index.js';
import { parseOne, valuesOf } from './helpers.js';

function occlude(text: string): OccludeStatement {
  const statement = parseOne(text);
  if (statement.kind !== 'Occlude') throw new Error(`expected an OCCLUDE statement, got ${statement.kind}`);
  return statement;
}

/** The values of an OCCLUDE with everything left at its default, for spreading in expectations. */
const DEFAULTS = {
  kind: 'Occlude',
  source: { kind: 'glob', pattern: 'a.png' },
  model: { kind: 'name', name: 'm' },
  targetClass: { kind: 'predicted' },
  patch: { width: 16, height: 16 },
  color: { kind: 'gray' },
  stride: { x: 4, y: 4 },
  strategy: 'auto',
  without: [],
  retune: false,
};

const HEAD = "OCCLUDE 'a.png' USING MODEL m";
const CORE = `${HEAD} WITH PATCH 16 STRIDE 4`;

describe('OCCLUDE', () => {
  test('the example from the design notes, exactly, positions included', () => {
    const text = "OCCLUDE 'scans/*.png' USING MODEL cxr\n  WITH PATCH 16 COLOR GRAY STRIDE 4\n  QUALITY SSIM >= 0.9\n  INTO heatmaps;";
    expect(parseOne(text)).toEqual({
      kind: 'Occlude',
      position: { line: 1, column: 1, offset: 0 },
      text: text.slice(0, -1),
      source: { kind: 'glob', pattern: 'scans/*.png' },
      model: { kind: 'name', name: 'cxr' },
      targetClass: { kind: 'predicted' },
      patch: { width: 16, height: 16 },
      color: { kind: 'gray' },
      stride: { x: 4, y: 4 },
      quality: { metric: 'ssim', target: 0.9 },
      strategy: 'auto',
      without: [],
      retune: false,
      into: { parts: ['heatmaps'], name: 'heatmaps', sql: '"heatmaps"' },
      clauses: {
        source: { line: 1, column: 9, offset: 8 },
        model: { line: 1, column: 35, offset: 34 },
        patch: { line: 2, column: 8, offset: 45 },
        color: { line: 2, column: 17, offset: 54 },
        stride: { line: 2, column: 28, offset: 65 },
        quality: { line: 3, column: 3, offset: 76 },
        into: { line: 4, column: 3, offset: 98 },
      },
    });
  });

  test('the fewest clauses: defaults for class, colour and strategy', () => {
    expect(valuesOf(occlude(CORE))).toEqual(DEFAULTS);
  });

  test('every clause at once', () => {
    const text =
      "OCCLUDE ('a.png', 'b.png') USING MODEL 'models/cxr.onnx' FOR CLASS 'pneumonia' WITH PATCH 32 x 16 " +
      "COLOR (128, 0, 255) STRIDE 8 x 2 REGION (10, 20, 100, 50) QUALITY SSIM >= 0.95 STRATEGY INCREMENTAL " +
      "RENDER TO 'out/overlays/' INTO results.heatmaps";
    expect(valuesOf(occlude(text))).toEqual({
      kind: 'Occlude',
      source: { kind: 'list', paths: ['a.png', 'b.png'] },
      model: { kind: 'file', path: 'models/cxr.onnx' },
      targetClass: { kind: 'label', label: 'pneumonia' },
      patch: { width: 32, height: 16 },
      color: { kind: 'rgb', r: 128, g: 0, b: 255 },
      stride: { x: 8, y: 2 },
      region: { x: 10, y: 20, width: 100, height: 50, unit: 'model' },
      quality: { metric: 'ssim', target: 0.95 },
      strategy: 'incremental',
      without: [],
      retune: false,
      renderDir: 'out/overlays/',
      renderScale: 'absolute',
      into: { parts: ['results', 'heatmaps'], name: 'heatmaps', sql: '"results"."heatmaps"' },
    });
  });

  test.each([
    ["RENDER TO 'o/'", 'absolute'],
    ["RENDER TO 'o/' SCALE ABSOLUTE", 'absolute'],
    ["render to 'o/' scale image", 'image'],
    ["RENDER TO 'o/' SCALE QUERY INTO t", 'query'],
  ])('%s: the overlays\' colour scale', (clause, scale) => {
    expect(occlude(`${CORE} ${clause}`)).toMatchObject({ renderDir: 'o/', renderScale: scale });
  });

  test('SCALE takes ABSOLUTE, IMAGE or QUERY, and only after RENDER TO', () => {
    const problems = (text: string) => parseScript(text).errors.map((e) => e.message);
    expect(problems(`${CORE} RENDER TO 'o/' SCALE PERCENT`)).toEqual(["line 1, column 75: expected ABSOLUTE, IMAGE or QUERY but found 'PERCENT'"]);
    expect(problems(`${CORE} SCALE QUERY`)).toEqual([expect.stringMatching(/^line 1, column 54: expected .* but found 'SCALE'$/)]);
  });

  test.each([
    ['REGION (10, 20, 100, 50)', 'model'],
    ['REGION (10, 20, 100, 50) IN MODEL PIXELS', 'model'],
    ['region (10,20,100,50) in image pixels', 'image'],
  ])('%s: the region and its unit', (clause, unit) => {
    expect(occlude(`${CORE} ${clause} INTO t`).region).toEqual({ x: 10, y: 20, width: 100, height: 50, unit });
  });

  test('records where each written clause starts, and nothing for defaults', () => {
    const text = `${HEAD} FOR CLASS 3 WITH PATCH 16 STRIDE 4 STRATEGY NAIVE REGION (0, 0, 8, 8)`;
    expect(occlude(text).clauses).toEqual({
      source: { line: 1, column: 9, offset: 8 },
      model: { line: 1, column: 29, offset: 28 },
      class: { line: 1, column: 31, offset: 30 },
      patch: { line: 1, column: 48, offset: 47 },
      stride: { line: 1, column: 57, offset: 56 },
      strategy: { line: 1, column: 66, offset: 65 },
      region: { line: 1, column: 81, offset: 80 },
    });
  });

  describe('target class', () => {
    test.each([
      ['FOR CLASS 3', { kind: 'index', index: 3 }],
      ['FOR CLASS 0', { kind: 'index', index: 0 }],
      ["FOR CLASS 'pleural effusion'", { kind: 'label', label: 'pleural effusion' }],
      ["FOR CLASS 'Crohn''s'", { kind: 'label', label: "Crohn's" }],
      ['FOR PREDICTED CLASS', { kind: 'predicted' }],
      ['for predicted class', { kind: 'predicted' }],
    ])('%s', (clause, targetClass) => {
      expect(occlude(`${HEAD} ${clause} WITH PATCH 16 STRIDE 4`).targetClass).toEqual(targetClass);
    });
  });

  describe('patch and stride read width (x) first, then height (y)', () => {
    test.each([
      ['PATCH 16 x 8 STRIDE 4 x 2', { width: 16, height: 8 }, { x: 4, y: 2 }],
      ['PATCH 16x8 STRIDE 4x2', { width: 16, height: 8 }, { x: 4, y: 2 }],
      ['PATCH 16 X 8 STRIDE 4X2', { width: 16, height: 8 }, { x: 4, y: 2 }],
      ['PATCH 16×8 STRIDE 4 × 2', { width: 16, height: 8 }, { x: 4, y: 2 }],
      ['PATCH 16 x16 STRIDE 4 /* across */ x /* down */ 2', { width: 16, height: 16 }, { x: 4, y: 2 }],
      ['PATCH 7 STRIDE 3', { width: 7, height: 7 }, { x: 3, y: 3 }],
    ])('%s', (clauses, patch, stride) => {
      const statement = occlude(`${HEAD} WITH ${clauses}`);
      expect([statement.patch, statement.stride]).toEqual([patch, stride]);
    });
  });

  describe('patch colour', () => {
    test.each([
      ['COLOR GRAY', { kind: 'gray' }],
      ['COLOR BLACK', { kind: 'black' }],
      ['COLOR MEAN', { kind: 'mean' }],
      ['color (0,0,0)', { kind: 'rgb', r: 0, g: 0, b: 0 }],
      ['COLOR ( 255 , 127.5 , 1 )', { kind: 'rgb', r: 255, g: 127.5, b: 1 }],
    ])('%s, right after PATCH or among the later options', (clause, color) => {
      expect(occlude(`${HEAD} WITH PATCH 16 ${clause} STRIDE 4`).color).toEqual(color);
      expect(occlude(`${HEAD} WITH PATCH 16 STRIDE 4 ${clause}`).color).toEqual(color);
    });
  });

  test.each([
    ['STRATEGY AUTO', 'auto'],
    ['STRATEGY NAIVE', 'naive'],
    ['strategy incremental', 'incremental'],
  ])('%s', (clause, strategy) => {
    expect(occlude(`${CORE} ${clause}`).strategy).toBe(strategy);
  });

  test.each([
    ['QUALITY SSIM >= 0.9', 0.9],
    ['QUALITY SSIM >= .75', 0.75],
    ['QUALITY SSIM>=1', 1],
    ['QUALITY SSIM >= 1.0', 1],
  ])('%s', (clause, target) => {
    expect(occlude(`${CORE} ${clause}`).quality).toEqual({ metric: 'ssim', target });
  });

  test('the optional clauses after STRIDE come in any order', () => {
    const inOrder = occlude(`${CORE} REGION (1, 2, 3, 4) QUALITY SSIM >= 0.8 STRATEGY NAIVE RENDER TO 'r/' INTO t`);
    const shuffled = occlude(`${CORE} INTO t RENDER TO 'r/' STRATEGY NAIVE QUALITY SSIM >= 0.8 REGION (1, 2, 3, 4)`);
    expect(valuesOf(shuffled)).toEqual(valuesOf(inOrder));
  });

  describe('INTO takes plain, quoted and qualified table names, case preserved', () => {
    test.each([
      ['INTO HeatMaps', ['HeatMaps'], '"HeatMaps"'],
      ['INTO "heat maps"', ['heat maps'], '"heat maps"'],
      ['INTO "say ""hi"""', ['say "hi"'], '"say ""hi"""'],
      ['INTO "region"', ['region'], '"region"'],
      ['INTO main.heatmaps', ['main', 'heatmaps'], '"main"."heatmaps"'],
      ['INTO "My Schema" . "T"', ['My Schema', 'T'], '"My Schema"."T"'],
      ['INTO db.main.heatmaps', ['db', 'main', 'heatmaps'], '"db"."main"."heatmaps"'],
      ['INTO _t$1', ['_t$1'], '"_t$1"'],
      ['INTO x', ['x'], '"x"'],
      ['INTO x1', ['x1'], '"x1"'],
      ['INTO X', ['X'], '"X"'],
      ['INTO xray', ['xray'], '"xray"'],
      ['INTO données', ['données'], '"données"'],
    ])('%s', (clause, parts, sql) => {
      expect(occlude(`${CORE} ${clause}`).into).toEqual({ parts, name: parts[parts.length - 1], sql });
    });
  });

  describe('model', () => {
    test.each([
      ['USING MODEL cxr', { kind: 'name', name: 'cxr' }],
      ['USING MODEL CXR_v2', { kind: 'name', name: 'CXR_v2' }],
      ['USING MODEL "Chest X-ray"', { kind: 'name', name: 'Chest X-ray' }],
      ['USING MODEL x', { kind: 'name', name: 'x' }],
      ['USING MODEL x16', { kind: 'name', name: 'x16' }],
      ["USING MODEL 'models/squeezenet 1.1.onnx'", { kind: 'file', path: 'models/squeezenet 1.1.onnx' }],
    ])('%s', (clause, model) => {
      expect(occlude(`OCCLUDE 'a.png' ${clause} WITH PATCH 16 STRIDE 4`).model).toEqual(model);
    });
  });

  describe('image source', () => {
    test.each([
      ["'scans/*.png'", { kind: 'glob', pattern: 'scans/*.png' }],
      ["'it''s/*.png'", { kind: 'glob', pattern: "it's/*.png" }],
      ["'a;b/*.png'", { kind: 'glob', pattern: 'a;b/*.png' }],
      ["('one.png')", { kind: 'list', paths: ['one.png'] }],
      ["( 'a.png' ,\n 'b.png' , 'c.png' )", { kind: 'list', paths: ['a.png', 'b.png', 'c.png'] }],
    ])('%s', (source, expected) => {
      expect(occlude(`OCCLUDE ${source} USING MODEL m WITH PATCH 16 STRIDE 4`).source).toEqual(expected);
    });

    test.each([
      ['(SELECT path FROM scans)', 'SELECT path FROM scans'],
      ['(  select path from scans\n )', 'select path from scans'],
      // Nested parentheses, strings and quoted names holding ')' and '(' do not end the query.
      [
        "(SELECT concat('dir/', name, ')') FROM (SELECT * FROM t WHERE f(x) > 0) AS \"q)\" WHERE n = '(')",
        "SELECT concat('dir/', name, ')') FROM (SELECT * FROM t WHERE f(x) > 0) AS \"q)\" WHERE n = '('",
      ],
      // Comments inside stay; comments around the query go, so the text can be wrapped safely.
      ['( /* lead ) */ SELECT p -- trailing )\n FROM t -- last )\n)', 'SELECT p -- trailing )\n FROM t'],
      ['(SELECT $$ ) $$ AS p)', 'SELECT $$ ) $$ AS p'],
      ['(WITH s AS (SELECT p FROM t) SELECT p FROM s)', 'WITH s AS (SELECT p FROM t) SELECT p FROM s'],
      ['((SELECT 1) UNION ALL (SELECT 2))', '(SELECT 1) UNION ALL (SELECT 2)'],
      ["(VALUES ('a.png'), ('b.png'))", "VALUES ('a.png'), ('b.png')"],
      ["(FROM read_csv('index.csv') SELECT path)", "FROM read_csv('index.csv') SELECT path"],
      ["(SELECT path FROM t WHERE note = 'x; y')", "SELECT path FROM t WHERE note = 'x; y'"],
    ])('a query: %s', (source, sql) => {
      const text = `OCCLUDE ${source} USING MODEL m WITH PATCH 16 STRIDE 4`;
      const statement = occlude(text);
      expect(statement.source).toEqual({ kind: 'select', sql, position: expect.anything() });
      const { position } = statement.source as { position: { offset: number } };
      expect(text.slice(position.offset, position.offset + sql.length)).toBe(sql);
    });

    test('the position of a query is where its SQL starts, for errors DuckDB reports later', () => {
      const statement = occlude('OCCLUDE (\n   SELECT p FROM t) USING MODEL m WITH PATCH 16 STRIDE 4');
      expect(statement.source).toEqual({ kind: 'select', sql: 'SELECT p FROM t', position: { line: 2, column: 4, offset: 13 } });
    });
  });

  test('keywords in any case, odd spacing and comments anywhere', () => {
    const text =
      "occlude/*src*/'a.png'\n\tUsInG   model--name next\nm\n  wItH pAtCh 16\n-- between\nsTrIdE\t4 /* tail */";
    expect(valuesOf(occlude(text))).toEqual(DEFAULTS);
  });

  test('numbers written with exponents', () => {
    expect(occlude(`${HEAD} WITH PATCH 1.6e1 STRIDE 4E0`).patch).toEqual({ width: 16, height: 16 });
  });

  test('the AST is frozen all the way down', () => {
    const statement = occlude(`${CORE} REGION (1, 2, 3, 4) INTO a.b`);
    expect(Object.isFrozen(statement)).toBe(true);
    expect(Object.isFrozen(statement.patch)).toBe(true);
    expect(Object.isFrozen(statement.into?.parts)).toBe(true);
    expect(Object.isFrozen(statement.clauses)).toBe(true);
    expect(() => {
      (statement.patch as { width: number }).width = 3;
    }).toThrow(TypeError);
  });
});

describe('EXPLAIN', () => {
  test('EXPLAIN OCCLUDE carries the statement it explains, with its own position and text', () => {
    const text = `EXPLAIN\n  ${CORE}`;
    expect(parseOne(text)).toEqual({
      kind: 'Explain',
      position: { line: 1, column: 1, offset: 0 },
      text,
      analyze: false,
      occlude: expect.objectContaining({
        kind: 'Occlude',
        position: { line: 2, column: 3, offset: 10 },
        text: CORE,
      }),
    });
  });

  test('EXPLAIN ANALYZE', () => {
    const statement = parseOne(`explain analyze ${CORE} STRATEGY NAIVE`);
    expect(valuesOf(statement)).toEqual({
      kind: 'Explain',
      analyze: true,
      occlude: { ...DEFAULTS, strategy: 'naive' },
    });
  });
});

describe('scripts mixing SQL and OCCLUDE', () => {
  test('each statement with its kind, position and exact text', () => {
    const script = [
      "CREATE MODEL cxr FROM 'cxr.onnx';",
      "CREATE TABLE picks AS SELECT path FROM read_csv('index.csv') WHERE note <> ';';",
      'OCCLUDE (SELECT path FROM picks WHERE path LIKE \'%)%\') USING MODEL cxr -- comment; with semicolon',
      '  WITH PATCH 16 STRIDE 4 INTO hm;',
      '/* ; */ SELECT count(*) FROM hm',
    ].join('\n');
    const { statements, errors } = parseScript(script);
    expect(errors).toEqual([]);
    expect(statements.map((s) => [s.kind, s.position.line, s.position.column, s.text])).toEqual([
      ['CreateModel', 1, 1, "CREATE MODEL cxr FROM 'cxr.onnx'"],
      ['Sql', 2, 1, "CREATE TABLE picks AS SELECT path FROM read_csv('index.csv') WHERE note <> ';'"],
      [
        'Occlude',
        3,
        1,
        "OCCLUDE (SELECT path FROM picks WHERE path LIKE '%)%') USING MODEL cxr -- comment; with semicolon\n  WITH PATCH 16 STRIDE 4 INTO hm",
      ],
      ['Sql', 5, 9, 'SELECT count(*) FROM hm'],
    ]);
    const occludeStatement = statements[2] as OccludeStatement;
    expect(occludeStatement.source).toEqual({
      kind: 'select',
      sql: "SELECT path FROM picks WHERE path LIKE '%)%'",
      position: { line: 3, column: 10, offset: 123 },
    });
  });
});
