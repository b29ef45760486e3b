import type { CostReport } from '../model/cost-model.js';
import type { Throughput } from './calibration.js';

export type StrategyName = 'naive' | 'incremental';

/** One way to run the occlusion, priced in seconds per image. */
export interface CandidateEstimate {
  readonly strategy: StrategyName;
  readonly secondsPerImage: number;
  /** How the estimate is made up, for EXPLAIN. */
  readonly parts: readonly { readonly label: string; readonly seconds: number }[];
}

/** Positions per onnxruntime call the estimates assume (the operators choose theirs from memory). */
const ASSUMED_BATCH = 16;

/**
 * Seconds per image of each strategy, from the cost model's multiply-adds and copied floats, and
 * this machine's measured rates.
 *
 * naive: every position runs the whole model.
 * incremental: one clean pass, then per position the changed regions (at the crop rate), the
 * layers that run in full (at the full rate), the copying, and one call per segment and batch.
 * The rates are measured on a whole network, so the layers that cost no multiply-adds (pooling,
 * BatchNorm, layout changes) are priced in proportion to the convolutions around them.
 */
export function estimateCandidates(cost: CostReport, positions: number, inputFloats: number, rate: Throughput): CandidateEstimate[] {
  const batches = Math.ceil(positions / ASSUMED_BATCH);
  const fullPass = cost.totalFullMacs / rate.fullMacsPerSecond;
  const naiveParts = [
    { label: `${positions} positions × full inference`, seconds: positions * fullPass },
    { label: 'occluded input copies', seconds: (positions * inputFloats) / rate.copyFloatsPerSecond },
    { label: `${batches + 1} calls`, seconds: (batches + 1) * rate.secondsPerCall },
  ];
  const fullLayers = (cost.totalIncrementalMacs - cost.regionMacs) / rate.fullMacsPerSecond;
  const incrementalParts = [
    { label: 'clean pass', seconds: fullPass + cost.segments * rate.secondsPerCall },
    { label: `${positions} positions × changed regions`, seconds: (positions * cost.regionMacs) / rate.cropMacsPerSecond },
    { label: `${positions} positions × layers run in full`, seconds: positions * fullLayers },
    { label: 'crop and frontier copies', seconds: (positions * cost.copiedFloats) / rate.copyFloatsPerSecond },
    { label: `${batches * (cost.segments + 1)} calls`, seconds: batches * (cost.segments + 1) * rate.secondsPerCall },
  ];
  const total = (parts: { seconds: number }[]) => parts.reduce((sum, p) => sum + p.seconds, 0);
  return [
    { strategy: 'naive', secondsPerImage: total(naiveParts), parts: naiveParts },
    { strategy: 'incremental', secondsPerImage: total(incrementalParts), parts: incrementalParts },
  ];
}

/** The cheapest candidate and a sentence saying why it won. */
export function chooseCandidate(candidates: readonly CandidateEstimate[]): { chosen: CandidateEstimate; reason: string } {
  const sorted = [...candidates].sort((a, b) => a.secondsPerImage - b.secondsPerImage);
  const [chosen, runnerUp] = sorted;
  const ratio = runnerUp.secondsPerImage / Math.max(chosen.secondsPerImage, 1e-12);
  return { chosen, reason: `${chosen.strategy} is estimated ${ratio.toFixed(2)}x cheaper than ${runnerUp.strategy}` };
}
