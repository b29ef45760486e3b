import { createHash } from 'node:crypto';
import { isKryptonError, KryptonError, messageOf, StatementError } from '../errors.js';
import { imageDimensions } from '../image/decode-image.js';
import type { InputSpec } from '../image/input-spec.js';
import { regionInModelPixels, regionText, type Rectangle } from '../image/source-region.js';
import type { PatchColor } from '../image/patch-color.js';
import { costModel, type CostReport } from '../model/cost-model.js';
import { classIndexOf } from '../model/labels.js';
import { occlusionGrid, type OcclusionGrid } from '../model/occlusion-grid.js';
import type { CellOperatorSpec, OperatorSpec } from '../operators/create-operator.js';
import { EXACT_INCREMENTAL, isExact, NAIVE, thresholdOf } from '../operators/create-operator.js';
import type { TargetClass } from '../operators/occlusion-task.js';
import type { CandidateName, OccludeStatement, QualityTarget, Region } from '../parser/ast.js';
import type { Store } from '../store/index.js';
import { DEFAULT_RESULTS_TABLE } from '../store/index.js';
import { imageKey, imageLabel, resolveImages, type ImageRef } from '../executor/image-source.js';
import { bindModel, outputIdentity, type ModelBinding, type ModelCache } from './bind-model.js';
import type { CandidateEstimate } from './candidates/index.js';
import { CANDIDATE_NAMES, CANDIDATES, candidateOf, candidatesUsed, estimateSpec, strategyName } from './candidates/index.js';
import type { InsertNode, OcclusionNode, PhysicalNode } from './physical-plan.js';
import { pricingContext, type PricingContext } from './pricing.js';
import { machineThroughput, storedThroughput, NOMINAL_THROUGHPUT } from './throughput.js';
import type { Throughput } from './calibration.js';
import { DEFAULT_TUNING_SAMPLE, tuneQuality, type TuningOutcome } from './tune-quality.js';

/** An OCCLUDE statement checked against the catalog and the images: what to compute. */
export interface LogicalOcclude {
  readonly statement: OccludeStatement;
  readonly images: readonly ImageRef[];
  /** Paths the source named more than once: each is computed and stored once. */
  readonly repeatedImages: readonly { readonly path: string; readonly times: number }[];
  readonly model: ModelBinding;
  readonly grid: OcclusionGrid;
  /** REGION in model-input pixels (converted from the images' pixels for REGION … IN IMAGE PIXELS). */
  readonly region?: Rectangle;
  readonly target: TargetClass;
  readonly color: PatchColor;
  readonly quality?: QualityTarget;
  /** Results table as SQL (quoted parts), and as the user wrote it. */
  readonly table: string;
  readonly tableName: string;
  readonly renderDir?: string;
}

/** Every candidate as EXPLAIN lists it: its best estimate, or why it was not considered. */
export interface CandidateRow {
  readonly name: CandidateName;
  readonly summary: string;
  readonly estimate?: CandidateEstimate;
  readonly unavailable?: string;
}

/** How to compute it: the plan tree, the configuration it runs, and everything EXPLAIN shows about the choice. */
export interface PhysicalOcclude {
  readonly logical: LogicalOcclude;
  /** Same statement and configuration, same id: a rerun finds the images already done under it. */
  readonly queryId: string;
  readonly root: InsertNode;
  readonly occlusion: OcclusionNode;
  readonly spec: OperatorSpec;
  /** The results' strategy column. */
  readonly strategy: string;
  readonly chosen: CandidateEstimate;
  readonly candidates: readonly CandidateRow[];
  readonly reason: string;
  /** Per-layer costs as the chosen incremental plan runs them, and the ideal (regions never cut to full). */
  readonly cost: CostReport;
  readonly ideal: CostReport;
  readonly notes: readonly string[];
  readonly tuning?: TuningOutcome;
  /** Images VERIFY gives an exact heatmap too, by imageKey. */
  readonly verifyImages: ReadonlySet<string>;
  readonly disabled: readonly CandidateName[];
}

export interface PlanningContext {
  readonly store: Store;
  readonly models: ModelCache;
  /** Rates to price the candidates with; this machine's (calibrated once) when absent. */
  readonly throughput?: Throughput;
  /** Told what tuning is doing, step by step. */
  readonly onTuning?: (step: string) => void;
  readonly signal?: AbortSignal;
}

