// heatmap, zoo and inspect as their own processes, as a user runs them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { recordedScale } from '../../src/image/render-overlay';
import { tinyClassifier } from '../support/tiny-models';
import { CXR_LABELS, CXR_MODEL, SOME_XRAYS, data, expectOneLineError, runChild, useTempDir } from './helpers.js';

const dir = useTempDir();
const XRAY = SOME_XRAYS[0];
const CXR_INPUT = ['--channels', 'gray', '--scale', '255', '--normalize', 'none'];
const heatmapArgs = (...extra: string[]) => ['heatmap', '--model', CXR_MODEL, '--image', XRAY, ...CXR_INPUT, '--quiet', ...extra];

describe('heatmap', () => {
  test('the real X-ray model: JSON with the heatmap, a PNG overlay, and naive and exact agree', async () => {
    const out = (name: string) => join(dir(), name);
    const [exact, naive] = await Promise.all([
      runChild(heatmapArgs('--patch', '56', '--stride', '56', '--labels', CXR_LABELS, '--json', out('exact.json'), '--png', out('exact.png'))),
      runChild(heatmapArgs('--patch', '56', '--stride', '56', '--mode', 'naive', '--json', out('naive.json'), '--png', out('naive.png'), '--png-scale', 'image')),
    ]);
    expect(exact).toMatchObject({ code: 0, stderr: '' });
    expect(naive).toMatchObject({ code: 0, stderr: '' });
    expect(exact.stdout).toMatch(/^class [01] \((ap|pa)\): probability 0\.\d{4}\nheatmap 4x4 \(patch 56x56, stride 56x56\), exact in [\d.]+ s\n/);
    expect(exact.stdout).toContain(`wrote ${out('exact.png')}`);

    const a = JSON.parse(readFileSync(out('exact.json'), 'utf8'));
    const b = JSON.parse(readFileSync(out('naive.json'), 'utf8'));
    expect(a).toMatchObject({ width: 4, height: 4, mode: 'exact', classLabel: expect.stringMatching(/^(ap|pa)$/) });
    expect(b).toMatchObject({ width: 4, height: 4, mode: 'naive' });
    for (const map of [a, b]) {
      expect(map.values).toHaveLength(16);
      expect([0, 1]).toContain(map.classIndex);
      expect(map.baseProbability).toBeGreaterThan(0.5);
      expect(map.elapsedMs).toBeGreaterThan(0);
    }
    expect(b.classIndex).toBe(a.classIndex);
    expect(b.baseProbability).toBeCloseTo(a.baseProbability, 5);
    a.values.forEach((value: number, i: number) => expect(b.values[i]).toBeCloseTo(value, 4));

    const png = readFileSync(out('exact.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // Drawn over the 640×524 X-ray at its own size, on the absolute scale unless --png-scale says otherwise.
    expect((await sharp(png).metadata()).width).toBe(640);
    expect(await recordedScale(out('exact.png'))).toBe('absolute');
    expect(await recordedScale(out('naive.png'))).toBe('image');
  });

  test('bad input: one line that names the problem, exit 1, no stack trace', async () => {
    const truncated = join(dir(), 'truncated.png');
    writeFileSync(truncated, readFileSync(XRAY).subarray(0, 300));
    const text = join(dir(), 'text.png');
    writeFileSync(text, 'not an image\n');
    const withImage = (image: string) => ['heatmap', '--model', CXR_MODEL, '--image', image, ...CXR_INPUT, '--patch', '56'];
    const cases: [string[], RegExp][] = [
      [['heatmap', '--model', join(dir(), 'missing.onnx'), '--image', XRAY, '--patch', '56'], /model file not found: .*missing\.onnx$/],
      [['heatmap', '--model', CXR_LABELS, '--image', XRAY, '--patch', '56'], /cxr-appa-labels\.txt is not an ONNX model/],
      [withImage(truncated), /truncated\.png' is truncated or corrupt/],
      [withImage(text), /text\.png' is not an image in a supported format/],
      [withImage(join(dir(), 'missing.png')), /missing\.png' not found$/],
      [heatmapArgs('--patch', '300'), /patch 300x300 is larger than the 224x224 model-input image$/],
      [heatmapArgs('--patch', '56', '--stride', '0'), /--stride must be a positive integer, got '0'$/],
      [heatmapArgs('--patch', '56', '--class', '5'), /class index 5 is out of range: the model has 2 classes/],
      [heatmapArgs('--patch', '56', '--region', '200,200,100,100'), /region \(200, 200, 100, 100\) lies outside the 224x224 model-input image$/],
      [heatmapArgs('--patch', '56', '--region', '0,0,90000,10', '--region-in', 'image'), /REGION 0, 0, 90000, 10 \(image pixels\) exceeds the \d+x\d+ image .*00870a9c\.png$/],
      [heatmapArgs('--patch', '56', '--region', '0,0,10,10', '--region-in', 'screen'), /--region-in must be one of model, image/],
      [heatmapArgs('--patch', '56', '--png', join(dir(), 'x.png'), '--png-scale', 'query'), /--png-scale must be one of absolute, image/],
      [heatmapArgs('--patch', '56', '--quality', '0'), /: --quality must be in \(0, 1\]$/],
      [heatmapArgs('--patch', '56', '--threshold', '1.5'), /: --threshold must be in \(0, 1\]$/],
      [heatmapArgs('--patch', '16', '--drilldown', '10,0.2'), /: --drilldown stride 10 cannot reach --stride 4: it must be a larger multiple of it \(8, 12, 16, …\)$/],
      [heatmapArgs('--patch', '16', '--drilldown', '8,0'), /: --drilldown fraction must be in \(0, 1\]$/],
      [heatmapArgs('--patch', '16', '--quality', '0.9', '--threshold', '0.5'), /: --quality tunes the threshold and drill-down itself: give --quality or --threshold\/--drilldown, not both$/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runChild(args)));
    runs.forEach((run, i) => {
      expectOneLineError(run, cases[i][1]);
      expect(run.stdout).toBe('');
    });
  });

  test('a one-output model gives the sigmoid of its logit; --output and --output-name choose how the output is read', async () => {
    const oneLogit = join(dir(), 'one-logit.onnx');
    writeFileSync(oneLogit, tinyClassifier({ classes: 1, bias: -0.5 }));
    const twoOutputs = join(dir(), 'two-outputs.onnx');
    writeFileSync(twoOutputs, tinyClassifier({ classes: 1, head: 'features-then-logits', bias: -0.5 }));
    const args = (model: string, ...extra: string[]) => ['heatmap', '--model', model, '--image', XRAY, '--patch', '4', '--quiet', ...extra];
    const [plain, sigmoid, named, logits, unnamed] = await Promise.all([
      runChild(args(oneLogit, '--json', join(dir(), 'one-logit.json'))),
      runChild(args(oneLogit, '--output', 'sigmoid', '--json', join(dir(), 'sigmoid.json'))),
      runChild(args(twoOutputs, '--output-name', 'logits', '--output', 'sigmoid', '--json', join(dir(), 'named.json'))),
      runChild(args(oneLogit, '--output', 'logits')),
      runChild(args(twoOutputs)),
    ]);
    for (const run of [plain, sigmoid, named]) expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toContain('\nnote: one output: its sigmoid is the probability of class 0 (OUTPUT SIGMOID)\n');
    expect(sigmoid.stdout).not.toContain('note:');
    const [a, b, c] = ['one-logit', 'sigmoid', 'named'].map((name) => JSON.parse(readFileSync(join(dir(), `${name}.json`), 'utf8')));
    expect(a.classIndex).toBe(0);
    expect(a.baseProbability).toBeGreaterThan(0);
    expect(a.baseProbability).toBeLessThan(1);
    expect(Math.max(...a.values) - Math.min(...a.values)).toBeGreaterThan(1e-4);
    expect(b.values).toEqual(a.values);
    // The same weights behind the named output.
    expect(c.values).toEqual(a.values);
    expectOneLineError(logits, /softmax over one value is always 1; use OUTPUT SIGMOID/);
    expectOneLineError(unnamed, /the first is not a class vector: .*; choose the class scores with OUTPUT NAME 'logits'$/);
  });

  test('--quality tunes an approximate plan through the planner, and a --db keeps the tuning for the next run', async () => {
    const db = join(dir(), 'tuning.duckdb');
    const json = join(dir(), 'approx.json');
    const first = await runChild(heatmapArgs('--patch', '32', '--stride', '16', '--quality', '0.9', '--db', db, '--json', json));
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/\ntuned on 1 image in [\d.]+ s: .+ reached SSIM >= 0\.9 on every sample image/);
    const map = JSON.parse(readFileSync(json, 'utf8'));
    expect(map).toMatchObject({ width: 13, height: 13, mode: expect.stringMatching(/^(approximate|exact|naive)$/) });
    if (map.mode === 'approximate') expect(map.ssim).toBeGreaterThanOrEqual(0.9);
    const fixed = await runChild(heatmapArgs('--patch', '32', '--stride', '16', '--threshold', '0.5', '--drilldown', '32,0.3', '--db', db, '--json', json));
    expect(fixed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ mode: 'approximate', strategy: 'drilldown+threshold', tau: 0.5, coarseStride: { x: 32, y: 32 }, drillFraction: 0.3 });
    const again = await runChild(heatmapArgs('--patch', '32', '--stride', '16', '--quality', '0.9', '--db', db));
    expect(again.stdout).toMatch(/\ntuning reused/);
  });
});

describe('zoo and inspect', () => {
  test('zoo writes a model that loads', async () => {
    const model = join(dir(), 'zoo', 'squeezenet.onnx');
    const written = await runChild(['zoo', 'squeezenet', '--out', model, '--input', '64', '--classes', '10']);
    expect(written).toMatchObject({ code: 0, stderr: '' });
    expect(written.stdout).toMatch(/^wrote .*squeezenet\.onnx: squeezenet, input 3x64x64, [\d.]+ MB\n$/);
    const loaded = await runChild(['--db', ':memory:', '-c', `CREATE MODEL zoo FROM '${model}'`]);
    expect(loaded).toEqual({ code: 0, signal: null, stdout: 'model zoo created (64x64, rgb, logits)\n', stderr: '' });
  });

  test('inspect prints the redundancy ratio: 2.20 for SqueezeNet 1.1 (fp16) with a 16 px patch', async () => {
    const run = await runChild(['inspect', '--model', data('models/squeezenet1.1-imagenet-fp16.onnx'), '--patch', '16']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^.*squeezenet1\.1-imagenet-fp16\.onnx: input 3x224x224, patch 16x16 at the centre\n/);
    expect(run.stdout).toContain('redundancy ratio R = 2.20 ');
  });

  test('a bad architecture', async () => {
    expectOneLineError(await runChild(['zoo', 'alexnet', '--out', join(dir(), 'x.onnx')]), /architecture must be one of vgg16, resnet18, inception_v3, squeezenet, mobilenet_v2, got 'alexnet'$/);
  });
});
