import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid, patchCorners } from '../../src/model/occlusion-grid';
import { costModel } from '../../src/model/cost-model';
import { planIncremental } from '../../src/model/incremental-plan';
import { classifyNode } from '../../src/model/layer-kinds';
import { capSpan, readInRegions, thresholdCap } from '../../src/model/regions';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import { randomCnn } from '../../src/zoo/random-cnn';
import { buildZooModel } from '../../src/zoo/build-zoo-model';
import { imagenetInputSpec } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { patchValues } from '../../src/image/patch-color';
import { DATA, expectSameHeatmap, heatmapDifference } from '../support/heatmaps';
import { randomInput } from '../support/random-input';
import { thresholdReference } from '../support/threshold-reference';

/** KRYPTON_THRESHOLD_SEEDS=1000 for the long run. */
const SEEDS = Number(process.env.KRYPTON_THRESHOLD_SEEDS ?? 30);
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-threshold-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const zooModels = new Map<string, ReturnType<typeof buildZoo>>();
function zoo(arch: 'resnet18' | 'vgg16', input: number) {
  const key = `${arch}-${input}`;
  if (!zooModels.has(key)) zooModels.set(key, buildZoo(arch, input));
  return zooModels.get(key)!;
}

async function buildZoo(arch: 'resnet18' | 'vgg16', input: number) {
  const file = join(dir, `${arch}-${input}.onnx`);
  writeFileSync(file, buildZooModel(arch, { input, classes: 10, seed: 5 }));
  const model = await loadModel(file);
  const spec = imagenetInputSpec({ width: input, height: input });
  const image = await prepareImage(join(DATA, 'images/natural-skimage/astronaut.png'), spec);
  return { model, task: { input: image.tensor, patchValues: patchValues({ kind: 'gray' }, image, spec), target: 'predicted' as const } };
}

describe('capSpan and thresholdCap', () => {
  it('cut a span around its centre to round(τ·size), never below 1', () => {
    expect(thresholdCap(0.5, 14)).toBe(7);
    expect(thresholdCap(0.01, 14)).toBe(1);
    expect(thresholdCap(1, 14)).toBe(14);
    expect(capSpan({ start: 2, size: 10 }, 4)).toEqual({ start: 5, size: 4 });
    expect(capSpan({ start: 2, size: 3 }, 4)).toEqual({ start: 2, size: 3 });
  });
});

describe('the propagation threshold in the incremental plan', () => {
  it('caps every window layer at round(τ·size) per axis, and τ = 1 plans exactly as before', async () => {
    const { model } = await zoo('resnet18', 96);
    const grid = occlusionGrid({ image: { width: 96, height: 96 }, patch: { width: 16, height: 16 }, stride: { x: 8, y: 8 } });
    const corners = patchCorners(grid);
    const patch = { height: 16, width: 16, tops: corners.tops, lefts: corners.lefts };
    const exact = planIncremental(model.graph, patch);
    const one = planIncremental(model.graph, patch, { threshold: 1 });
    expect([...one.regions.keys()]).toEqual([...exact.regions.keys()]);
    for (const [name, region] of exact.regions) expect(one.regions.get(name)).toEqual(region);
    expect(one.tail.map((n) => n.name)).toEqual(exact.tail.map((n) => n.name));

    let capped = 0;
    for (const tau of [0.3, 0.5, 0.7]) {
      // The changed regions: a merge's branches are computed on the merge's region, not capped again.
      const plan = planIncremental(model.graph, patch, { threshold: tau, fuseBranches: false });
      expect(plan.options.threshold).toBe(tau);
      const fused = planIncremental(model.graph, patch, { threshold: tau });
      for (const [branch, on] of fused.computedOn) {
        const headRegion = fused.regions.get(on.head)!;
        expect(fused.regions.get(branch)).toEqual(on.through ? readInRegions(on.through.rows, on.through.cols, headRegion) : headRegion);
      }
      for (const node of plan.prefix) {
        const kind = classifyNode(model.graph, node);
        if (kind.kind !== 'window') continue;
        const region = plan.regions.get(node.outputs[0])!;
        const exactRegion = exact.regions.get(node.outputs[0]);
        expect(region.height).toBeLessThanOrEqual(thresholdCap(tau, kind.rows.outSize));
        expect(region.width).toBeLessThanOrEqual(thresholdCap(tau, kind.cols.outSize));
        if (exactRegion && exactRegion.width > region.width) capped++;
      }
      // Capped regions keep the deep layers incremental, where exact planning hands them to the tail.
      expect(plan.tail.length).toBeLessThan(exact.tail.length);
    }
    expect(capped).toBeGreaterThan(0);
  });

  it('costs less the lower τ is, as the cost model prices it', async () => {
    const { model } = await zoo('vgg16', 64);
    const macs = [1, 0.8, 0.6, 0.4].map((threshold) => costModel(model.graph, { width: 8, height: 8 }, { fullFraction: 0.9, threshold }).totalIncrementalMacs);
    for (let i = 1; i < macs.length; i++) expect(macs[i]).toBeLessThan(macs[i - 1]);
  });

  it('refuses τ outside (0, 1]', async () => {
    const { model } = await zoo('vgg16', 64);
    const grid = occlusionGrid({ image: { width: 64, height: 64 }, patch: { width: 8, height: 8 }, stride: { x: 8, y: 8 } });
    await expect(IncrementalOcclusion.create(model, grid, { threshold: 0 })).rejects.toThrow('threshold must be in (0, 1]');
    await expect(IncrementalOcclusion.create(model, grid, { threshold: 1.5 })).rejects.toThrow('threshold must be in (0, 1]');
  });
});