/** The session's switched-off strategies: `SET VARIABLE krypton_disabled_strategies = 'drilldown, threshold'`. */
export const DISABLED_STRATEGIES_VARIABLE = 'krypton_disabled_strategies';

function located(statement: OccludeStatement, clause: keyof OccludeStatement['clauses'], error: unknown): never {
  if (!(error instanceof KryptonError)) throw error;
  const position = statement.clauses[clause] ?? statement.position;
  throw new StatementError(position, error.message, error.code);
}

export async function bindOcclude(statement: OccludeStatement, context: PlanningContext): Promise<LogicalOcclude> {
  const model = await bindModel(statement.model, context.store, context.models).catch((e) => located(statement, 'model', e));
  const { spec } = model;
  const { images, repeated } = await resolveImages(statement.source, context.store).catch((e) => located(statement, 'source', e));
  const region = statement.region && await regionOfQuery(statement.region, images, spec).catch((e) => located(statement, 'region', e));
  let grid: OcclusionGrid;
  try {
    grid = occlusionGrid({ image: { width: spec.width, height: spec.height }, patch: statement.patch, stride: statement.stride, region });
  } catch (error) {
    const converted = statement.region?.unit === 'image' && region && isKryptonError(error)
      ? new KryptonError(`${error.message} (REGION ${regionText(statement.region)} in image pixels is ${regionText(region)} in model-input pixels)`, error.code)
      : error;
    located(statement, statement.region ? 'region' : 'patch', converted);
  }
  let target: TargetClass = 'predicted';
  try {
    const wanted = statement.targetClass;
    if (wanted.kind === 'index') target = classIndexOf(wanted.index, model.labels, model.model.output.classes);
    if (wanted.kind === 'label') target = classIndexOf(wanted.label, model.labels, model.model.output.classes);
  } catch (error) {
    located(statement, 'class', error);
  }
  return {
    statement,
    images,
    repeatedImages: repeated,
    model,
    grid,
    ...(region && { region }),
    target,
    color: statement.color,
    quality: statement.quality,
    table: statement.into?.sql ?? DEFAULT_RESULTS_TABLE,
    tableName: statement.into?.parts.join('.') ?? DEFAULT_RESULTS_TABLE,
    renderDir: statement.renderDir,
  };
}

/**
 * REGION in model-input pixels. In image pixels it is converted by each image's own scale; one
 * grid serves the whole query, so every image must give the same rectangle (images of one size
 * always do). Unreadable images are left to the executor, which reports them and goes on.
 */
async function regionOfQuery(region: Region, images: readonly ImageRef[], spec: InputSpec): Promise<Rectangle> {
  const rectangle = { x: region.x, y: region.y, width: region.width, height: region.height };
  if (region.unit === 'model') return rectangle;
  const mapped = new Map<string, { rectangle: Rectangle; first: string; count: number }>();
  const unreadable: string[] = [];
  const BATCH = 16;
  for (let start = 0; start < images.length; start += BATCH) {
    const sizes = await Promise.all(images.slice(start, start + BATCH).map((image) => imageDimensions(image.path).then(
      (size) => ({ image, size }),
      (error: unknown) => {
        if (!isKryptonError(error)) throw error;
        unreadable.push(messageOf(error));
        return undefined;
      },
    )));
    for (const entry of sizes) {
      if (!entry) continue;
      const label = `${entry.image.path} (${entry.size.width}x${entry.size.height})`;
      const converted = regionInModelPixels(rectangle, entry.size, entry.image.path, spec);
      const key = regionText(converted);
      const group = mapped.get(key);
      if (group) group.count++;
      else mapped.set(key, { rectangle: converted, first: label, count: 1 });
    }
  }
  const groups = [...mapped.values()];
  if (groups.length === 0) {
    throw new KryptonError(`REGION ${regionText(rectangle)} IN IMAGE PIXELS needs the images' sizes, and none can be read (${unreadable[0]})`, 'plan');
  }
  if (groups.length > 1) {
    const shown = groups.slice(0, 2).map((g) => `(${regionText(g.rectangle)}) for ${g.count === 1 ? g.first : `${g.count} images such as ${g.first}`}`);
    throw new KryptonError(
      `REGION ${regionText(rectangle)} IN IMAGE PIXELS is a different model-input rectangle in different images: ${shown.join(', ')}${groups.length > 2 ? ` and ${groups.length - 2} more` : ''}; a query has one grid, so occlude images of one size together or give the REGION IN MODEL PIXELS`,
      'plan',
    );
  }
  return groups[0].rectangle;
}

