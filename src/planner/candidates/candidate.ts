import type { InputSpec } from '../../image/input-spec.js';
import type { OcclusionGrid } from '../../model/occlusion-grid.js';
import type { CellOperatorSpec, OperatorSpec } from '../../operators/create-operator.js';
import type { CandidateName } from '../../parser/ast.js';
import type { OcclusionNode } from '../physical-plan.js';
import type { CostPart, PricingContext } from '../pricing.js';

export type { CandidateName };

/** What a candidate needs to know of the query to say whether it applies. */
export interface CandidateQuery {
  /** The query accepts approximate heatmaps (QUALITY SSIM >= q with q < 1). */
  readonly approximate: boolean;
  readonly grid: OcclusionGrid;
}

/** One way to run the occlusion, priced in seconds per image. */
export interface CandidateEstimate {
  readonly candidate: CandidateName;
  readonly spec: OperatorSpec;
  /** e.g. 'threshold τ=0.6', 'drilldown 12x12 r=0.2 over incremental'. */
  readonly label: string;
  readonly secondsPerImage: number;
  /** How the estimate is made up, for EXPLAIN. */
  readonly parts: readonly CostPart[];
  /** Where the seconds come from. */
  readonly basis: 'cost model' | 'measured at tuning';
  /** SSIM against the exact heatmaps of the tuning sample: its minimum and median. */
  readonly ssim?: { readonly min: number; readonly median: number };
}

/** Builds the physical node of a cell operator (what drill-down stands on). */
export type PhysicalBuilder = (spec: OperatorSpec) => OcclusionNode;

export interface PhysicalContext {
  readonly pricing: PricingContext;
  readonly images: number;
  readonly input: InputSpec;
  readonly estimate: CandidateEstimate;
  readonly build: PhysicalBuilder;
}

/**
 * A way of running an occlusion: the planner asks each whether it applies, what configurations it
 * offers, what each would cost, and for the winner, its physical operator node.
 */
export interface Candidate {
  readonly name: CandidateName;
  /** One line for EXPLAIN. */
  readonly summary: string;
  /** Why it cannot serve the query, or undefined when it can. */
  inapplicable(query: CandidateQuery): string | undefined;
  /**
   * The configurations it offers: one for an exact candidate, the grid the tuner searches for an
   * approximate one. Drill-down builds on the cell operators it is given.
   */
  configurations(query: CandidateQuery, cellOperators: readonly CellOperatorSpec[]): OperatorSpec[];
  /** Seconds per image from the cost model and this machine's rates. */
  estimate(pricing: PricingContext, spec: OperatorSpec): CandidateEstimate;
  physical(spec: OperatorSpec, context: PhysicalContext): OcclusionNode;
}

/** The candidate a configuration belongs to: drill-down over anything is drill-down. */
export function candidateOf(spec: OperatorSpec): CandidateName {
  if (spec.kind === 'drilldown') return 'drilldown';
  if (spec.kind === 'naive') return 'naive';
  return spec.threshold < 1 ? 'threshold' : 'incremental';
}

/** Every candidate a configuration is built of: switching any of them off rules it out. */
export function candidatesUsed(spec: OperatorSpec): CandidateName[] {
  return spec.kind === 'drilldown' ? ['drilldown', candidateOf(spec.inner)] : [candidateOf(spec)];
}

/** A configuration in a few words, as EXPLAIN and the results' strategy column name it. */
export function describeSpec(spec: OperatorSpec, grid: OcclusionGrid): string {
  if (spec.kind === 'naive') return 'naive';
  if (spec.kind === 'incremental') return spec.threshold < 1 ? `threshold τ=${spec.threshold}` : 'incremental';
  const { factorX, factorY, fraction } = spec.shape;
  return `drilldown ${grid.strideX * factorX}x${grid.strideY * factorY} r=${fraction} over ${describeSpec(spec.inner, grid)}`;
}

/** The results' strategy column: 'naive', 'incremental', 'threshold', 'drilldown+threshold', … */
export function strategyName(spec: OperatorSpec): string {
  return spec.kind === 'drilldown' ? `drilldown+${candidateOf(spec.inner)}` : candidateOf(spec);
}
