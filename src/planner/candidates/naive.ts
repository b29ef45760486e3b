import { NAIVE } from '../../operators/create-operator.js';
import type { Candidate } from './candidate.js';
import { priceNaive, allCellCount, totalSeconds } from '../pricing.js';

/** Batched full re-inference of every occluded copy: the baseline, exact, and best for huge patches. */
export const naiveCandidate: Candidate = Object.freeze({
  name: 'naive',
  summary: 'full inference of every occluded copy, batched (exact)',
  inapplicable: () => undefined,
  configurations: () => [NAIVE],
  estimate(pricing, spec) {
    const parts = priceNaive(pricing, allCellCount(pricing));
    return { candidate: 'naive', spec, label: 'naive', secondsPerImage: totalSeconds(parts), parts, basis: 'cost model' };
  },
  physical(spec, { estimate, images, input }) {
    if (spec.kind !== 'naive') throw new Error(`naive cannot run ${spec.kind}`);
    return Object.freeze({ kind: 'NaiveOcclusion', spec, estimate, child: Object.freeze({ kind: 'ImageScan', images, input }) });
  },
} satisfies Candidate);