/** Results of the same model, images' handling, grid, class and configuration share a query id. */
function queryIdOf(logical: LogicalOcclude, spec: OperatorSpec): string {
  const { model, grid, target, color, quality } = logical;
  const identity = JSON.stringify({
    model: { path: model.path, spec: model.spec, ...outputIdentity(model.model) },
    grid, target, color, quality: quality ?? null,
    // Exact plans keep the id they always had; approximate ones add their configuration.
    ...(isExact(spec) ? {} : { approximation: spec }),
  });
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

/** The configuration a STRATEGY other than AUTO asks for. */
function requestedSpec(statement: OccludeStatement): OperatorSpec {
  const cell: CellOperatorSpec = statement.strategy === 'naive' ? NAIVE : statement.threshold !== undefined && statement.threshold < 1
    ? Object.freeze({ kind: 'incremental', threshold: statement.threshold })
    : EXACT_INCREMENTAL;
  if (!statement.drilldown) return cell;
  const { stride, fraction } = statement.drilldown;
  return Object.freeze({
    kind: 'drilldown',
    inner: cell,
    shape: Object.freeze({ factorX: stride.x / statement.stride.x, factorY: stride.y / statement.stride.y, fraction }),
  });
}

function requestedText(statement: OccludeStatement): string {
  const parts = [`STRATEGY ${statement.strategy.toUpperCase()}`];
  if (statement.threshold !== undefined) parts.push(`THRESHOLD ${statement.threshold}`);
  if (statement.drilldown) {
    const { stride, fraction } = statement.drilldown;
    parts.push(`DRILLDOWN STRIDE ${stride.x === stride.y ? stride.x : `${stride.x} x ${stride.y}`} FRACTION ${fraction}`);
  }
  return parts.join(' ');
}

/** Strategies the session switched off with SET VARIABLE. */
async function sessionDisabled(store: Store): Promise<CandidateName[]> {
  const text = await store.variable(DISABLED_STRATEGIES_VARIABLE);
  if (!text) return [];
  const names = text.split(/[\s,]+/).map((n) => n.toLowerCase()).filter(Boolean);
  for (const name of names) {
    if (!(CANDIDATE_NAMES as readonly string[]).includes(name)) {
      throw new KryptonError(`${DISABLED_STRATEGIES_VARIABLE}: unknown strategy '${name}' (known: ${CANDIDATE_NAMES.join(', ')})`, 'plan');
    }
  }
  return names as CandidateName[];
}

async function ratesFor(context: PlanningContext, needed: boolean): Promise<{ rates: Throughput; nominal: boolean }> {
  if (context.throughput) return { rates: context.throughput, nominal: false };
  if (needed) return { rates: await machineThroughput(context.store), nominal: false };
  const stored = await storedThroughput(context.store);
  return stored ? { rates: stored, nominal: false } : { rates: NOMINAL_THROUGHPUT, nominal: true };
}

export async function planOcclude(statement: OccludeStatement, context: PlanningContext): Promise<PhysicalOcclude> {
  const logical = await bindOcclude(statement, context);
  const { grid, model } = logical;
  const graph = model.model.graph;
  const disabledBySession = await sessionDisabled(context.store);
  const disabled = new Set<CandidateName>([...statement.without, ...disabledBySession]);
  const approximate = !!logical.quality && logical.quality.target < 1;
  const explicit = statement.strategy !== 'auto';
  const query = { approximate, grid };
  const { rates, nominal } = await ratesFor(context, !explicit);
  const { input } = model.model;
  const pricing = pricingContext(graph, grid, input.channels * input.height * input.width, rates);
  const notes: string[] = [...model.model.output.notes];
  if (logical.repeatedImages.length) notes.push(repeatedNote(logical.repeatedImages));
  if (nominal) notes.push('estimates use nominal rates: this machine has not been calibrated yet (an OCCLUDE with STRATEGY AUTO calibrates it once)');

  let spec: OperatorSpec;
  let reason: string;
  let tuning: TuningOutcome | undefined;
  if (explicit) {
    spec = requestedSpec(statement);
    reason = `${requestedText(statement)} was requested`;
    const overridden = candidatesUsed(spec).filter((name) => disabledBySession.includes(name));
    if (overridden.length) notes.push(`${requestedText(statement)} overrides the session's ${DISABLED_STRATEGIES_VARIABLE} (${overridden.join(', ')})`);
    if (logical.quality && isExact(spec)) notes.push(`QUALITY SSIM >= ${logical.quality.target} is met exactly: ${requestedText(statement)} is exact`);
  } else {
    const usable = CANDIDATE_NAMES.filter((name) => !disabled.has(name) && !CANDIDATES[name].inapplicable(query));
    if (usable.length === 0) {
      located(statement, 'strategy', new KryptonError(`no strategy is left to choose from: ${[...disabled].join(', ')} ${disabled.size === 1 ? 'is' : 'are'} switched off${approximate ? '' : ' and exact results need naive or incremental'}`, 'plan'));
    }
    if (approximate && (usable.includes('threshold') || usable.includes('drilldown'))) {
      const sampleSize = statement.tuneSample ?? Math.min(DEFAULT_TUNING_SAMPLE, logical.images.length);
      if (sampleSize > logical.images.length) {
        located(statement, 'tune', new KryptonError(`TUNE ON ${sampleSize} IMAGES but the query has ${logical.images.length} image${logical.images.length === 1 ? '' : 's'}`, 'plan'));
      }
      // Tuning computes heatmaps: a results target that cannot take them is refused first.
      await context.store.checkResultsTarget(logical.table);
      tuning = await tuneQuality({
        logical, pricing, store: context.store, target: logical.quality!.target, sampleSize, sampleSizeAsked: statement.tuneSample !== undefined, retune: statement.retune,
        disabled, modelHash: model.fileHash, onProgress: context.onTuning, signal: context.signal,
      });
      spec = tuning.spec;
      reason = tuning.note;
      if (tuning.fellBack) notes.push(tuning.note);
    } else {
      const exactChoices = [NAIVE, EXACT_INCREMENTAL].filter((s) => usable.includes(candidateOf(s))).map((s) => estimateSpec(pricing, s));
      const sorted = [...exactChoices].sort((a, b) => a.secondsPerImage - b.secondsPerImage);
      spec = sorted[0].spec;
      reason = sorted.length > 1
        ? `${sorted[0].label} is estimated ${(sorted[1].secondsPerImage / Math.max(sorted[0].secondsPerImage, 1e-12)).toFixed(2)}x cheaper than ${sorted[1].label}`
        : `${sorted[0].label} is the only exact strategy left (${[...disabled].join(', ')} switched off)`;
      if (approximate) notes.push(`QUALITY SSIM >= ${logical.quality!.target}: the approximate strategies are switched off, so the plan is exact`);
    }
  }

  const chosen = chosenEstimate(pricing, spec, tuning);
  const candidates = candidateRows(pricing, query, disabled, disabledBySession, spec, chosen, tuning, explicit);
  const queryId = queryIdOf(logical, spec);
  const build = (cell: OperatorSpec): OcclusionNode => CANDIDATES[candidateOf(cell)].physical(cell, {
    // An operator under drill-down is priced as part of it.
    pricing, images: logical.images.length, input: model.spec, estimate: chosen, build,
  });
  const occlusion = build(spec);
  const sampled = new Set((tuning?.samples ?? []).map((s) => imageKey(s)));
  const verifyImages = chooseVerified(logical.images, sampled, statement.verifyPercent);
  let node: PhysicalNode = occlusion;
  if (statement.verifyPercent !== undefined) node = Object.freeze({ kind: 'Verify', percent: statement.verifyPercent, images: verifyImages.size, child: node as OcclusionNode });
  if (logical.renderDir) node = Object.freeze({ kind: 'Render', dir: logical.renderDir, child: node as OcclusionNode });
  const root: InsertNode = Object.freeze({ kind: 'Insert', table: logical.tableName, queryId, child: node as OcclusionNode });
  const patch = { width: grid.patchWidth, height: grid.patchHeight };
  return {
    logical, queryId, root, occlusion, spec, strategy: strategyName(spec), chosen, candidates, reason,
    cost: pricing.cost(thresholdOf(spec)), ideal: costModel(graph, patch), notes, tuning, verifyImages, disabled: [...disabled],
  };
}

export function repeatedNote(repeated: LogicalOcclude['repeatedImages']): string {
  const shown = repeated.slice(0, 3).map((r) => `${imageLabel(r)} (${r.times} times)`).join(', ');
  const more = repeated.length > 3 ? ` and ${repeated.length - 3} more` : '';
  return `the source names ${repeated.length === 1 ? 'a file' : `${repeated.length} files`} more than once, each computed and stored once: ${shown}${more}`;
}

/** The chosen configuration's estimate: measured at tuning when it was tuned, the cost model's otherwise. */
function chosenEstimate(pricing: PricingContext, spec: OperatorSpec, tuning: TuningOutcome | undefined): CandidateEstimate {
  const modelled = estimateSpec(pricing, spec);
  if (!tuning) return modelled;
  const trial = tuning.trials.find((t) => t.verdict === 'chosen');
  if (!trial || trial.basis !== 'measured at tuning') return { ...modelled, ssim: { min: tuning.ssimMin, median: tuning.ssimMedian } };
  return { ...modelled, secondsPerImage: trial.secondsPerImage, basis: 'measured at tuning', ssim: { min: tuning.ssimMin, median: tuning.ssimMedian } };
}

function candidateRows(
  pricing: PricingContext, query: { approximate: boolean; grid: OcclusionGrid }, disabled: ReadonlySet<CandidateName>,
  bySession: readonly CandidateName[], spec: OperatorSpec, chosen: CandidateEstimate, tuning: TuningOutcome | undefined, explicit: boolean,
): CandidateRow[] {
  return CANDIDATE_NAMES.map((name): CandidateRow => {
    const candidate = CANDIDATES[name];
    const row = { name, summary: candidate.summary };
    if (candidateOf(spec) === name) return { ...row, estimate: chosen };
    if (!explicit && disabled.has(name)) return { ...row, unavailable: `switched off (${bySession.includes(name) ? `${DISABLED_STRATEGIES_VARIABLE}` : 'WITHOUT'})` };
    const inapplicable = candidate.inapplicable(query);
    if (inapplicable) return { ...row, unavailable: inapplicable };
    if (tuning) {
      // The candidate's best tuned configuration: the cheapest meeting the target, else the closest to it.
      const trials = tuning.trials.filter((t) => candidateOf(t.spec) === name && Number.isFinite(t.ssimMin));
      const meeting = trials.filter((t) => t.ssimMin >= tuning.target).sort((a, b) => a.secondsPerImage - b.secondsPerImage);
      const best = meeting[0] ?? [...trials].sort((a, b) => b.ssimMin - a.ssimMin)[0];
      if (!best) return { ...row, unavailable: tuning.trials.some((t) => candidateOf(t.spec) === name) ? 'ran slower than exact at tuning' : 'not tried' };
      const modelled = estimateSpec(pricing, best.spec);
      return { ...row, estimate: { ...modelled, secondsPerImage: best.secondsPerImage, basis: best.basis, ssim: { min: best.ssimMin, median: best.ssimMedian } } };
    }
    if (name === 'threshold' || name === 'drilldown') return { ...row, unavailable: explicit ? 'a fixed STRATEGY was requested' : 'not tuned' };
    return { ...row, estimate: estimateSpec(pricing, candidate.configurations(query, [])[0]) };
  });
}

/** VERIFY p %: ceil(p% of the images not in the tuning sample), evenly spaced among them. */
function chooseVerified(images: readonly ImageRef[], sampled: ReadonlySet<string>, percent: number | undefined): Set<string> {
  if (percent === undefined) return new Set();
  const rest = images.filter((image) => !sampled.has(imageKey(image)));
  const count = Math.min(rest.length, Math.ceil((percent / 100) * rest.length - 1e-9));
  const chosen = new Set<string>();
  for (let i = 0; i < count; i++) chosen.add(imageKey(rest[Math.floor(((i + 0.5) * rest.length) / count)]));
  return chosen;
}

