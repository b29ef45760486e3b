import type { CostReport } from '../model/cost-model.js';
import { costModel } from '../model/cost-model.js';
import type { ModelGraph } from '../model/graph.js';
import { DEFAULT_FULL_FRACTION } from '../model/incremental-plan.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import { cellCount } from '../model/occlusion-grid.js';
import type { Throughput } from './calibration.js';

/** One line of an estimate, for EXPLAIN. */
export interface CostPart {
  readonly label: string;
  readonly seconds: number;
}

/** What every candidate prices with: the query's model and grid, and this machine's rates. */
export interface PricingContext {
  readonly graph: ModelGraph;
  readonly grid: OcclusionGrid;
  readonly inputFloats: number;
  readonly rates: Throughput;
  /** The incremental plan's per-layer costs at threshold τ (1: exact), patch at the centre. */
  cost(threshold: number): CostReport;
}

export function pricingContext(graph: ModelGraph, grid: OcclusionGrid, inputFloats: number, rates: Throughput): PricingContext {
  const costs = new Map<number, CostReport>();
  const patch = { width: grid.patchWidth, height: grid.patchHeight };
  return {
    graph, grid, inputFloats, rates,
    cost(threshold) {
      let report = costs.get(threshold);
      if (!report) {
        report = costModel(graph, patch, { fullFraction: DEFAULT_FULL_FRACTION, threshold });
        costs.set(threshold, report);
      }
      return report;
    },
  };
}

/** Positions per onnxruntime call the estimates assume (the operators choose theirs from memory). */
const ASSUMED_BATCH = 16;

export function totalSeconds(parts: readonly CostPart[]): number {
  return parts.reduce((sum, p) => sum + p.seconds, 0);
}

/**
 * Seconds per image of naive occlusion over `cells` positions: every position runs the whole model.
 */
export function priceNaive(pricing: PricingContext, cells: number): CostPart[] {
  const { rates } = pricing;
  const cost = pricing.cost(1);
  const batches = Math.ceil(cells / ASSUMED_BATCH);
  const fullPass = cost.totalFullMacs / rates.fullMacsPerSecond;
  return [
    { label: `${cells} positions × full inference`, seconds: cells * fullPass },
    { label: 'occluded input copies', seconds: (cells * pricing.inputFloats) / rates.copyFloatsPerSecond },
    { label: `${batches + 1} calls`, seconds: (batches + 1) * rates.secondsPerCall },
  ];
}

/**
 * Seconds per image of incremental occlusion at threshold τ over `cells` positions: one clean
 * pass, then per position the changed regions (at the crop rate), the layers that run in full (at
 * the full rate), the copying, and one call per segment and batch. The rates are measured on a
 * whole network, so the layers that cost no multiply-adds (pooling, BatchNorm, layout changes)
 * are priced in proportion to the convolutions around them.
 */
export function priceIncremental(pricing: PricingContext, threshold: number, cells: number): CostPart[] {
  const { rates } = pricing;
  const cost = pricing.cost(threshold);
  const batches = Math.ceil(cells / ASSUMED_BATCH);
  const fullPass = cost.totalFullMacs / rates.fullMacsPerSecond;
  const fullLayers = (cost.totalIncrementalMacs - cost.regionMacs) / rates.fullMacsPerSecond;
  return [
    { label: 'clean pass', seconds: fullPass + cost.segments * rates.secondsPerCall },
    { label: `${cells} positions × changed regions`, seconds: (cells * cost.regionMacs) / rates.cropMacsPerSecond },
    { label: `${cells} positions × layers run in full`, seconds: cells * fullLayers },
    { label: 'crop and frontier copies', seconds: (cells * cost.copiedFloats) / rates.copyFloatsPerSecond },
    { label: `${batches * (cost.segments + 1)} calls`, seconds: batches * (cost.segments + 1) * rates.secondsPerCall },
  ];
}

export function allCellCount(pricing: PricingContext): number {
  return cellCount(pricing.grid);
}
