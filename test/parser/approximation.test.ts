/**
 * The clauses of approximate inference: TUNE ON, RETUNE, VERIFY and the settings of STRATEGY
 * (AUTO WITHOUT …, THRESHOLD, DRILLDOWN), with the checks that tie them to QUALITY and STRIDE.
 */
import { parseScript } from '../../src/parser/index.js';
import type { OccludeStatement } from '../../src/parser/index.js';
import { messagesOf, parseOne, positionOf, valuesOf } from './helpers.js';

const HEAD = "OCCLUDE 'a.png' USING MODEL m";
const CORE = `${HEAD} WITH PATCH 16 STRIDE 4`;
const TUNED = `${CORE} QUALITY SSIM >= 0.9`;

function occlude(text: string): OccludeStatement {
  const statement = parseOne(text);
  if (statement.kind !== 'Occlude') throw new Error(`expected an OCCLUDE statement, got ${statement.kind}`);
  return statement;
}

/** The one problem of `script`, at the last copy of `at` unless `occurrence` says which. */
function expectOneProblem(script: string, detail: string, at: string, occurrence?: number): void {
  const expected = positionOf(script, at, occurrence ?? script.split(at).length - 1);
  const { statements, errors } = parseScript(script);
  expect(statements).toEqual([]);
  expect(errors.map((problem) => [problem.message, problem.offset, problem.token])).toEqual([
    [`line ${expected.line}, column ${expected.column}: ${detail}`, expected.offset, expect.any(String)],
  ]);
}

