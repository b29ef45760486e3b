/**
 * The typed options render into an OCCLUDE statement. Only strings here: no database, no model;
 * where it matters, the rendered statement is parsed to show the language reads it as meant.
 */
import { KryptonError } from '../../src/errors.js';
import { occludeStatement, renderOcclude } from '../../src/occlude-options.js';
import type { OccludeOptions } from '../../src/occlude-options.js';
import { parseScript } from '../../src/parser/index.js';
import type { OccludeStatement } from '../../src/parser/index.js';

const BASE: OccludeOptions = { images: 'scans/*.png', model: 'cxr', patch: 16 };
const HEAD = "OCCLUDE 'scans/*.png' USING MODEL cxr WITH PATCH 16 STRIDE 4";

function rendered(options: Partial<OccludeOptions>): string {
  return occludeStatement({ ...BASE, ...options });
}

/** The rendered statement, parsed; it must have no problems. */
function parsed(options: Partial<OccludeOptions>): OccludeStatement {
  const { statements, errors } = parseScript(rendered(options));
  expect(errors).toEqual([]);
  expect(statements).toHaveLength(1);
  return statements[0] as OccludeStatement;
}

describe('occludeStatement', () => {
  test("a region in the images' own pixels", () => {
    expect(rendered({ region: { x: 10, y: 0, width: 64, height: 32, unit: 'image' } })).toBe(`${HEAD} REGION (10, 0, 64, 32) IN IMAGE PIXELS`);
    expect(parsed({ region: { x: 10, y: 0, width: 64, height: 32, unit: 'image' } }).region).toEqual({ x: 10, y: 0, width: 64, height: 32, unit: 'image' });
    expect(rendered({ region: { x: 10, y: 0, width: 64, height: 32, unit: 'model' } })).toBe(`${HEAD} REGION (10, 0, 64, 32)`);
  });

  test('the fewest options: stride 4, nothing else', () => {
    expect(rendered({})).toBe(HEAD);
  });

  test('the options there were before approximate inference render as before', () => {
    expect(
      rendered({
        images: ['a.png', "it's.png"],
        model: { file: 'models/cxr.onnx' },
        patch: { width: 16, height: 8 },
        stride: { x: 4, y: 2 },
        color: 'black',
        targetClass: { label: 'pneumonia' },
        region: { x: 0, y: 0, width: 64, height: 32 },
        quality: { ssim: 0.9 },
        strategy: 'naive',
        renderTo: 'out/',
        into: 'main.maps',
      }),
    ).toBe(
      "OCCLUDE ('a.png', 'it''s.png') USING MODEL 'models/cxr.onnx' FOR CLASS 'pneumonia' WITH PATCH 16 x 8 " +
        "COLOR BLACK STRIDE 4 x 2 REGION (0, 0, 64, 32) QUALITY SSIM >= 0.9 STRATEGY NAIVE RENDER TO 'out/' " +
        'INTO "main"."maps"',
    );
  });

  test('renderScale writes SCALE after RENDER TO, which the language reads back; alone or unknown it is refused by name', () => {
    expect(rendered({ renderTo: 'out/', renderScale: 'query' })).toBe(`${HEAD} RENDER TO 'out/' SCALE QUERY`);
    expect(parsed({ renderTo: 'out/', renderScale: 'image' })).toMatchObject({ renderDir: 'out/', renderScale: 'image' });
    expect(() => rendered({ renderScale: 'image' })).toThrow("occlude option 'renderScale': needs 'renderTo'");
    expect(() => rendered({ renderTo: 'o/', renderScale: 'loud' as 'image' })).toThrow("occlude option 'renderScale': must be 'absolute', 'image' or 'query', got 'loud'");
  });

  describe('quality', () => {
    test.each<[OccludeOptions['quality'], string]>([
      [{ ssim: 0.9 }, 'QUALITY SSIM >= 0.9'],
      [{ ssim: 0.9, tuneOn: 5 }, 'QUALITY SSIM >= 0.9 TUNE ON 5 IMAGES'],
      [{ ssim: 0.9, tuneOn: 1 }, 'QUALITY SSIM >= 0.9 TUNE ON 1 IMAGE'],
      [{ ssim: 0.95, retune: true }, 'QUALITY SSIM >= 0.95 RETUNE'],
      [{ ssim: 0.95, retune: false }, 'QUALITY SSIM >= 0.95'],
      [{ ssim: 0.8, verifyPercent: 12.5 }, 'QUALITY SSIM >= 0.8 VERIFY 12.5 %'],
      [{ ssim: 0.8, tuneOn: 2, retune: true, verifyPercent: 10 }, 'QUALITY SSIM >= 0.8 TUNE ON 2 IMAGES RETUNE VERIFY 10 %'],
    ])('%j', (quality, clauses) => {
      expect(rendered({ quality })).toBe(`${HEAD} ${clauses}`);
    });

    test('the language reads them back', () => {
      expect(parsed({ quality: { ssim: 0.8, tuneOn: 2, retune: true, verifyPercent: 10 } })).toMatchObject({
        quality: { metric: 'ssim', target: 0.8 },
        tuneSample: 2,
        retune: true,
        verifyPercent: 10,
      });
    });
  });

  describe('strategy and its settings', () => {
    test.each<[Partial<OccludeOptions>, string]>([
      [{ strategy: 'auto' }, 'STRATEGY AUTO'],
      [{ strategy: 'incremental' }, 'STRATEGY INCREMENTAL'],
      // A fixed setting without a strategy means incremental, the strategy that takes both.
      [{ threshold: 0.4 }, 'STRATEGY INCREMENTAL THRESHOLD 0.4'],
      [{ drilldown: { stride: 8, fraction: 0.25 } }, 'STRATEGY INCREMENTAL DRILLDOWN STRIDE 8 FRACTION 0.25'],
      [
        { threshold: 0.5, drilldown: { stride: { x: 8, y: 12 }, fraction: 0.1 } },
        'STRATEGY INCREMENTAL THRESHOLD 0.5 DRILLDOWN STRIDE 8 x 12 FRACTION 0.1',
      ],
      [{ strategy: 'incremental', threshold: 1 }, 'STRATEGY INCREMENTAL THRESHOLD 1'],
      [{ strategy: 'naive', drilldown: { stride: 16, fraction: 0.5 } }, 'STRATEGY NAIVE DRILLDOWN STRIDE 16 FRACTION 0.5'],
      [{ without: ['naive'] }, 'STRATEGY AUTO WITHOUT NAIVE'],
      [{ strategy: 'auto', without: ['threshold', 'drilldown'] }, 'STRATEGY AUTO WITHOUT THRESHOLD, DRILLDOWN'],
      [{ without: [] }, ''],
    ])('%j', (options, clauses) => {
      expect(rendered(options)).toBe(clauses === '' ? HEAD : `${HEAD} ${clauses}`);
    });

    test('the language reads them back', () => {
      expect(parsed({ threshold: 0.5, drilldown: { stride: { x: 8, y: 12 }, fraction: 0.1 } })).toMatchObject({
        strategy: 'incremental',
        threshold: 0.5,
        drilldown: { stride: { x: 8, y: 12 }, fraction: 0.1 },
        without: [],
      });
      expect(parsed({ quality: { ssim: 0.9 }, without: ['naive', 'drilldown'] })).toMatchObject({
        strategy: 'auto',
        without: ['naive', 'drilldown'],
      });
    });

    test.each<[Partial<OccludeOptions>, RegExp]>([
      [{ strategy: 'auto', threshold: 0.5 }, /^occlude option 'threshold': threshold and drilldown fix the plan: .*not 'auto'/],
      [{ strategy: 'auto', drilldown: { stride: 8, fraction: 0.5 } }, /^occlude option 'drilldown': threshold and drilldown fix the plan/],
      [{ strategy: 'naive', threshold: 0.5 }, /^occlude option 'threshold': strategy 'naive' .*use strategy 'incremental'/],
      [{ strategy: 'incremental', without: ['naive'] }, /^occlude option 'without': only strategy 'auto'/],
      [{ threshold: 0.5, without: ['naive'] }, /^occlude option 'without': only strategy 'auto'/],
    ])('combinations the language cannot say are refused by name: %j', (options, message) => {
      expect(() => rendered(options)).toThrow(KryptonError);
      expect(() => rendered(options)).toThrow(message);
    });
  });

  test("ranges are left to the language, whose problems are told by the option that wrote the value", () => {
    const statement = renderOcclude({ ...BASE, threshold: 2, region: { x: 0, y: 0, width: 0, height: 8 } }, 'EXPLAIN ');
    expect(statement.text).toBe(`EXPLAIN ${HEAD} REGION (0, 0, 0, 8) STRATEGY INCREMENTAL THRESHOLD 2`);
    const problems = parseScript(statement.text).errors;
    expect(problems.map((problem) => problem.message)).toEqual([
      `line 1, column ${statement.text.indexOf('0, 8') + 1}: REGION width must be a positive integer`,
      `line 1, column ${statement.text.length}: THRESHOLD must be in (0, 1]`,
    ]);
    expect(problems.map((problem) => statement.problem(problem.offset, problem.message.replace(/^line 1, column \d+: /, ''), problem.token))).toEqual([
      "occlude option 'region.width': must be a positive integer, got 0",
      "occlude option 'threshold': must be in (0, 1], got 2",
    ]);
  });

  test('a problem at words no option wrote names no option', () => {
    expect(renderOcclude(BASE).problem(0, 'something about OCCLUDE')).toBe('occlude options: something about OCCLUDE');
    expect(renderOcclude(BASE).problem(HEAD.indexOf('MODEL'), 'unknown model')).toBe("occlude option 'model': unknown model");
  });

  test.each<[Partial<OccludeOptions>, string]>([
    [{ quality: { ssim: Number.NaN } }, "occlude option 'quality.ssim': must be a number, got NaN"],
    [{ quality: { ssim: 0.9, tuneOn: Infinity } }, "occlude option 'quality.tuneOn': must be a number, got Infinity"],
    [{ quality: { ssim: 0.9, verifyPercent: Number.NaN } }, "occlude option 'quality.verifyPercent': must be a number, got NaN"],
    [{ threshold: Number.NaN }, "occlude option 'threshold': must be a number, got NaN"],
    [{ drilldown: { stride: { x: 8, y: -Infinity }, fraction: 0.5 } }, "occlude option 'drilldown.stride.y': must be a number, got -Infinity"],
    [{ drilldown: { stride: 8, fraction: Number.NaN } }, "occlude option 'drilldown.fraction': must be a number, got NaN"],
    [{ patch: { width: 16, height: Number.NaN } }, "occlude option 'patch.height': must be a number, got NaN"],
    [{ color: { r: 0, g: 0, b: Infinity } }, "occlude option 'color.b': must be a number, got Infinity"],
  ])('a number that cannot be written is refused: %j', (options, message) => {
    expect(() => rendered(options)).toThrow(new KryptonError(message));
  });

  test.each([
    ['cxr', 'cxr'],
    ['image', '"image"'],
    ['On', '"On"'],
    ['images_v2', 'images_v2'],
    ['Chest X-ray', '"Chest X-ray"'],
  ])('a model name that is a keyword or not a plain name is quoted: %s', (model, written) => {
    expect(rendered({ model })).toBe(`OCCLUDE 'scans/*.png' USING MODEL ${written} WITH PATCH 16 STRIDE 4`);
    expect(parsed({ model }).model).toEqual({ kind: 'name', name: model });
  });
});