describe('the thresholded operator equals the threshold computed by its definition', () => {
  // A long run must outlast jest's default timeout.
  it(`on ${SEEDS} random CNN graphs, one position per batch`, async () => {
    const failures: string[] = [];
    let differentFromExact = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const cnn = randomCnn(1000 + seed);
      const file = join(dir, `random-${seed}.onnx`);
      writeFileSync(file, cnn.model);
      const model = await loadModel(file);
      const [channels, height, width] = cnn.inputShape;
      const threshold = 0.25 + ((seed * 7) % 10) / 15;
      const patch = { width: 2 + (seed % Math.min(width - 1, 6)), height: 2 + ((seed * 3) % Math.min(height - 1, 6)) };
      const grid = occlusionGrid({ image: { width, height }, patch, stride: { x: 1 + (seed % 2), y: 1 + ((seed >> 1) % 2) } });
      const task = { input: randomInput(channels * height * width, seed), patchValues: new Float32Array(channels).fill(0.3), target: 'predicted' as const, batchSize: 1 };
      const operator = await IncrementalOcclusion.create(model, grid, { threshold: Math.min(threshold, 1) });
      const exactOperator = await IncrementalOcclusion.create(model, grid);
      try {
        const heatmap = await operator.run(task);
        const exact = await exactOperator.run(task);
        const reference = await thresholdReference(model, grid, task, Math.min(threshold, 1));
        const { maxAbs, range } = heatmapDifference(reference, heatmap.values);
        if (!(maxAbs <= Math.min(1e-4, Math.max(1e-3 * range, 1e-7)))) failures.push(`seed ${1000 + seed} τ ${threshold}: differs by ${maxAbs} (range ${range}); ${cnn.description}`);
        if (heatmapDifference(exact.values, heatmap.values).maxAbs > 1e-5) differentFromExact++;
      } finally {
        await operator.release();
        await exactOperator.release();
      }
    }
    expect(failures).toEqual([]);
    // The comparison means something only if the threshold changed some heatmaps.
    expect(differentFromExact).toBeGreaterThan(5);
  }, Math.max(120_000, SEEDS * 10_000));

  it('on a ResNet18 (residual merges of capped regions)', async () => {
    const { model, task } = await zoo('resnet18', 64);
    const grid = occlusionGrid({ image: { width: 64, height: 64 }, patch: { width: 12, height: 12 }, stride: { x: 13, y: 13 } });
    const operator = await IncrementalOcclusion.create(model, grid, { threshold: 0.5 });
    try {
      const heatmap = await operator.run({ ...task, batchSize: 1 });
      expectSameHeatmap(await thresholdReference(model, grid, task, 0.5), heatmap.values, 'resnet18 τ 0.5');
      expect(operator.strategy).toBe('threshold');
    } finally {
      await operator.release();
    }
  });
});