describe('the AST of the new clauses', () => {
  test('left out: no tuning, no verification, no settings, nothing switched off', () => {
    const statement = occlude(CORE);
    expect(statement).toMatchObject({ strategy: 'auto', without: [], retune: false });
    for (const absent of ['threshold', 'drilldown', 'tuneSample', 'verifyPercent']) {
      expect(statement).not.toHaveProperty(absent);
    }
  });

  test('QUALITY with its tuning and verification clauses', () => {
    const statement = occlude(`${TUNED} TUNE ON 5 IMAGES RETUNE VERIFY 10 %`);
    expect(valuesOf(statement)).toEqual({
      kind: 'Occlude',
      source: { kind: 'glob', pattern: 'a.png' },
      model: { kind: 'name', name: 'm' },
      targetClass: { kind: 'predicted' },
      patch: { width: 16, height: 16 },
      color: { kind: 'gray' },
      stride: { x: 4, y: 4 },
      quality: { metric: 'ssim', target: 0.9 },
      tuneSample: 5,
      retune: true,
      verifyPercent: 10,
      strategy: 'auto',
      without: [],
    });
  });

  test.each([
    ['TUNE ON 1 IMAGE', 1],
    ['TUNE ON 1 IMAGES', 1],
    ['TUNE ON 3 IMAGE', 3],
    ['tune on 12 images', 12],
    ['Tune /* sample */ On 2 Images', 2],
  ])('%s: IMAGE and IMAGES both, whatever the number', (clause, tuneSample) => {
    expect(occlude(`${TUNED} ${clause}`).tuneSample).toBe(tuneSample);
  });

  test.each([
    ['VERIFY 10 %', 10],
    ['VERIFY 10%', 10],
    ['verify 12.5%', 12.5],
    ['VERIFY 100 %', 100],
    ['VERIFY .5%', 0.5],
  ])('%s', (clause, verifyPercent) => {
    expect(occlude(`${TUNED} ${clause}`).verifyPercent).toBe(verifyPercent);
  });

  test.each([
    ['STRATEGY AUTO WITHOUT NAIVE', ['naive']],
    ['STRATEGY AUTO WITHOUT DRILLDOWN, NAIVE', ['drilldown', 'naive']],
    ['strategy auto without threshold , incremental, drilldown', ['threshold', 'incremental', 'drilldown']],
  ])('%s: the names in the order written', (clause, without) => {
    const statement = occlude(`${TUNED} ${clause}`);
    expect(statement).toMatchObject({ strategy: 'auto', without });
    expect(statement).not.toHaveProperty('threshold');
    expect(statement).not.toHaveProperty('drilldown');
  });

  test('STRATEGY NAIVE with a drill-down', () => {
    const statement = occlude(`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 0.25`);
    expect(statement).toMatchObject({
      strategy: 'naive',
      drilldown: { stride: { x: 8, y: 8 }, fraction: 0.25 },
      without: [],
    });
    expect(statement).not.toHaveProperty('threshold');
  });

  test.each([
    ['STRATEGY INCREMENTAL THRESHOLD 0.4', { strategy: 'incremental', threshold: 0.4 }],
    ['STRATEGY INCREMENTAL THRESHOLD 1', { strategy: 'incremental', threshold: 1 }],
    [
      'STRATEGY INCREMENTAL DRILLDOWN STRIDE 12 x 8 FRACTION 1',
      { strategy: 'incremental', drilldown: { stride: { x: 12, y: 8 }, fraction: 1 } },
    ],
    [
      'strategy incremental threshold .3 drilldown stride 8x8 fraction .1',
      { strategy: 'incremental', threshold: 0.3, drilldown: { stride: { x: 8, y: 8 }, fraction: 0.1 } },
    ],
  ])('%s', (clause, expected) => {
    const statement = occlude(`${CORE} ${clause}`);
    expect(statement).toMatchObject({ ...expected, without: [] });
    if (!('drilldown' in expected)) expect(statement).not.toHaveProperty('drilldown');
  });

  test('the drill-down stride reads across first, like STRIDE', () => {
    const statement = occlude(`${HEAD} WITH PATCH 16 STRIDE 4 x 2 STRATEGY NAIVE DRILLDOWN STRIDE 8 x 6 FRACTION 0.5`);
    expect(statement.drilldown).toEqual({ stride: { x: 8, y: 6 }, fraction: 0.5 });
  });

  test('an approximate STRATEGY can be verified without QUALITY', () => {
    expect(occlude(`${CORE} STRATEGY INCREMENTAL THRESHOLD 0.5 VERIFY 20 %`).verifyPercent).toBe(20);
    expect(occlude(`${CORE} VERIFY 20 % STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 0.5`).verifyPercent).toBe(20);
  });

  test('records where each new clause and STRATEGY setting starts', () => {
    const text = `${TUNED}\n  TUNE ON 4 IMAGES RETUNE\n  VERIFY 5 %`;
    const { clauses } = occlude(text);
    expect(clauses).toMatchObject({
      quality: positionOf(text, 'QUALITY'),
      tune: positionOf(text, 'TUNE'),
      retune: positionOf(text, 'RETUNE'),
      verify: positionOf(text, 'VERIFY'),
    });
    expect(clauses).not.toHaveProperty('threshold');
    expect(clauses).not.toHaveProperty('drilldown');

    const fixed = `${CORE} STRATEGY INCREMENTAL\n  THRESHOLD 0.5\n  DRILLDOWN STRIDE 8 FRACTION 0.5`;
    expect(occlude(fixed).clauses).toMatchObject({
      strategy: positionOf(fixed, 'STRATEGY'),
      threshold: positionOf(fixed, 'THRESHOLD'),
      drilldown: positionOf(fixed, 'DRILLDOWN'),
    });
  });

  test('the new clauses come in any order among the others', () => {
    const inOrder = occlude(`${TUNED} TUNE ON 3 IMAGES RETUNE VERIFY 10 % STRATEGY AUTO WITHOUT NAIVE INTO t`);
    const shuffled = occlude(
      `${CORE} INTO t VERIFY 10 % STRATEGY AUTO WITHOUT NAIVE RETUNE QUALITY SSIM >= 0.9 TUNE ON 3 IMAGES`,
    );
    expect(valuesOf(shuffled)).toEqual(valuesOf(inOrder));
  });

  test('EXPLAIN carries them too', () => {
    const statement = parseOne(`EXPLAIN ANALYZE ${TUNED} TUNE ON 2 IMAGES VERIFY 50 %`);
    expect(statement.kind === 'Explain' && statement.occlude).toMatchObject({ tuneSample: 2, verifyPercent: 50 });
  });

  test('the new parts are frozen', () => {
    const statement = occlude(`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 0.5`);
    expect(Object.isFrozen(statement.drilldown)).toBe(true);
    expect(Object.isFrozen(statement.drilldown?.stride)).toBe(true);
    expect(Object.isFrozen(statement.without)).toBe(true);
    expect(Object.isFrozen(occlude(`${CORE} STRATEGY AUTO WITHOUT NAIVE`).without)).toBe(true);
  });
});

