import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costModel } from '../../src/model/cost-model';
import { loadModel } from '../../src/model/load-model';
import { buildZooModel, ZOO_DEFAULT_INPUT, type ZooArchitecture } from '../../src/zoo/build-zoo-model';
import { DATA } from '../support/heatmaps';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-ratio-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The ideal exact speedup (Σ conv multiply-adds in full / on changed regions, patch 16 at the
 * centre) as measured with torchvision's architectures: the region arithmetic must reproduce it.
 */
const TORCHVISION_RATIOS: [ZooArchitecture, number][] = [
  ['vgg16', 6.84],
  ['resnet18', 2.19],
  ['inception_v3', 1.82],
  ['squeezenet', 4.93],
  ['mobilenet_v2', 1.9],
];

describe('redundancy ratio R', () => {
  it.each(TORCHVISION_RATIOS)('%s at its usual input size', async (arch, expected) => {
    const file = join(dir, `${arch}.onnx`);
    writeFileSync(file, buildZooModel(arch, { input: ZOO_DEFAULT_INPUT[arch] }));
    const model = await loadModel(file);
    const ratio = costModel(model.graph, { width: 16, height: 16 }).redundancyRatio;
    expect(Math.abs(ratio - expected)).toBeLessThanOrEqual(0.006);
  });

  it('SqueezeNet 1.1 (the real ImageNet model)', async () => {
    const model = await loadModel(join(DATA, 'models/squeezenet1.1-imagenet-fp16.onnx'));
    expect(costModel(model.graph, { width: 16, height: 16 }).redundancyRatio).toBeCloseTo(2.2, 2);
  });
});
