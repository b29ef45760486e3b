/**
 * The typed occlusion call reports a bad option by its name and value, never by a position in the
 * statement it renders (which the caller never wrote): problems the language finds while parsing,
 * those the planner finds against the model and the images, and the execute options.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Krypton } from '../../src/krypton';
import { KryptonError } from '../../src/errors';
import type { OccludeOptions } from '../../src/occlude-options';
import { DATA } from '../support/heatmaps';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const XRAYS = join(DATA, 'images/chest-xray-hannover/png');
const XRAY = join(XRAYS, '0578e08b.png');
const BASE: OccludeOptions = { images: [XRAY], model: 'cxr', patch: 112, stride: 112, into: 'option_errors' };

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-options-'));
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${join(DATA, 'models/cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KryptonError);
    return (error as KryptonError).message;
  }
  throw new Error('expected a KryptonError');
}

const written = (options: Partial<OccludeOptions>) => ({ ...BASE, ...options }) as OccludeOptions;

describe('values the language refuses', () => {
  test.each<[Partial<OccludeOptions>, string]>([
    [{ patch: 0 }, "occlude option 'patch': must be a positive integer, got 0"],
    [{ patch: { width: 16, height: 2.5 } }, "occlude option 'patch.height': must be a positive integer, got 2.5"],
    [{ stride: 0 }, "occlude option 'stride': must be a positive integer, got 0"],
    [{ stride: { x: 4, y: -2 } }, "occlude option 'stride.y': must be a positive integer, got -2"],
    [{ region: { x: -1, y: 0, width: 100, height: 100 } }, "occlude option 'region.x': must be a non-negative integer, got -1"],
    [{ region: { x: 0, y: 0, width: 0, height: 100 } }, "occlude option 'region.width': must be a positive integer, got 0"],
    [{ color: { r: 0, g: 300, b: 0 } }, "occlude option 'color.g': must be from 0 to 255, got 300"],
    [{ targetClass: -1 }, "occlude option 'targetClass': must be a non-negative integer, got -1"],
    [{ targetClass: { label: '' } }, "occlude option 'targetClass.label': must not be empty"],
    [{ quality: { ssim: 1.5 } }, "occlude option 'quality.ssim': must be in (0, 1], got 1.5"],
    [{ quality: { ssim: 0.9, tuneOn: 0 } }, "occlude option 'quality.tuneOn': must be a positive integer, got 0"],
    [{ quality: { ssim: 0.9, verifyPercent: 0 } }, "occlude option 'quality.verifyPercent': must be more than 0% and at most 100%, got 0"],
    [{ threshold: 0 }, "occlude option 'threshold': must be in (0, 1], got 0"],
    [{ drilldown: { stride: 224, fraction: 2 } }, "occlude option 'drilldown.fraction': must be in (0, 1], got 2"],
    [{ drilldown: { stride: { x: 224, y: 0 }, fraction: 0.5 } }, "occlude option 'drilldown.stride.y': must be a positive integer, got 0"],
    [{ drilldown: { stride: 150, fraction: 0.5 } }, "occlude option 'drilldown.stride': DRILLDOWN STRIDE 150 cannot reach STRIDE 112: it must be a larger multiple of it (224, 336, 448, …)"],
    [{ renderTo: '' }, "occlude option 'renderTo': must not be empty"],
    [{ into: '' }, "occlude option 'into': must not be empty"],
    [{ model: '' }, "occlude option 'model': must not be empty"],
    [{ model: { file: '' } }, "occlude option 'model': must not be empty"],
    [{ images: '' }, "occlude option 'images': must not be empty"],
    [{ images: [XRAY, ''] }, "occlude option 'images': must not be empty"],
    [{ patch: 0, stride: 0 }, "occlude option 'patch': must be a positive integer, got 0; occlude option 'stride': must be a positive integer, got 0"],
  ])('%j', async (options, message) => {
    expect(await refusal(db.occlude(written(options)))).toBe(message);
  });

  test('EXPLAIN of the same options says the same', async () => {
    expect(await refusal(db.explain(written({ stride: 0 })))).toBe("occlude option 'stride': must be a positive integer, got 0");
    expect(await refusal(db.explain(written({ region: { x: 0, y: 0, width: 100, height: 0 } }), { analyze: true }))).toBe(
      "occlude option 'region.height': must be a positive integer, got 0",
    );
  });
});

describe('combinations refused before the statement is written', () => {
  test.each<[Partial<OccludeOptions>, string]>([
    [{ images: [] }, "occlude option 'images': the list is empty"],
    [{ quality: { ssim: 1, verifyPercent: 10 } }, "occlude option 'quality.verifyPercent': needs quality.ssim below 1: an exact plan has no approximation to verify"],
    [{ quality: { ssim: 0.9 }, threshold: 0.5 }, "occlude option 'threshold': quality tunes threshold and drilldown itself: give quality or a fixed threshold and drilldown, not both"],
    [{ without: ['naive', 'naive'] }, "occlude option 'without': lists 'naive' more than once"],
    [{ without: ['naive', 'incremental', 'threshold', 'drilldown'] }, "occlude option 'without': leaves no strategy to choose from"],
    [{ threshold: Number.NaN }, "occlude option 'threshold': must be a number, got NaN"],
  ])('%j', async (options, message) => {
    expect(await refusal(db.occlude(written(options)))).toBe(message);
  });
});

describe('problems found against the model and the images', () => {
  test.each<[string, Partial<OccludeOptions>, RegExp]>([
    ['an unknown model', { model: 'nope' }, /^occlude option 'model': .*'nope'/],
    ['a patch larger than the image', { patch: 300 }, /^occlude option 'patch': patch 300x300 is larger than the 224x224 model-input image/],
    ['a region outside the image', { patch: 16, region: { x: 200, y: 0, width: 100, height: 100 } }, /^occlude option 'region': /],
    ['a class out of range', { targetClass: 7 }, /^occlude option 'targetClass': class index 7 is out of range/],
    ['a glob that matches nothing', { images: join(XRAYS, 'none-*.png') }, /^occlude option 'images': no images match '.*none-\*\.png'$/],
    ['a query without paths', { images: { sql: 'SELECT 1' } }, /^occlude option 'images\.sql': the image query's first column .* must hold image paths/],
  ])('%s', async (_, options, message) => {
    const text = await refusal(db.occlude(written(options)));
    expect(text).toMatch(message);
    expect(text).not.toMatch(/line \d+|column \d+/);
  });
});

describe('the execute options', () => {
  test.each([0, -3, 2.5])('batchSize %p', async (batchSize) => {
    expect(await refusal(db.occlude(BASE, { batchSize }))).toBe(`execute option 'batchSize': must be a positive integer, got ${batchSize}`);
    expect(await refusal(db.query(`OCCLUDE '${XRAY}' USING MODEL cxr WITH PATCH 112 STRIDE 112`, { batchSize }))).toBe(
      `execute option 'batchSize': must be a positive integer, got ${batchSize}`,
    );
  });
});