describe('the new keywords', () => {
  test('a keyword that begins another does not hide it: IMAGE, IMAGES, IMAGENET; WITH, WITHOUT', () => {
    expect(occlude(`${TUNED} TUNE ON 2 IMAGES`).tuneSample).toBe(2);
    expect(parseOne("CREATE MODEL m FROM 'm.onnx' NORMALIZE IMAGENET")).toMatchObject({ normalize: { kind: 'imagenet' } });
    expect(occlude(`${TUNED} STRATEGY AUTO WITHOUT NAIVE`).without).toEqual(['naive']);
  });

  test.each(['images_v2', 'online', 'tuned', 'without_x', 'imagery', 'verified', 'fractions'])(
    'a name that begins with one is still a name: INTO %s',
    (name) => {
      expect(occlude(`${CORE} INTO ${name}`).into?.name).toBe(name);
    },
  );

  test.each(['on', 'image', 'IMAGES', 'Threshold', 'tune'])('as a name it must be quoted: "%s"', (name) => {
    expect(occlude(`${CORE} INTO "${name}"`).into?.name).toBe(name);
    expect(occlude(`${HEAD.replace(' m', ` "${name}"`)} WITH PATCH 16 STRIDE 4`).model).toEqual({ kind: 'name', name });
    expect(messagesOf(`${CORE} INTO ${name}`)).toEqual([
      `line 1, column 59: expected a name but found '${name}'` +
        (name === name.toUpperCase() ? '' : ` (a keyword; write "${name}" to use it as a name)`),
    ]);
  });

  test('SQL with ON stays SQL, and a query source may join ON', () => {
    const script = [
      'SELECT p.sex, avg(h.max_drop) FROM heatmaps h JOIN read_csv(\'patients.csv\') p',
      '  ON h.image_id = p.image_id GROUP BY ALL;',
      'CREATE TABLE image AS SELECT 1 AS on_time;',
      'OCCLUDE (SELECT i.path FROM images i JOIN picks k ON i.image = k.image) USING MODEL m',
      '  WITH PATCH 16 STRIDE 4 QUALITY SSIM >= 0.9 TUNE ON 1 IMAGE INTO "image"',
    ].join('\n');
    const { statements, errors } = parseScript(script);
    expect(errors).toEqual([]);
    expect(statements.map((statement) => statement.kind)).toEqual(['Sql', 'Sql', 'Occlude']);
    expect(statements[2]).toMatchObject({
      source: { kind: 'select', sql: 'SELECT i.path FROM images i JOIN picks k ON i.image = k.image' },
      tuneSample: 1,
      into: { name: 'image' },
    });
  });
});

describe('syntax errors in the new clauses', () => {
  test.each([
    [`${TUNED} TUNE 3 IMAGES`, "line 1, column 79: expected ON but found '3'"],
    [`${TUNED} TUNE ON IMAGES`, "line 1, column 82: expected a number but found 'IMAGES'"],
    [`${TUNED} TUNE ON 3`, 'line 1, column 83: expected IMAGES or IMAGE but found the end of the statement'],
    [`${TUNED} TUNE ON 3 PICTURES`, "line 1, column 84: expected IMAGES or IMAGE but found 'PICTURES'"],
    [`${TUNED} VERIFY 10`, "line 1, column 83: expected '%' but found the end of the statement"],
    [`${TUNED} VERIFY 10 percent`, "line 1, column 84: expected '%' but found 'percent'"],
    [`${CORE} STRATEGY AUTO WITHOUT`, 'line 1, column 75: expected NAIVE, INCREMENTAL, THRESHOLD or DRILLDOWN but found the end of the statement'],
    [`${CORE} STRATEGY AUTO WITHOUT AUTO`, "line 1, column 76: expected NAIVE, INCREMENTAL, THRESHOLD or DRILLDOWN but found 'AUTO'"],
    [
      `${CORE} STRATEGY AUTO THRESHOLD 0.5`,
      "line 1, column 68: expected WITHOUT, COLOR, REGION, QUALITY, TUNE, RETUNE, VERIFY, STRATEGY, RENDER, INTO or the end of the statement but found 'THRESHOLD'",
    ],
    [
      `${CORE} STRATEGY NAIVE THRESHOLD 0.5`,
      "line 1, column 69: expected DRILLDOWN, COLOR, REGION, QUALITY, TUNE, RETUNE, VERIFY, STRATEGY, RENDER, INTO or the end of the statement but found 'THRESHOLD'",
    ],
    [`${CORE} STRATEGY INCREMENTAL THRESHOLD`, 'line 1, column 84: expected a number but found the end of the statement'],
    [`${CORE} STRATEGY NAIVE DRILLDOWN 8 FRACTION 0.5`, "line 1, column 79: expected STRIDE but found '8'"],
    [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8`, "line 1, column 87: expected 'x' or FRACTION but found the end of the statement"],
    [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION`, 'line 1, column 96: expected a number but found the end of the statement'],
    // THRESHOLD comes before DRILLDOWN, as the synopsis writes them.
    [
      `${CORE} STRATEGY INCREMENTAL DRILLDOWN STRIDE 8 FRACTION 0.5 THRESHOLD 0.5`,
      "line 1, column 107: expected COLOR, REGION, QUALITY, TUNE, RETUNE, VERIFY, STRATEGY, RENDER, INTO or the end of the statement but found 'THRESHOLD'",
    ],
  ])('%s', (script, message) => {
    expect(messagesOf(script)).toEqual([message]);
  });
});

