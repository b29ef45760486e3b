import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { buildZooModel, type ZooArchitecture } from '../../src/zoo/build-zoo-model';
import { imagenetInputSpec } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { patchValues } from '../../src/image/patch-color';
import { DATA, expectSameHeatmap, runBoth } from '../support/heatmaps';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-zoo-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Small inputs keep the suite fast; (input - patch) divisible by the stride reaches every border. */
const cases: { arch: ZooArchitecture; input: number; patch: number; stride: number }[] = [
  { arch: 'vgg16', input: 64, patch: 8, stride: 14 },
  { arch: 'resnet18', input: 96, patch: 16, stride: 16 },
  { arch: 'inception_v3', input: 107, patch: 11, stride: 24 },
  { arch: 'squeezenet', input: 96, patch: 16, stride: 20 },
  { arch: 'mobilenet_v2', input: 96, patch: 12, stride: 21 },
];

describe('incremental inference equals full inference on the zoo architectures', () => {
  it.each(cases)('$arch at $input px', async ({ arch, input, patch, stride }) => {
    const file = join(dir, `${arch}.onnx`);
    writeFileSync(file, buildZooModel(arch, { input, classes: 10, seed: 3 }));
    const model = await loadModel(file);
    const spec = imagenetInputSpec({ width: input, height: input });
    const image = await prepareImage(join(DATA, 'images/natural-skimage/astronaut.png'), spec);
    const grid = occlusionGrid({ image: { width: input, height: input }, patch: { width: patch, height: patch }, stride: { x: stride, y: stride } });
    const task = { input: image.tensor, patchValues: patchValues({ kind: 'mean' }, image, spec), target: 'predicted' as const };
    const { naive, incremental, plan } = await runBoth(model, grid, task);
    expect(plan.segments.length).toBeGreaterThan(3);
    expectSameHeatmap(naive.values, incremental.values, arch);
  });
});
