import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, type LoadedModel } from '../../src/model/load-model';
import { occlusionGrid, patchCorners, type OcclusionGrid } from '../../src/model/occlusion-grid';
import { planIncremental } from '../../src/model/incremental-plan';
import { readInRegions, regionArea } from '../../src/model/regions';
import { costModel } from '../../src/model/cost-model';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import { NaiveOcclusion } from '../../src/operators/naive-inference';
import { DATA, expectSameHeatmap, zooOcclusionCase } from '../support/heatmaps';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-fusion-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function planOf(model: LoadedModel, grid: OcclusionGrid, fuseBranches: boolean) {
  const corners = patchCorners(grid);
  return planIncremental(model.graph, { height: grid.patchHeight, width: grid.patchWidth, tops: corners.tops, lefts: corners.lefts }, { fuseBranches });
}

describe('merges compute the window branches that feed them alone', () => {
  it('takes a residual block\'s last convolution into its Add, computed on the Add\'s region', async () => {
    const { model, grid } = await zooOcclusionCase(dir, 'resnet18', { input: 96, patch: 16, stride: 16, seed: 5 });
    const fused = planOf(model, grid, true);
    const apart = planOf(model, grid, false);
    const adds = fused.segments.filter((segment) => segment.nodes[0].opType === 'Add');
    expect(adds.length).toBeGreaterThan(0);
    for (const segment of adds) {
      expect(segment.branches.length).toBeGreaterThan(0);
      // Each branch is read through its window; the crop read at the Add's own region is the skip.
      expect(segment.reads.filter((read) => read.window)).toHaveLength(segment.branches.length);
      for (const branch of segment.branches) {
        expect(branch.window.op).toBe('Conv');
        expect(fused.computedOn.get(branch.output)).toEqual({ head: segment.nodes[0].outputs[0], through: undefined });
        expect(fused.regions.get(branch.output)).toEqual(fused.regions.get(segment.nodes[0].outputs[0]));
      }
    }
    expect(fused.segments.length).toBe(apart.segments.length - adds.reduce((n, s) => n + s.branches.length, 0));
    // What is no longer read across segments is no longer kept from the clean pass.
    expect(fused.materialised.length).toBeLessThan(apart.materialised.length);
    expect(apart.computedOn.size).toBe(0);
  });

  it('takes both expands of a fire module into their Concat, the 1x1 one recomputing at most twice its area', async () => {
    const model = await loadModel(join(DATA, 'models/cxr-appa-squeezenet1.1.onnx'));
    const grid = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 16, y: 16 } });
    const fused = planOf(model, grid, true);
    const apart = planOf(model, grid, false);
    const concats = fused.segments.filter((segment) => segment.nodes[0].opType === 'Concat');
    expect(concats.length).toBeGreaterThan(4);
    for (const segment of concats) {
      for (const branch of segment.branches) {
        expect(regionArea(fused.regions.get(branch.output)!)).toBeLessThanOrEqual(2 * regionArea(apart.regions.get(branch.output)!));
      }
    }
    expect(concats.some((segment) => segment.branches.length === 2)).toBe(true);
    // The cost model prices the recomputation; its ideal (the redundancy ratio) does not fuse.
    const patch = { width: 16, height: 16 };
    const planned = costModel(model.graph, patch, { fullFraction: Infinity });
    const ideal = costModel(model.graph, patch);
    expect(planned.totalIncrementalMacs).toBeGreaterThan(ideal.totalIncrementalMacs);
    expect(planned.segments).toBeLessThan(ideal.segments);
  });

  it('takes a convolution into the unpadded pool that alone reads it, computed on the pool\'s read-in', async () => {
    const { model, grid } = await zooOcclusionCase(dir, 'vgg16', { input: 64, patch: 8, stride: 6, seed: 5 });
    const fused = planOf(model, grid, true);
    const apart = planOf(model, grid, false);
    const pools = fused.segments.filter((segment) => segment.nodes[0].opType === 'MaxPool' && segment.branches.length > 0);
    expect(pools.length).toBeGreaterThanOrEqual(3);
    for (const segment of pools) {
      const [branch] = segment.branches;
      expect(branch.window.op).toBe('Conv');
      // One read, of the convolution's input, through the convolution and then the pool.
      expect(segment.reads).toEqual([branch.read]);
      expect(branch.read.via).toBe(segment.window);
      const poolRegion = fused.regions.get(segment.output)!;
      expect(fused.regions.get(branch.output)).toEqual(readInRegions(segment.window!.rows, segment.window!.cols, poolRegion));
      expect(fused.computedOn.get(branch.output)).toEqual({ head: segment.output, through: segment.window });
      // The read-in of a 2x2 pool adds at most a row or column on each side to the convolution's
      // own region, where that starts or ends off the pool's stride.
      const own = apart.regions.get(branch.output)!;
      expect(fused.regions.get(branch.output)!.height).toBeLessThanOrEqual(own.height + 2);
      expect(fused.regions.get(branch.output)!.width).toBeLessThanOrEqual(own.width + 2);
    }
    expect(fused.materialised.length).toBeLessThan(apart.materialised.length);
  });

  it('leaves a padded pool on its own: a convolution computed on a crop has no padding to give it', async () => {
    const { model, grid } = await zooOcclusionCase(dir, 'resnet18', { input: 96, patch: 16, stride: 16, seed: 5 });
    const stemPool = planOf(model, grid, true).segments.find((segment) => segment.nodes[0].opType === 'MaxPool')!;
    expect(stemPool.window!.rows.padBegin).toBeGreaterThan(0);
    expect(stemPool.branches).toEqual([]);
  });

  it('runs in full a layer that only full layers read, mostly changed, whose input they read anyway', async () => {
    const model = await loadModel(join(DATA, 'models/cxr-appa-squeezenet1.1.onnx'));
    const grid = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 4, y: 4 } });
    const plan = planOf(model, grid, true);
    const expand = plan.tail.find((node) => node.name.includes('features.12/expand1x1/'))!;
    expect(expand).toBeDefined();
    expect(plan.fullReasons.get(expand)).toMatch(/covers ≥ 70% of 13x13, and only full layers read it$/);
    // Its ReLU goes with it; the squeeze it reads is the frontier, as it was for the 3x3 expand.
    expect(plan.tail.some((node) => node.name.includes('features.12/expand1x1_activation'))).toBe(true);
    expect(plan.frontier).toEqual([expand.inputs[0]]);
    // The ideal plans every layer on its changed region.
    const ideal = planIncremental(model.graph, plan.regions.get(model.graph.inputName)!, { fullFraction: Infinity });
    expect(ideal.tail.some((node) => node.name.includes('features.12/expand1x1/'))).toBe(false);
  });

  it.each([
    ['resnet18', 96, 16, 8],
    ['squeezenet', 96, 16, 10],
    ['inception_v3', 107, 11, 12],
    ['vgg16', 64, 8, 6],
  ] as const)('gives the same heatmap as full inference and as unfused branches: %s', async (arch, input, patch, stride) => {
    const { model, grid, task } = await zooOcclusionCase(dir, arch, { input, patch, stride, seed: 5 });
    const naive = await NaiveOcclusion.create(model, grid);
    const fused = await IncrementalOcclusion.create(model, grid);
    const apart = await IncrementalOcclusion.create(model, grid, { fuseBranches: false });
    try {
      expect(fused.plan.computedOn.size).toBeGreaterThan(0);
      const exact = await naive.run(task);
      const withBranches = await fused.run(task);
      expectSameHeatmap(exact.values, withBranches.values, `${arch} fused`);
      expectSameHeatmap((await apart.run(task)).values, withBranches.values, `${arch} fused against unfused`);
    } finally {
      await naive.release();
      await fused.release();
      await apart.release();
    }
  });
});