describe('checks on the new clauses', () => {
  test.each([
    [`${TUNED} TUNE ON 0 IMAGES`, 'TUNE ON must be a positive integer', '0'],
    [`${TUNED} TUNE ON 2.5 IMAGES`, 'TUNE ON must be a positive integer', '2.5'],
    [`${TUNED} TUNE ON -1 IMAGE`, 'TUNE ON must be a positive integer', '-1'],
    [`${TUNED} VERIFY 0 %`, 'VERIFY must be more than 0% and at most 100%', '0 %'],
    [`${TUNED} VERIFY 100.5%`, 'VERIFY must be more than 0% and at most 100%', '100.5'],
    [`${TUNED} VERIFY -5%`, 'VERIFY must be more than 0% and at most 100%', '-5'],
    [`${CORE} STRATEGY INCREMENTAL THRESHOLD 0`, 'THRESHOLD must be in (0, 1]', '0'],
    [`${CORE} STRATEGY INCREMENTAL THRESHOLD 1.5`, 'THRESHOLD must be in (0, 1]', '1.5'],
    [`${CORE} STRATEGY INCREMENTAL THRESHOLD -0.5`, 'THRESHOLD must be in (0, 1]', '-0.5'],
    [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 0`, 'FRACTION must be in (0, 1]', '0'],
    [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 1.01`, 'FRACTION must be in (0, 1]', '1.01'],
    // A bad size is reported as such, not also as failing to reach STRIDE.
    [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 0 FRACTION 0.5`, 'DRILLDOWN STRIDE must be a positive integer', '0 FRACTION'],
    [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 x 1.5 FRACTION 0.5`, 'DRILLDOWN STRIDE must be a positive integer', '1.5'],
    [`${CORE} STRATEGY INCREMENTAL DRILLDOWN STRIDE -8 FRACTION 0.5`, 'DRILLDOWN STRIDE must be a positive integer', '-8'],
  ])('%s', (script, detail, at) => {
    expectOneProblem(script, detail, at);
  });

  describe('the drill-down stride must be a larger multiple of STRIDE along each axis', () => {
    test.each([
      ['STRIDE 4', 'DRILLDOWN STRIDE 10', 'DRILLDOWN STRIDE 10 cannot reach STRIDE 4: it must be a larger multiple of it (8, 12, 16, …)'],
      ['STRIDE 4', 'DRILLDOWN STRIDE 4', 'DRILLDOWN STRIDE 4 cannot reach STRIDE 4: it must be a larger multiple of it (8, 12, 16, …)'],
      ['STRIDE 4', 'DRILLDOWN STRIDE 2', 'DRILLDOWN STRIDE 2 cannot reach STRIDE 4: it must be a larger multiple of it (8, 12, 16, …)'],
      ['STRIDE 3', 'DRILLDOWN STRIDE 8 x 8', 'DRILLDOWN STRIDE 8 cannot reach STRIDE 3: it must be a larger multiple of it (6, 9, 12, …)'],
      ['STRIDE 4', 'DRILLDOWN STRIDE 8 x 6', 'DRILLDOWN STRIDE 8 x 6 cannot reach STRIDE 4: down it must be a larger multiple of 4 (8, 12, 16, …)'],
      ['STRIDE 4 x 2', 'DRILLDOWN STRIDE 6 x 4', 'DRILLDOWN STRIDE 6 x 4 cannot reach STRIDE 4 x 2: across it must be a larger multiple of 4 (8, 12, 16, …)'],
      [
        'STRIDE 4 x 2',
        'DRILLDOWN STRIDE 10 x 3',
        'DRILLDOWN STRIDE 10 x 3 cannot reach STRIDE 4 x 2: across it must be a larger multiple of 4 (8, 12, 16, …), down a larger multiple of 2 (4, 6, 8, …)',
      ],
    ])('%s, %s', (stride, drilldown, detail) => {
      const script = `${HEAD} WITH PATCH 16 ${stride} STRATEGY NAIVE ${drilldown} FRACTION 0.5`;
      // At the drill-down stride's first number, on the one line.
      const column = positionOf(script, drilldown).column + 'DRILLDOWN STRIDE '.length;
      expect(messagesOf(script)).toEqual([`line 1, column ${column}: ${detail}`]);
    });

    test.each([
      ['STRIDE 4', 'DRILLDOWN STRIDE 8'],
      ['STRIDE 4', 'DRILLDOWN STRIDE 12 x 8'],
      ['STRIDE 4 x 2', 'DRILLDOWN STRIDE 8'],
      ['STRIDE 1', 'DRILLDOWN STRIDE 2'],
      ['STRIDE 3 x 5', 'DRILLDOWN STRIDE 9 x 10'],
    ])('accepted: %s, %s', (stride, drilldown) => {
      expect(occlude(`${HEAD} WITH PATCH 16 ${stride} STRATEGY NAIVE ${drilldown} FRACTION 0.5`).drilldown).toBeDefined();
    });
  });

  test.each([
    [`${CORE} TUNE ON 3 IMAGES`, 'TUNE ON needs QUALITY SSIM >= q', 'TUNE'],
    [`${CORE} RETUNE`, 'RETUNE needs QUALITY SSIM >= q', 'RETUNE'],
    [`${CORE} STRATEGY INCREMENTAL RETUNE`, 'RETUNE needs QUALITY SSIM >= q', 'RETUNE'],
  ])('tuning needs a QUALITY target: %s', (script, detail, at) => {
    expectOneProblem(script, detail, at);
  });

  describe('VERIFY needs an approximate plan', () => {
    const refused = 'VERIFY needs QUALITY SSIM >= q below 1 or an approximate STRATEGY';
    test.each([
      [`${CORE} VERIFY 10 %`],
      [`${CORE} QUALITY SSIM >= 1 VERIFY 10 %`],
      [`${CORE} QUALITY SSIM >= 1.0 VERIFY 10 %`],
      [`${CORE} STRATEGY INCREMENTAL THRESHOLD 1 VERIFY 10 %`],
      [`${CORE} STRATEGY NAIVE VERIFY 10 %`],
      [`${CORE} STRATEGY AUTO WITHOUT NAIVE VERIFY 10 %`],
    ])('refused: %s', (script) => {
      expectOneProblem(script, refused, 'VERIFY');
    });

    test.each([
      [`${CORE} QUALITY SSIM >= 0.99 VERIFY 10 %`],
      [`${CORE} STRATEGY INCREMENTAL THRESHOLD 0.9 VERIFY 10 %`],
      [`${CORE} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 1 VERIFY 10 %`],
      [`${CORE} STRATEGY INCREMENTAL THRESHOLD 1 DRILLDOWN STRIDE 8 FRACTION 0.5 VERIFY 10 %`],
    ])('accepted: %s', (script) => {
      expect(occlude(script).verifyPercent).toBe(10);
    });

    test('an out-of-range QUALITY target is reported once, not again by VERIFY', () => {
      expect(messagesOf(`${CORE} QUALITY SSIM >= 2 VERIFY 10 %`)).toEqual(['line 1, column 70: SSIM target must be in (0, 1]']);
    });
  });

  describe('QUALITY chooses THRESHOLD and DRILLDOWN itself', () => {
    const refused = 'QUALITY tunes THRESHOLD and DRILLDOWN itself: give QUALITY or a fixed approximate STRATEGY, not both';
    test.each([
      [`${TUNED} STRATEGY INCREMENTAL THRESHOLD 0.5`, 'THRESHOLD'],
      [`${TUNED} STRATEGY NAIVE DRILLDOWN STRIDE 8 FRACTION 0.5`, 'DRILLDOWN'],
      [`${CORE} STRATEGY INCREMENTAL DRILLDOWN STRIDE 8 FRACTION 0.5 QUALITY SSIM >= 0.9`, 'DRILLDOWN'],
      // One mistake, one message: at the first fixed setting.
      [`${TUNED} STRATEGY INCREMENTAL THRESHOLD 0.5 DRILLDOWN STRIDE 8 FRACTION 0.5`, 'THRESHOLD'],
    ])('%s', (script, at) => {
      expectOneProblem(script, refused, at);
    });

    test('QUALITY with a plain STRATEGY or WITHOUT is fine', () => {
      expect(occlude(`${TUNED} STRATEGY INCREMENTAL`).strategy).toBe('incremental');
      expect(occlude(`${TUNED} STRATEGY NAIVE`).strategy).toBe('naive');
      expect(occlude(`${TUNED} STRATEGY AUTO WITHOUT THRESHOLD`).without).toEqual(['threshold']);
    });
  });

  describe('WITHOUT', () => {
    test('each name at most once: the repeat is reported where it is written, in any case', () => {
      expectOneProblem(`${TUNED} STRATEGY AUTO WITHOUT NAIVE, DRILLDOWN, naive`, 'WITHOUT lists NAIVE more than once', 'naive');
      expectOneProblem(`${TUNED} STRATEGY AUTO WITHOUT THRESHOLD, THRESHOLD`, 'WITHOUT lists THRESHOLD more than once', 'THRESHOLD', 2);
    });

    test('switching off every candidate leaves nothing to choose: reported at WITHOUT', () => {
      expectOneProblem(
        `${TUNED} STRATEGY AUTO WITHOUT NAIVE, INCREMENTAL, THRESHOLD, DRILLDOWN`,
        'WITHOUT leaves no strategy to choose from',
        'WITHOUT',
      );
      expect(occlude(`${TUNED} STRATEGY AUTO WITHOUT NAIVE, INCREMENTAL, THRESHOLD`).without).toHaveLength(3);
    });
  });

  // The second mention of the clause's keyword, in any case, is the one reported.
  test.each([
    [`${TUNED} TUNE ON 3 IMAGES tune on 4 images`, 'TUNE ON'],
    [`${TUNED} RETUNE INTO t RETUNE`, 'RETUNE'],
    [`${TUNED} VERIFY 10 % VERIFY 20 %`, 'VERIFY'],
  ])('a repeated clause: %s', (script, clause) => {
    const keyword = clause.split(' ')[0];
    const at = positionOf(script.toUpperCase(), keyword, 2);
    expect(parseScript(script).errors).toEqual([
      {
        message: `line ${at.line}, column ${at.column}: ${clause} is given more than once`,
        line: at.line,
        column: at.column,
        offset: at.offset,
        token: script.slice(at.offset, at.offset + keyword.length),
      },
    ]);
  });

  test('every problem in a script is reported, in script order, each with its line and column', () => {
    const script = [
      'SELECT 1;',
      `${CORE}`,
      '  TUNE ON 0 IMAGES VERIFY 200 %;',
      `${CORE} STRATEGY AUTO WITHOUT NAIVE, NAIVE;`,
      `${TUNED}`,
      '  STRATEGY INCREMENTAL THRESHOLD 2 DRILLDOWN STRIDE 6 FRACTION 0;',
    ].join('\n');
    expect(messagesOf(script)).toEqual([
      'line 3, column 3: TUNE ON needs QUALITY SSIM >= q',
      'line 3, column 11: TUNE ON must be a positive integer',
      'line 3, column 20: VERIFY needs QUALITY SSIM >= q below 1 or an approximate STRATEGY',
      'line 3, column 27: VERIFY must be more than 0% and at most 100%',
      'line 4, column 83: WITHOUT lists NAIVE more than once',
      'line 6, column 24: QUALITY tunes THRESHOLD and DRILLDOWN itself: give QUALITY or a fixed approximate STRATEGY, not both',
      'line 6, column 34: THRESHOLD must be in (0, 1]',
      'line 6, column 53: DRILLDOWN STRIDE 6 cannot reach STRIDE 4: it must be a larger multiple of it (8, 12, 16, …)',
      'line 6, column 64: FRACTION must be in (0, 1]',
    ]);
  });
});
