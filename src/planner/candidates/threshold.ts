import type { CellOperatorSpec } from '../../operators/create-operator.js';
import type { Candidate } from './candidate.js';
import { estimateIncremental, incrementalNode } from './incremental.js';

/** The thresholds the tuner tries, from the least approximate down (the published search's range). */
export const TUNED_THRESHOLDS: readonly number[] = Object.freeze([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);

/**
 * Incremental inference with the propagation threshold τ < 1: each window layer's changed region
 * is capped at τ of its size, the rest kept clean (approximate).
 */
export const thresholdCandidate: Candidate = Object.freeze({
  name: 'threshold',
  summary: 'incremental inference with changed regions capped at τ of each layer (approximate)',
  inapplicable: (query) => (query.approximate ? undefined : 'exact results were asked for (no QUALITY SSIM >= q below 1)'),
  configurations: () => TUNED_THRESHOLDS.map((threshold): CellOperatorSpec => Object.freeze({ kind: 'incremental', threshold })),
  estimate: estimateIncremental,
  physical: incrementalNode,
} satisfies Candidate);
