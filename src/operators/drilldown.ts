import { cellCount } from '../model/occlusion-grid.js';
import type { DrilldownShape } from './drilldown-cells.js';
import { coarseCells, composeHeatmap, fineCellBudget, fineCells, interpolateFromLattice } from './drilldown-cells.js';
import type { CellOperator, Heatmap, OcclusionOperator, OcclusionTask } from './occlusion-task.js';

/**
 * Adaptive drill-down over any operator that can run a subset of cells: a coarse stage over the
 * whole grid, then the requested stride only where the coarse heatmap shows the largest drops
 * (drilldown-cells.ts has the arithmetic). Both stages run against one clean pass of the image.
 */
export class DrilldownOcclusion implements OcclusionOperator {
  readonly strategy: string;
  private readonly coarse: Int32Array;

  constructor(readonly inner: CellOperator, readonly shape: DrilldownShape) {
    if (!(shape.fraction > 0 && shape.fraction <= 1)) throw new RangeError(`drill-down fraction must be in (0, 1], got ${shape.fraction}`);
    for (const factor of [shape.factorX, shape.factorY]) {
      if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`drill-down stride factor must be a positive integer, got ${factor}`);
    }
    this.strategy = `drilldown+${inner.strategy}`;
    this.coarse = coarseCells(inner.grid, shape);
  }

  get grid() {
    return this.inner.grid;
  }

  async run(task: OcclusionTask): Promise<Heatmap> {
    const run = await this.inner.prepare(task);
    // NaN until computed (the stages read only the cells they ran), so partial heatmaps show what is known.
    const computed = new Float32Array(cellCount(this.grid)).fill(NaN);
    // The second stage's size is known only after the first; its budget is the most it can be.
    const expected = this.coarse.length + fineCellBudget(this.grid, this.shape);
    await run.evaluate(this.coarse, computed, (done) => task.onProgress?.(done, expected, { stage: 'coarse', values: computed, classIndex: run.classIndex, baseProbability: run.baseProbability }));
    const estimate = interpolateFromLattice(this.grid, this.shape, computed);
    const fine = fineCells(this.grid, this.shape, estimate, this.coarse);
    const total = this.coarse.length + fine.length;
    const sofar = () => ({ stage: 'fine' as const, classIndex: run.classIndex, baseProbability: run.baseProbability, values: estimate.map((value, cell) => (Number.isNaN(computed[cell]) ? value : computed[cell])) });
    task.onProgress?.(this.coarse.length, total, sofar());
    await run.evaluate(fine, computed, (done) => task.onProgress?.(this.coarse.length + done, total, sofar()));
    return {
      grid: this.grid,
      values: composeHeatmap(estimate, computed, this.coarse, fine),
      classIndex: run.classIndex,
      baseProbability: run.baseProbability,
      batchSize: run.batchSize,
      cellsComputed: total,
    };
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}
