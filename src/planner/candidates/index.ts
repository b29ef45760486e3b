import type { OperatorSpec } from '../../operators/create-operator.js';
import type { Candidate, CandidateName } from './candidate.js';
import { candidateOf } from './candidate.js';
import { drilldownCandidate } from './drilldown.js';
import { incrementalCandidate } from './incremental.js';
import { naiveCandidate } from './naive.js';
import { thresholdCandidate } from './threshold.js';
import type { PricingContext } from '../pricing.js';

export type { Candidate, CandidateEstimate, CandidateName, CandidateQuery } from './candidate.js';
export { candidateOf, candidatesUsed, describeSpec, strategyName } from './candidate.js';
export { TUNED_THRESHOLDS } from './threshold.js';
export { TUNED_FACTORS, TUNED_FRACTIONS, drilldownCells } from './drilldown.js';

/** Every way of running an occlusion, by name: a missing one is a type error. */
export const CANDIDATES: Readonly<Record<CandidateName, Candidate>> = Object.freeze({
  naive: naiveCandidate,
  incremental: incrementalCandidate,
  threshold: thresholdCandidate,
  drilldown: drilldownCandidate,
});

export const CANDIDATE_NAMES = Object.freeze(Object.keys(CANDIDATES) as CandidateName[]);

/** The cost-model estimate of any configuration, by the candidate it belongs to. */
export function estimateSpec(pricing: PricingContext, spec: OperatorSpec) {
  return CANDIDATES[candidateOf(spec)].estimate(pricing, spec);
}
