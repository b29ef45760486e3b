import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { cellCount, occlusionGrid } from '../../src/model/occlusion-grid';
import { coarseCells } from '../../src/operators/drilldown-cells';
import { DrilldownOcclusion } from '../../src/operators/drilldown';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import type { PartialHeatmap } from '../../src/operators/occlusion-task';
import { buildZooModel } from '../../src/zoo/build-zoo-model';
import { imagenetInputSpec } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { patchValues } from '../../src/image/patch-color';
import { DATA } from '../support/heatmaps';

/** What a progress observer sees of a partial heatmap: a copy, since the operator's array changes after the call. */
interface Seen {
  readonly done: number;
  readonly stage: PartialHeatmap['stage'];
  readonly values: Float32Array;
}

describe('partial heatmaps reported while an operator runs', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-partial-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setup() {
    const file = join(dir, 'resnet18.onnx');
    writeFileSync(file, buildZooModel('resnet18', { input: 48, classes: 10, seed: 3 }));
    const model = await loadModel(file);
    const spec = imagenetInputSpec({ width: 48, height: 48 });
    const image = await prepareImage(join(DATA, 'images/natural-skimage/astronaut.png'), spec);
    const grid = occlusionGrid({ image: { width: 48, height: 48 }, patch: { width: 12, height: 12 }, stride: { x: 4, y: 4 } });
    const seen: Seen[] = [];
    const onProgress = (done: number, _total: number, partial?: PartialHeatmap) => {
      if (partial) seen.push({ done, stage: partial.stage, values: Float32Array.from(partial.values) });
    };
    return { model, grid, seen, task: { input: image.tensor, patchValues: patchValues({ kind: 'gray' }, image, spec), target: 'predicted' as const, batchSize: 8, onProgress } };
  }

  const unknown = (values: Float32Array) => values.filter((v) => Number.isNaN(v)).length;

  it('fills one pass batch by batch: NaN where not yet run, the final heatmap at the end', async () => {
    const { model, grid, seen, task } = await setup();
    const operator = await IncrementalOcclusion.create(model, grid);
    try {
      const heatmap = await operator.run(task);
      expect(seen.length).toBe(Math.ceil(cellCount(grid) / 8));
      expect(seen.every((s) => s.stage === 'all')).toBe(true);
      expect(seen.map((s) => unknown(s.values))).toEqual(seen.map((s) => cellCount(grid) - s.done));
      expect(Array.from(seen[seen.length - 1].values)).toEqual(Array.from(heatmap.values));
    } finally {
      await operator.release();
    }
  });

  it('drills down coarse stage first (lattice cells only), then the fine stage over the coarse estimate', async () => {
    const { model, grid, seen, task } = await setup();
    const shape = { factorX: 3, factorY: 3, fraction: 0.2 };
    const drilldown = new DrilldownOcclusion(await IncrementalOcclusion.create(model, grid), shape);
    try {
      const heatmap = await drilldown.run(task);
      const coarse = seen.filter((s) => s.stage === 'coarse');
      const fine = seen.filter((s) => s.stage === 'fine');
      expect(coarse.length).toBeGreaterThan(0);
      expect(fine.length).toBeGreaterThan(0);
      expect(seen.indexOf(fine[0])).toBe(coarse.length);
      const lattice = new Set(coarseCells(grid, shape));
      const lastCoarse = coarse[coarse.length - 1].values;
      lastCoarse.forEach((value, cell) => expect(Number.isNaN(value)).toBe(!lattice.has(cell)));
      expect(fine.every((s) => unknown(s.values) === 0)).toBe(true);
      expect(Array.from(fine[fine.length - 1].values)).toEqual(Array.from(heatmap.values));
    } finally {
      await drilldown.release();
    }
  });
});
