import { EXACT_INCREMENTAL, type OperatorSpec } from '../../operators/create-operator.js';
import type { Candidate, PhysicalContext } from './candidate.js';
import { describeSpec } from './candidate.js';
import type { IncrementalOcclusionNode } from '../physical-plan.js';
import { allCellCount, priceIncremental, totalSeconds, type PricingContext } from '../pricing.js';

/** Seconds per image of incremental inference at the configuration's threshold (1: exact). */
export function estimateIncremental(pricing: PricingContext, spec: OperatorSpec) {
  if (spec.kind !== 'incremental') throw new Error(`incremental cannot run ${spec.kind}`);
  const parts = priceIncremental(pricing, spec.threshold, allCellCount(pricing));
  return {
    candidate: spec.threshold < 1 ? 'threshold' as const : 'incremental' as const,
    spec, label: describeSpec(spec, pricing.grid), secondsPerImage: totalSeconds(parts), parts, basis: 'cost model' as const,
  };
}

/** The physical node of incremental inference, with what its plan looks like at that threshold. */
export function incrementalNode(spec: OperatorSpec, { pricing, estimate, images, input }: PhysicalContext): IncrementalOcclusionNode {
  if (spec.kind !== 'incremental') throw new Error(`incremental cannot run ${spec.kind}`);
  const cost = pricing.cost(spec.threshold);
  return Object.freeze({
    kind: 'IncrementalOcclusion',
    spec,
    segments: cost.segments,
    layersInFull: cost.layers.filter((l) => !l.changed).length,
    estimate,
    child: Object.freeze({ kind: 'ImageScan', images, input }),
  });
}

/** Exact incremental inference: each layer recomputes only the region the patch changed. */
export const incrementalCandidate: Candidate = Object.freeze({
  name: 'incremental',
  summary: 'incremental inference: each layer recomputes the changed region only (exact)',
  inapplicable: () => undefined,
  configurations: () => [EXACT_INCREMENTAL],
  estimate: estimateIncremental,
  physical: incrementalNode,
} satisfies Candidate);
