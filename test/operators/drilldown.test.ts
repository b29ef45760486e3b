import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { cellCount, occlusionGrid } from '../../src/model/occlusion-grid';
import {
  coarseCells, composeHeatmap, fineCellBudget, fineCells, interpolateFromLattice, simulateDrilldown,
} from '../../src/operators/drilldown-cells';
import { DrilldownOcclusion } from '../../src/operators/drilldown';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import { NaiveOcclusion } from '../../src/operators/naive-inference';
import { buildZooModel } from '../../src/zoo/build-zoo-model';
import { imagenetInputSpec } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { patchValues } from '../../src/image/patch-color';
import { DATA, expectSameHeatmap } from '../support/heatmaps';

const grid = occlusionGrid({ image: { width: 60, height: 44 }, patch: { width: 8, height: 8 }, stride: { x: 2, y: 2 } });

describe('drill-down cell arithmetic', () => {
  it('puts the coarse lattice on every k-th column and row from cell (0, 0)', () => {
    expect(grid.columns).toBe(27);
    expect(grid.rows).toBe(19);
    const coarse = coarseCells(grid, { factorX: 3, factorY: 2, fraction: 0.2 });
    expect(coarse.length).toBe(9 * 10);
    for (const cell of coarse) {
      expect((cell % grid.columns) % 3).toBe(0);
      expect(Math.floor(cell / grid.columns) % 2).toBe(0);
    }
  });

  it('interpolates bilinearly: a plane is reproduced inside the lattice, and held flat past its last row and column', () => {
    const shape = { factorX: 4, factorY: 3, fraction: 0.1 };
    const plane = Float32Array.from({ length: cellCount(grid) }, (_, i) => 0.5 + 0.01 * (i % grid.columns) - 0.02 * Math.floor(i / grid.columns));
    const estimate = interpolateFromLattice(grid, shape, plane);
    const lastCol = Math.floor((grid.columns - 1) / 4) * 4;
    const lastRow = Math.floor((grid.rows - 1) / 3) * 3;
    for (let row = 0; row < grid.rows; row++) {
      for (let col = 0; col < grid.columns; col++) {
        const expected = 0.5 + 0.01 * Math.min(col, lastCol) - 0.02 * Math.min(row, lastRow);
        expect(estimate[row * grid.columns + col]).toBeCloseTo(expected, 5);
      }
    }
  });

  it('runs stage 2 on the cells with the largest estimated drops, at most r of all cells', () => {
    const shape = { factorX: 2, factorY: 2, fraction: 0.1 };
    const estimate = Float32Array.from({ length: cellCount(grid) }, (_, i) => 0.9 - 0.5 * Math.exp(-(((i % 27) - 20) ** 2 + (Math.floor(i / 27) - 5) ** 2) / 8));
    const coarse = coarseCells(grid, shape);
    const fine = fineCells(grid, shape, estimate, coarse);
    const budget = fineCellBudget(grid, shape);
    expect(budget).toBe(Math.ceil(0.1 * cellCount(grid)));
    expect(fine.length).toBeLessThanOrEqual(budget);
    expect(fine.length).toBeGreaterThan(budget / 2);
    const threshold = Math.max(...Array.from(fine, (c) => estimate[c]));
    const isRun = new Set([...coarse, ...fine]);
    // No cell left out has a larger drop (a lower probability) than one chosen.
    for (let cell = 0; cell < estimate.length; cell++) if (!isRun.has(cell)) expect(estimate[cell]).toBeGreaterThanOrEqual(threshold);
    expect(fine.every((c) => !coarse.includes(c))).toBe(true);
  });

  it('composes computed cells over the estimate, and with r = 1 gives the full heatmap back', () => {
    const full = Float32Array.from({ length: cellCount(grid) }, (_, i) => Math.sin(i / 7) * 0.3 + 0.5);
    expect(simulateDrilldown(grid, { factorX: 3, factorY: 3, fraction: 1 }, full)).toEqual(full);
    const shape = { factorX: 3, factorY: 3, fraction: 0.2 };
    const coarse = coarseCells(grid, shape);
    const estimate = interpolateFromLattice(grid, shape, full);
    const fine = fineCells(grid, shape, estimate, coarse);
    const composed = composeHeatmap(estimate, full, coarse, fine);
    for (const cell of [...coarse, ...fine]) expect(composed[cell]).toBe(full[cell]);
    expect(simulateDrilldown(grid, shape, full)).toEqual(composed);
  });
});

describe('the drill-down operator', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-drilldown-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setup() {
    const file = join(dir, 'resnet18.onnx');
    writeFileSync(file, buildZooModel('resnet18', { input: 64, classes: 10, seed: 2 }));
    const model = await loadModel(file);
    const spec = imagenetInputSpec({ width: 64, height: 64 });
    const image = await prepareImage(join(DATA, 'images/natural-skimage/astronaut.png'), spec);
    const fine = occlusionGrid({ image: { width: 64, height: 64 }, patch: { width: 12, height: 12 }, stride: { x: 4, y: 4 } });
    return { model, fine, task: { input: image.tensor, patchValues: patchValues({ kind: 'gray' }, image, spec), target: 'predicted' as const } };
  }

  it('runs both stages on one clean pass, computes only its cells, and matches the exact values there', async () => {
    const { model, fine, task } = await setup();
    const exactOperator = await IncrementalOcclusion.create(model, fine);
    const inner = await IncrementalOcclusion.create(model, fine);
    const prepare = jest.spyOn(inner, 'prepare');
    const shape = { factorX: 3, factorY: 3, fraction: 0.25 };
    const drilldown = new DrilldownOcclusion(inner, shape);
    try {
      const exact = await exactOperator.run(task);
      const progress: [number, number][] = [];
      const heatmap = await drilldown.run({ ...task, onProgress: (done, total) => progress.push([done, total]) });
      expect(prepare).toHaveBeenCalledTimes(1);
      expect(drilldown.strategy).toBe('drilldown+incremental');
      const coarse = coarseCells(fine, shape);
      expect(heatmap.cellsComputed).toBeLessThanOrEqual(coarse.length + fineCellBudget(fine, shape));
      expect(heatmap.cellsComputed).toBeLessThan(cellCount(fine) / 2);
      // Composition from the exact heatmap is what the operator computed, up to float32 noise.
      expectSameHeatmap(simulateDrilldown(fine, shape, exact.values), heatmap.values, 'drill-down over exact');
      expect(heatmap.baseProbability).toBeCloseTo(exact.baseProbability, 6);
      expect(progress[progress.length - 1][0]).toBe(progress[progress.length - 1][1]);
      for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    } finally {
      await exactOperator.release();
      await drilldown.release();
    }
  });

  it('with r = 1 is the inner operator, over naive as over incremental', async () => {
    const { model, fine, task } = await setup();
    const naive = await NaiveOcclusion.create(model, fine);
    const drilldown = new DrilldownOcclusion(await NaiveOcclusion.create(model, fine), { factorX: 2, factorY: 2, fraction: 1 });
    try {
      const exact = await naive.run(task);
      const heatmap = await drilldown.run(task);
      expect(heatmap.cellsComputed).toBe(cellCount(fine));
      expect(drilldown.strategy).toBe('drilldown+naive');
      expectSameHeatmap(exact.values, heatmap.values, 'r = 1');
    } finally {
      await naive.release();
      await drilldown.release();
    }
  });
});
