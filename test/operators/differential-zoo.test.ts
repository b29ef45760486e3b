import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZooArchitecture } from '../../src/zoo/build-zoo-model';
import { expectSameHeatmap, runBoth, zooOcclusionCase } from '../support/heatmaps';

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
    const { model, grid, task } = await zooOcclusionCase(dir, arch, { input, patch, stride, seed: 3 });
    const { naive, incremental, plan } = await runBoth(model, grid, task);
    expect(plan.segments.length).toBeGreaterThan(3);
    expectSameHeatmap(naive.values, incremental.values, arch);
  });
});
