import type { LoadedModel } from '../model/load-model.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import type { IncrementalPlanOptions } from '../model/incremental-plan.js';
import { IncrementalOcclusion } from './incremental-inference.js';
import { NaiveOcclusion } from './naive-inference.js';
import type { OcclusionOperator } from './occlusion-task.js';

export type Strategy = 'naive' | 'incremental';

export async function createOperator(strategy: Strategy, model: LoadedModel, grid: OcclusionGrid, options: IncrementalPlanOptions = {}): Promise<OcclusionOperator> {
  return strategy === 'naive' ? NaiveOcclusion.create(model, grid) : IncrementalOcclusion.create(model, grid, options);
}
