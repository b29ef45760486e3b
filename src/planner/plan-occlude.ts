import { createHash } from 'node:crypto';
import { KryptonError } from '../errors.js';
import type { PatchColor } from '../image/patch-color.js';
import { costModel, type CostReport } from '../model/cost-model.js';
import { DEFAULT_FULL_FRACTION } from '../model/incremental-plan.js';
import { classIndexOf } from '../model/labels.js';
import { cellCount, occlusionGrid, type OcclusionGrid } from '../model/occlusion-grid.js';
import type { TargetClass } from '../operators/occlusion-task.js';
import type { OccludeStatement, QualityTarget } from '../parser/ast.js';
import type { Store } from '../store/index.js';
import { DEFAULT_RESULTS_TABLE } from '../store/index.js';
import { resolveImages, type ImageRef } from '../executor/image-source.js';
import { bindModel, type ModelBinding, type ModelCache } from './bind-model.js';
import { chooseCandidate, estimateCandidates, type CandidateEstimate, type StrategyName } from './estimate.js';
import { machineThroughput } from './throughput.js';
import type { Throughput } from './calibration.js';

/** An OCCLUDE statement checked against the catalog and the images: what to compute. */
export interface LogicalOcclude {
  readonly statement: OccludeStatement;
  readonly images: readonly ImageRef[];
  readonly model: ModelBinding;
  readonly grid: OcclusionGrid;
  readonly target: TargetClass;
  readonly color: PatchColor;
  readonly quality?: QualityTarget;
  /** Results table as SQL (quoted parts), and as the user wrote it. */
  readonly table: string;
  readonly tableName: string;
  readonly renderDir?: string;
  /** Same statement, same id: a rerun finds the images already done under it. */
  readonly queryId: string;
}

/** How to compute it: the strategy the costs chose and everything EXPLAIN shows about the choice. */
export interface PhysicalOcclude {
  readonly logical: LogicalOcclude;
  readonly strategy: StrategyName;
  readonly candidates: readonly CandidateEstimate[];
  readonly reason: string;
  /** Per-layer costs as the incremental operator runs them, and the ideal (regions never cut to full). */
  readonly cost: CostReport;
  readonly ideal: CostReport;
  readonly notes: readonly string[];
}

export interface PlanningContext {
  readonly store: Store;
  readonly models: ModelCache;
  /** Rates to price the candidates with; this machine's (calibrated once) when absent. */
  readonly throughput?: Throughput;
}

function located(statement: OccludeStatement, clause: keyof OccludeStatement['clauses'], error: unknown): never {
  if (!(error instanceof KryptonError)) throw error;
  const position = statement.clauses[clause] ?? statement.position;
  throw new KryptonError(`line ${position.line}, column ${position.column}: ${error.message}`, error.code);
}

export async function bindOcclude(statement: OccludeStatement, context: PlanningContext): Promise<LogicalOcclude> {
  const model = await bindModel(statement.model, context.store, context.models).catch((e) => located(statement, 'model', e));
  const { spec } = model;
  let grid: OcclusionGrid;
  try {
    grid = occlusionGrid({ image: { width: spec.width, height: spec.height }, patch: statement.patch, stride: statement.stride, region: statement.region });
  } catch (error) {
    located(statement, statement.region ? 'region' : 'patch', error);
  }
  let target: TargetClass = 'predicted';
  try {
    const wanted = statement.targetClass;
    if (wanted.kind === 'index') target = classIndexOf(wanted.index, model.labels, model.model.output.classes);
    if (wanted.kind === 'label') target = classIndexOf(wanted.label, model.labels, model.model.output.classes);
  } catch (error) {
    located(statement, 'class', error);
  }
  const images = await resolveImages(statement.source, context.store).catch((e) => located(statement, 'source', e));
  const logical = {
    statement,
    images,
    model,
    grid,
    target,
    color: statement.color,
    quality: statement.quality,
    table: statement.into?.sql ?? DEFAULT_RESULTS_TABLE,
    tableName: statement.into?.parts.join('.') ?? DEFAULT_RESULTS_TABLE,
    renderDir: statement.renderDir,
  };
  return { ...logical, queryId: queryIdOf(logical) };
}

function queryIdOf(plan: Omit<LogicalOcclude, 'queryId' | 'statement' | 'images' | 'table' | 'tableName' | 'renderDir'>): string {
  const { model, grid, target, color, quality } = plan;
  const identity = JSON.stringify({
    model: { path: model.path, spec: model.spec, activation: model.model.output.activation },
    grid, target, color, quality: quality ?? null,
  });
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

export async function planOcclude(statement: OccludeStatement, context: PlanningContext): Promise<PhysicalOcclude> {
  const logical = await bindOcclude(statement, context);
  const graph = logical.model.model.graph;
  const patch = { width: logical.grid.patchWidth, height: logical.grid.patchHeight };
  const cost = costModel(graph, patch, { fullFraction: DEFAULT_FULL_FRACTION });
  const ideal = costModel(graph, patch);
  const { input } = logical.model.model;
  const candidates = estimateCandidates(cost, cellCount(logical.grid), input.channels * input.height * input.width, context.throughput ?? (await machineThroughput(context.store)));
  const notes: string[] = [];
  let strategy: StrategyName;
  let reason: string;
  if (statement.strategy === 'auto') {
    const choice = chooseCandidate(candidates);
    strategy = choice.chosen.strategy;
    reason = choice.reason;
  } else {
    strategy = statement.strategy;
    reason = `STRATEGY ${statement.strategy.toUpperCase()} was requested`;
  }
  if (logical.quality && logical.quality.target < 1) {
    notes.push(`QUALITY SSIM >= ${logical.quality.target}: approximate inference is not available yet, so the plan is exact (SSIM 1.0)`);
  }
  return { logical, strategy, candidates, reason, cost, ideal, notes };
}
