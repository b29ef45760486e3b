import type { OcclusionGrid } from '../../model/occlusion-grid.js';
import { cellCount } from '../../model/occlusion-grid.js';
import type { OperatorSpec } from '../../operators/create-operator.js';
import type { DrilldownShape } from '../../operators/drilldown-cells.js';
import { coarseCells, fineCellBudget } from '../../operators/drilldown-cells.js';
import type { Candidate, CandidateEstimate } from './candidate.js';
import { describeSpec } from './candidate.js';
import { incrementalCandidate } from './incremental.js';
import { naiveCandidate } from './naive.js';
import type { PricingContext } from '../pricing.js';
import { totalSeconds } from '../pricing.js';

/** Coarse stride factors and stage-2 fractions the tuner tries. */
export const TUNED_FACTORS: readonly number[] = Object.freeze([2, 3, 4]);
export const TUNED_FRACTIONS: readonly number[] = Object.freeze([0.1, 0.2, 0.3, 0.4, 0.5]);

/** Cells the drill-down runs at most: the coarse lattice and stage 2's budget, less their overlap. */
export function drilldownCells(grid: OcclusionGrid, shape: DrilldownShape): number {
  const coarse = coarseCells(grid, shape).length;
  return Math.min(cellCount(grid), coarse + Math.round(fineCellBudget(grid, shape) * (1 - coarse / cellCount(grid))));
}

/** A coarse lattice needs at least two cells along each axis to interpolate between. */
function fits(grid: OcclusionGrid, factor: number): boolean {
  return grid.columns > factor && grid.rows > factor;
}

/**
 * The inner operator's estimate scaled to the cells drill-down runs: its clean pass once, its
 * per-position parts in proportion.
 */
export function scaleToCells(inner: CandidateEstimate, grid: OcclusionGrid, cells: number): CandidateEstimate['parts'] {
  const share = cells / cellCount(grid);
  return inner.parts.map((part) => (part.label === 'clean pass' ? part : { label: `${part.label} × ${share.toFixed(2)}`, seconds: part.seconds * share }));
}

/**
 * Adaptive drill-down: a coarse first stage over the whole grid, then the requested stride only
 * where the coarse heatmap shows the largest drops (approximate).
 */
export const drilldownCandidate: Candidate = Object.freeze({
  name: 'drilldown',
  summary: 'coarse stage over the grid, requested stride only where drops are largest (approximate)',
  inapplicable(query) {
    if (!query.approximate) return 'exact results were asked for (no QUALITY SSIM >= q below 1)';
    if (!fits(query.grid, TUNED_FACTORS[0])) return `the ${query.grid.columns}x${query.grid.rows} grid is too small for a coarse stage`;
    return undefined;
  },
  configurations(query, cellOperators) {
    const specs: OperatorSpec[] = [];
    for (const inner of cellOperators) {
      for (const factor of TUNED_FACTORS) {
        if (!fits(query.grid, factor)) continue;
        for (const fraction of TUNED_FRACTIONS) specs.push(Object.freeze({ kind: 'drilldown', inner, shape: Object.freeze({ factorX: factor, factorY: factor, fraction }) }));
      }
    }
    return specs;
  },
  estimate(pricing: PricingContext, spec) {
    if (spec.kind !== 'drilldown') throw new Error(`drilldown cannot run ${spec.kind}`);
    const inner = (spec.inner.kind === 'naive' ? naiveCandidate : incrementalCandidate).estimate(pricing, spec.inner);
    const parts = scaleToCells(inner, pricing.grid, drilldownCells(pricing.grid, spec.shape));
    return { candidate: 'drilldown', spec, label: describeSpec(spec, pricing.grid), secondsPerImage: totalSeconds(parts), parts, basis: 'cost model' };
  },
  physical(spec, context) {
    if (spec.kind !== 'drilldown') throw new Error(`drilldown cannot run ${spec.kind}`);
    const { grid } = context.pricing;
    const child = context.build(spec.inner);
    if (child.kind === 'Drilldown') throw new Error('drill-down cannot stand on drill-down');
    return Object.freeze({
      kind: 'Drilldown',
      spec,
      coarseStride: Object.freeze({ x: grid.strideX * spec.shape.factorX, y: grid.strideY * spec.shape.factorY }),
      coarseCells: coarseCells(grid, spec.shape).length,
      fineCells: fineCellBudget(grid, spec.shape),
      estimate: context.estimate,
      child,
    });
  },
} satisfies Candidate);
