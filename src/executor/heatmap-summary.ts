import type { Heatmap } from '../operators/occlusion-task.js';

/** Where occlusion hurt the prediction most. */
export interface HeatmapSummary {
  readonly minProbability: number;
  readonly maxDrop: number;
  /** Patch top-left of the cell with the largest drop, in model-input pixels. */
  readonly maxDropX: number;
  readonly maxDropY: number;
}

export function summarizeHeatmap(heatmap: Heatmap): HeatmapSummary {
  const { values, grid } = heatmap;
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  const row = Math.floor(best / grid.columns);
  const col = best % grid.columns;
  return {
    minProbability: values[best],
    maxDrop: heatmap.baseProbability - values[best],
    maxDropX: grid.originX + col * grid.strideX,
    maxDropY: grid.originY + row * grid.strideY,
  };
}
