import { createHash } from 'node:crypto';
import { KryptonError, isKryptonError, messageOf } from '../errors.js';
import { patchValues } from '../image/patch-color.js';
import { prepareImage } from '../image/prepare-image.js';
import { imageKey, type ImageRef } from '../executor/image-source.js';
import { cellCount } from '../model/occlusion-grid.js';
import type { OperatorSpec } from '../operators/create-operator.js';
import type { SessionCache } from '../model/session-cache.js';
import { createOperator, EXACT_INCREMENTAL, NAIVE } from '../operators/create-operator.js';
import { simulateDrilldown } from '../operators/drilldown-cells.js';
import type { Heatmap, OcclusionOperator, OcclusionTask } from '../operators/occlusion-task.js';
import { NaiveOcclusion } from '../operators/naive-inference.js';
import { checkInterrupted } from '../operators/occlusion-task.js';
import { ssim } from '../operators/ssim.js';
import type { Store } from '../store/index.js';
import type { CandidateEstimate, CandidateName } from './candidates/index.js';
import { CANDIDATES, candidatesUsed, describeSpec, drilldownCells, estimateSpec } from './candidates/index.js';
import { outputIdentity } from './bind-model.js';
import type { LogicalOcclude } from './plan-occlude.js';
import type { PricingContext } from './pricing.js';

/** Sample images the tuner measures on when TUNE ON n IMAGES is not given. */
export const DEFAULT_TUNING_SAMPLE = 3;
/** Drill-down configurations run for real to confirm their simulated SSIM, at most. */
const MAX_VERIFIED = 6;
const CACHE_VERSION = 1;
/** A threshold run is stopped once it has taken this many times the exact run on the same image. */
const SLOWER_SLACK = 1.15;
/** A configuration run at tuning is preferred to one estimated at most this much faster. */
const ESTIMATE_SLACK = 1.1;

export interface TuningRequest {
  readonly logical: LogicalOcclude;
  readonly pricing: PricingContext;
  readonly store: Store;
  readonly target: number;
  readonly sampleSize: number;
  /** TUNE ON n IMAGES was written: a cached tuning on fewer images does not do. */
  readonly sampleSizeAsked: boolean;
  readonly retune: boolean;
  /** Candidates the query or session switched off. */
  readonly disabled: ReadonlySet<CandidateName>;
  readonly modelHash: string;
  readonly onProgress?: (step: string) => void;
  readonly signal?: AbortSignal;
  /** The session's cache of onnxruntime sessions: configurations differing in τ share most of theirs. */
  readonly sessions?: SessionCache;
}

/** The SSIM a sample image reached under the chosen configuration, and its heatmap's checksum. */
export interface SampleScore {
  readonly path: string;
  /** The frame of a multi-frame file; absent for frame 1 (and in scores cached before frames). */
  readonly frame?: number;
  readonly ssim: number;
  readonly checksum: string;
}

/** One configuration the tuner scored. */
export interface Trial {
  readonly label: string;
  readonly spec: OperatorSpec;
  readonly secondsPerImage: number;
  readonly basis: CandidateEstimate['basis'];
  readonly ssimMin: number;
  readonly ssimMedian: number;
  /** exact: SSIM 1 by construction; measured: it ran on the sample; simulated: composed from its inner operator's heatmaps. */
  readonly how: 'exact' | 'measured' | 'simulated';
  /** Sample images it ran on, when not all of them (a threshold the search passed over). */
  readonly samplesTried?: number;
  readonly verdict: 'chosen' | 'meets the target' | 'below the target' | 'below the target when run' | 'slower than exact' | 'not needed';
}

/** A sample image's heatmap under the chosen configuration, for the executor to store as is. */
export interface SampleResult {
  readonly heatmap: Heatmap;
  readonly elapsedMs: number;
  readonly ssim: number;
}

export interface TuningOutcome {
  readonly key: string;
  readonly spec: OperatorSpec;
  readonly target: number;
  /** True when no allowed approximate configuration met the target on every sample: the plan is exact. */
  readonly fellBack: boolean;
  readonly note: string;
  readonly samples: readonly SampleScore[];
  readonly ssimMin: number;
  readonly ssimMedian: number;
  /** Measured at tuning, per image: the chosen configuration and exact incremental inference. */
  readonly secondsPerImage: number;
  readonly exactSecondsPerImage: number;
  readonly tuningSeconds: number;
  readonly tunedAt: string;
  readonly trials: readonly Trial[];
  /** Reused from the catalog rather than tuned by this statement. */
  readonly cached: boolean;
  /** In memory only: the sample images' heatmaps under the chosen configuration, by imageKey. */
  readonly sampleResults?: ReadonlyMap<string, SampleResult>;
}

/**
 * The tuning key: everything that decides which configuration is best and what SSIM it reaches.
 * The model is named by its content, so a retrained file at the same path tunes anew.
 */
export function tuningKey(request: Pick<TuningRequest, 'logical' | 'target' | 'disabled' | 'modelHash'>): string {
  const { logical } = request;
  const identity = JSON.stringify({
    v: CACHE_VERSION,
    model: request.modelHash,
    input: logical.model.spec,
    ...outputIdentity(logical.model.model),
    grid: logical.grid,
    color: logical.color,
    target: logical.target,
    quality: request.target,
    disabled: [...request.disabled].sort(),
  });
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

/** Evenly spaced images, so a sample is not all from the start of a sorted folder. */
export function chooseSample(images: readonly ImageRef[], size: number): ImageRef[] {
  const chosen: ImageRef[] = [];
  for (let i = 0; i < size; i++) chosen.push(images[Math.min(images.length - 1, Math.floor(((i + 0.5) * images.length) / size))]);
  return chosen;
}

/** A short, stable fingerprint of a heatmap's values. */
export function heatmapChecksum(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex').slice(0, 16);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function allowed(spec: OperatorSpec, disabled: ReadonlySet<CandidateName>): boolean {
  return !candidatesUsed(spec).some((name) => disabled.has(name));
}

interface SampleImage {
  readonly ref: ImageRef;
  readonly task: OcclusionTask;
}

/** A configuration's heatmaps on every sample image, and how long each took. */
interface Runs {
  readonly heatmaps: Heatmap[];
  readonly milliseconds: number[];
}

/**
 * Finds the cheapest configuration whose SSIM against the exact heatmap is at least the target on
 * every sample image (or reuses the one found before for the same key):
 *
 * 1. exact heatmaps of the sample (incremental inference, exact);
 * 2. thresholds τ from 0.9 down, each run on the sample, until one falls below the target (lower τ
 *    only lose more);
 * 3. drill-down over every inner operator that met the target, scored by composing its stages
 *    from the inner heatmaps (the cell arithmetic the operator uses);
 * 4. in order of estimated time, the first configuration that meets the target; a drill-down is
 *    then run for real on the sample, and taken only if its measured SSIM meets the target too.
 *
 * Times come from the runs of step 1 and 2 where there are some (drill-down: its inner
 * operator's, scaled to the cells it runs), from the cost model otherwise (naive).
 */
export async function tuneQuality(request: TuningRequest): Promise<TuningOutcome> {
  const key = tuningKey(request);
  if (!request.retune) {
    const cached = await request.store.getTuning(key);
    const value = cached?.value as (Omit<TuningOutcome, 'cached' | 'sampleResults'> & { version?: number }) | undefined;
    const enough = !request.sampleSizeAsked || (value?.samples.length ?? 0) >= request.sampleSize;
    if (value && value.version === CACHE_VERSION && value.spec && enough) return { ...value, cached: true };
  }
  const started = performance.now();
  const { model } = request.logical.model;
  const grid = request.logical.grid;
  const samples = await prepareSample(request.logical, request.sampleSize);
  const runner = new SampleRunner(samples, (spec) => createOperator(spec, model, grid, { sessions: request.sessions }), (spec) => describeSpec(spec, grid), request.onProgress, request.signal);
  let found: Omit<TuningOutcome, 'key' | 'tuningSeconds' | 'tunedAt' | 'cached'>;
  try {
    found = await search(request, samples, runner);
  } finally {
    await runner.release();
  }
  const { sampleResults, ...rest } = found;
  const outcome = { key, ...rest, tuningSeconds: (performance.now() - started) / 1000, tunedAt: new Date().toISOString() };
  await request.store.putTuning(key, { ...outcome, version: CACHE_VERSION });
  return { ...outcome, cached: false, sampleResults };
}

type ScoredTrial = Trial & { runs?: Runs };

async function search(request: TuningRequest, samples: readonly SampleImage[], runner: SampleRunner): Promise<Omit<TuningOutcome, 'key' | 'tuningSeconds' | 'tunedAt' | 'cached'>> {
  const { logical, pricing, target, disabled, signal } = request;
  const grid = logical.grid;
  const score = (exactValues: Float32Array, values: Float32Array) => ssim(exactValues, values, grid.columns, grid.rows);

  const exact = await runner.runAll(EXACT_INCREMENTAL, 'exact heatmap');
  const exactSeconds = meanSeconds(exact);
  const trials: ScoredTrial[] = [];
  const exactTrial = (spec: OperatorSpec, secondsPerImage: number, runs?: Runs): ScoredTrial => ({
    label: describeSpec(spec, grid), spec, secondsPerImage, basis: 'measured at tuning', ssimMin: 1, ssimMedian: 1, how: 'exact', verdict: 'meets the target', runs,
  });
  // Drill-down over naive or exact incremental composes the exact heatmaps.
  const inners: { spec: OperatorSpec; runs: Runs; seconds: number }[] = [];
  if (allowed(NAIVE, disabled)) {
    const seconds = await naiveSeconds(samples[0], logical, signal);
    trials.push(exactTrial(NAIVE, seconds));
    inners.push({ spec: NAIVE, runs: exact, seconds });
  }
  if (allowed(EXACT_INCREMENTAL, disabled)) {
    trials.push(exactTrial(EXACT_INCREMENTAL, exactSeconds, exact));
    inners.push({ spec: EXACT_INCREMENTAL, runs: exact, seconds: exactSeconds });
  }

  const query = { approximate: true, grid };
  if (!disabled.has('threshold') && !CANDIDATES.threshold.inapplicable(query)) {
    const thresholds = CANDIDATES.threshold.configurations(query, []);
    const scoreAt = (spec: OperatorSpec, i: number) => score(exact.heatmaps[i].values, runner.result(spec, i)!.heatmap.values);
    // A threshold that runs longer than exact did on the same image can never be chosen: it is
    // stopped there (with some slack for this machine's noise).
    const lowest = await lowestPassing(thresholds, samples.length, async (spec, i) => {
      const result = await runner.run(spec, i, undefined, exact.milliseconds[i] * SLOWER_SLACK);
      if (result === 'slower') return 'slower';
      return scoreAt(spec, i) >= target ? 'passes' : 'fails';
    });
    for (const spec of thresholds) {
      const tested = samples.map((_, i) => i).filter((i) => runner.result(spec, i));
      const slower = runner.slowerOn(spec);
      if (tested.length === 0 && slower === 0) continue;
      if (tested.length === 0) {
        trials.push({
          label: describeSpec(spec, grid), spec, secondsPerImage: exactSeconds, basis: 'measured at tuning', ssimMin: NaN, ssimMedian: NaN,
          how: 'measured', samplesTried: slower, verdict: 'slower than exact',
        });
        continue;
      }
      const values = tested.map((i) => scoreAt(spec, i));
      const runs = tested.length === samples.length ? runner.runs(spec) : undefined;
      const passed = Math.min(...values) >= target;
      const milliseconds = tested.map((i) => runner.result(spec, i)!.elapsedMs);
      trials.push({
        label: describeSpec(spec, grid), spec, secondsPerImage: milliseconds.reduce((a, b) => a + b, 0) / milliseconds.length / 1000,
        basis: 'measured at tuning', ssimMin: Math.min(...values), ssimMedian: median(values), how: 'measured', samplesTried: tested.length,
        // A threshold above the lowest passing one was tried on part of the sample only: it is simply not needed.
        verdict: slower > 0 ? 'slower than exact' : !passed ? 'below the target' : runs ? 'meets the target' : 'not needed', runs,
      });
      const ok = passed && !!runs;
      if (ok && runs && spec === lowest) inners.push({ spec, runs, seconds: meanSeconds(runs) });
    }
  }
  if (!disabled.has('drilldown') && !CANDIDATES.drilldown.inapplicable(query)) {
    const cellSpecs = inners.map((i) => i.spec) as Parameters<typeof CANDIDATES.drilldown.configurations>[1];
    for (const spec of CANDIDATES.drilldown.configurations(query, cellSpecs)) {
      if (spec.kind !== 'drilldown') continue;
      const inner = inners.find((i) => i.spec === spec.inner)!;
      const values = inner.runs.heatmaps.map((h, i) => score(exact.heatmaps[i].values, simulateDrilldown(grid, spec.shape, h.values)));
      const innerEstimate = estimateSpec(pricing, spec.inner);
      const cleanShare = (innerEstimate.parts.find((p) => p.label === 'clean pass')?.seconds ?? 0) / innerEstimate.secondsPerImage;
      const share = drilldownCells(grid, spec.shape) / cellCount(grid);
      trials.push({
        label: describeSpec(spec, grid), spec, secondsPerImage: inner.seconds * (cleanShare + (1 - cleanShare) * share),
        basis: 'measured at tuning', ssimMin: Math.min(...values), ssimMedian: median(values), how: 'simulated',
        verdict: Math.min(...values) >= target ? 'meets the target' : 'below the target',
      });
    }
  }

  // The cheapest configuration that meets the target, confirming simulated ones by running them:
  // a run gives both its real SSIM and its real time, which may put another configuration first.
  let chosenIndex = -1;
  let verified = 0;
  for (;;) {
    const next = trials
      .map((t, i) => ({ t, i }))
      .filter(({ t }) => t.verdict === 'meets the target' && (t.how !== 'simulated' || verified < MAX_VERIFIED))
      .sort((a, b) => a.t.secondsPerImage - b.t.secondsPerImage || a.i - b.i)[0];
    if (!next) break;
    const { t, i } = next;
    if (t.how !== 'simulated') { chosenIndex = i; break; }
    // A configuration already run is taken over one barely cheaper on paper: estimates are that noisy.
    const known = trials
      .map((k, j) => ({ k, j }))
      .filter(({ k }) => k.verdict === 'meets the target' && k.how !== 'simulated' && k.secondsPerImage <= t.secondsPerImage * ESTIMATE_SLACK)
      .sort((a, b) => a.k.secondsPerImage - b.k.secondsPerImage)[0];
    if (known) { chosenIndex = known.j; break; }
    verified++;
    const runs = await runner.runAll(t.spec, t.label);
    const values = runs.heatmaps.map((h, k) => score(exact.heatmaps[k].values, h.values));
    const ok = Math.min(...values) >= target;
    trials[i] = { ...t, how: 'measured', ssimMin: Math.min(...values), ssimMedian: median(values), secondsPerImage: meanSeconds(runs), verdict: ok ? 'meets the target' : 'below the target when run', runs };
  }
  if (chosenIndex < 0) {
    // Nothing allowed met the target (the exact candidates were switched off): exact incremental it is.
    trials.push(exactTrial(EXACT_INCREMENTAL, exactSeconds, exact));
    chosenIndex = trials.length - 1;
  }
  const chosen = trials[chosenIndex];
  for (const [i, t] of trials.entries()) {
    if (i === chosenIndex) trials[i] = { ...t, verdict: 'chosen' };
    else if (t.verdict === 'meets the target') trials[i] = { ...t, verdict: 'not needed' };
  }
  const { note, fellBack } = verdictNote(trials, chosen, target);

  const samplesScored: SampleScore[] = [];
  const sampleResults = new Map<string, SampleResult>();
  const chosenRuns = chosen.runs;
  if (chosenRuns) {
    samples.forEach((sample, i) => {
      const value = score(exact.heatmaps[i].values, chosenRuns.heatmaps[i].values);
      const frame = sample.ref.frame === 1 ? {} : { frame: sample.ref.frame };
      samplesScored.push({ path: sample.ref.path, ...frame, ssim: value, checksum: heatmapChecksum(chosenRuns.heatmaps[i].values) });
      sampleResults.set(imageKey(sample.ref), { heatmap: chosenRuns.heatmaps[i], elapsedMs: chosenRuns.milliseconds[i], ssim: value });
    });
  }
  return {
    spec: chosen.spec,
    target,
    fellBack,
    note,
    samples: samplesScored,
    ssimMin: chosen.ssimMin,
    ssimMedian: chosen.ssimMedian,
    secondsPerImage: chosen.secondsPerImage,
    exactSecondsPerImage: exactSeconds,
    trials: trials.map(({ runs: _runs, ...t }) => t),
    sampleResults,
  };
}

export function verdictNote(trials: readonly Trial[], chosen: Trial, target: number): { note: string; fellBack: boolean } {
  if (chosen.how !== 'exact') {
    return { fellBack: false, note: `${chosen.label} reached SSIM >= ${target} on every sample image (min ${chosen.ssimMin.toFixed(3)}, median ${chosen.ssimMedian.toFixed(3)})` };
  }
  const approximate = trials.filter((t) => t.how !== 'exact' && Number.isFinite(t.ssimMin));
  if (trials.every((t) => t.how === 'exact')) return { fellBack: true, note: `no approximate strategy is allowed; the plan is exact (${chosen.label})` };
  if (approximate.some((t) => t.verdict === 'not needed')) {
    return { fellBack: true, note: `exact ${chosen.label} is estimated cheaper than every approximate configuration that meets SSIM >= ${target}` };
  }
  if (approximate.length === 0) {
    return { fellBack: true, note: `every approximate configuration tried ran slower than exact; the plan is exact (${chosen.label})` };
  }
  // Drill-down over naive and over exact incremental compose the same heatmaps: of equals, name the cheaper.
  const best = approximate.reduce((b, t) => (t.ssimMin > b.ssimMin || (t.ssimMin === b.ssimMin && t.secondsPerImage < b.secondsPerImage) ? t : b));
  return {
    fellBack: true,
    note: `no approximate configuration reached SSIM >= ${target} on every sample image (best: ${best.label}, min ${best.ssimMin.toFixed(3)}); the plan falls back to exact ${chosen.label}`,
  };
}

function meanSeconds(runs: Runs): number {
  return runs.milliseconds.reduce((a, b) => a + b, 0) / runs.milliseconds.length / 1000;
}

export type ThresholdVerdict = 'passes' | 'fails' | 'slower';

/**
 * The lowest threshold (of `thresholds`, highest first) that passes on every sample, testing as
 * few as it can: SSIM falls and speed rises as τ does, so the first sample is searched by
 * bisection, and each further sample only moves the answer up until it passes there too. A
 * threshold slower than exact is no answer, and neither is any above it. Undefined if none passes.
 */
export async function lowestPassing<T>(thresholds: readonly T[], samples: number, test: (threshold: T, sample: number) => Promise<ThresholdVerdict>): Promise<T | undefined> {
  let lo = 0;
  let hi = thresholds.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const verdict = await test(thresholds[mid], 0);
    if (verdict === 'fails') hi = mid - 1;
    else {
      if (verdict === 'passes') best = mid;
      lo = mid + 1;
    }
  }
  for (let sample = 1; sample < samples && best >= 0; sample++) {
    for (;;) {
      const verdict = await test(thresholds[best], sample);
      if (verdict === 'passes') break;
      best = verdict === 'fails' ? best - 1 : -1;
      if (best < 0) break;
    }
  }
  if (best < 0) return undefined;
  // The answer must hold on every sample, including those searched before it moved up.
  for (let sample = 0; sample < samples; sample++) {
    if ((await test(thresholds[best], sample)) !== 'passes') return lowestPassing(thresholds.slice(0, best), samples, test);
  }
  return thresholds[best];
}

/** Operators for the configurations being tried, and their heatmaps on each sample image. */
class SampleRunner {
  private readonly operators = new Map<OperatorSpec, Promise<OcclusionOperator>>();
  private readonly results = new Map<OperatorSpec, ({ heatmap: Heatmap; elapsedMs: number } | undefined)[]>();
  private readonly slower = new Map<OperatorSpec, Set<number>>();

  constructor(
    private readonly samples: readonly SampleImage[],
    private readonly create: (spec: OperatorSpec) => Promise<OcclusionOperator>,
    private readonly describe: (spec: OperatorSpec) => string,
    private readonly onProgress: ((step: string) => void) | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  result(spec: OperatorSpec, sample: number) {
    return this.results.get(spec)?.[sample];
  }

  /** Sample images on which a run of `spec` was stopped for taking longer than its deadline. */
  slowerOn(spec: OperatorSpec): number {
    return this.slower.get(spec)?.size ?? 0;
  }

  run(spec: OperatorSpec, sample: number, what?: string): Promise<{ heatmap: Heatmap; elapsedMs: number }>;
  run(spec: OperatorSpec, sample: number, what: string | undefined, deadlineMs: number): Promise<{ heatmap: Heatmap; elapsedMs: number } | 'slower'>;
  /** With a deadline, a run still going after that many milliseconds is stopped between batches. */
  async run(spec: OperatorSpec, sample: number, what = this.describe(spec), deadlineMs?: number): Promise<{ heatmap: Heatmap; elapsedMs: number } | 'slower'> {
    const known = this.result(spec, sample);
    if (known) return known;
    if (this.slower.get(spec)?.has(sample)) return 'slower';
    checkInterrupted(this.signal);
    let operator = this.operators.get(spec);
    if (!operator) {
      operator = this.create(spec);
      this.operators.set(spec, operator);
    }
    this.onProgress?.(`${what} on sample image ${sample + 1} of ${this.samples.length}`);
    const stop = new AbortController();
    const forward = () => stop.abort();
    this.signal?.addEventListener('abort', forward);
    const start = performance.now();
    let heatmap: Heatmap;
    try {
      heatmap = await (await operator).run({
        ...this.samples[sample].task,
        signal: stop.signal,
        // Progress comes after every batch: where a deadline is passed, the next batch does not start.
        onProgress: deadlineMs === undefined ? undefined : () => { if (performance.now() - start > deadlineMs) stop.abort(); },
      });
    } catch (error) {
      if (this.signal?.aborted || !stop.signal.aborted || !isKryptonError(error) || error.code !== 'interrupted') throw error;
      const slower = this.slower.get(spec) ?? new Set<number>();
      slower.add(sample);
      this.slower.set(spec, slower);
      return 'slower';
    } finally {
      this.signal?.removeEventListener('abort', forward);
    }
    const result = { heatmap, elapsedMs: performance.now() - start };
    const list = this.results.get(spec) ?? [];
    list[sample] = result;
    this.results.set(spec, list);
    return result;
  }

  async runAll(spec: OperatorSpec, what?: string): Promise<Runs> {
    for (let i = 0; i < this.samples.length; i++) await this.run(spec, i, what);
    return this.runs(spec);
  }

  runs(spec: OperatorSpec): Runs {
    const list = this.results.get(spec) ?? [];
    return { heatmaps: list.map((r) => r!.heatmap), milliseconds: list.map((r) => r!.elapsedMs) };
  }

  async release(): Promise<void> {
    for (const operator of this.operators.values()) await (await operator.catch(() => undefined))?.release();
  }
}

/**
 * Naive's seconds per image, from timing one batch of positions on a sample image (the first batch
 * warms the session up and is not counted) and scaling to the grid: naive costs the same at every
 * position, so a batch tells it well, where running whole heatmaps would cost more than the rest of
 * the tuning together.
 */
async function naiveSeconds(sample: SampleImage, logical: LogicalOcclude, signal: AbortSignal | undefined): Promise<number> {
  const operator = await NaiveOcclusion.create(logical.model.model, logical.grid);
  try {
    const run = await operator.prepare({ ...sample.task, signal });
    const total = cellCount(logical.grid);
    const batch = Math.min(run.batchSize, total);
    const spread = (offset: number) => Int32Array.from({ length: batch }, (_, i) => Math.floor(((i + offset) * total) / (2 * batch)) % total);
    const values = new Float32Array(total);
    await run.evaluate(spread(0), values);
    const start = performance.now();
    await run.evaluate(spread(0.5), values);
    const perCell = (performance.now() - start) / 1000 / batch;
    return perCell * (total + 1);
  } finally {
    await operator.release();
  }
}

/** The sample's images decoded and prepared; an unreadable one is replaced by the next readable image. */
async function prepareSample(logical: LogicalOcclude, size: number): Promise<SampleImage[]> {
  const { spec } = logical.model;
  const wanted = chooseSample(logical.images, size);
  const used = new Set<string>();
  const samples: SampleImage[] = [];
  const problems: string[] = [];
  const candidates = [...wanted, ...logical.images];
  for (const ref of candidates) {
    if (samples.length === size) break;
    if (used.has(imageKey(ref))) continue;
    used.add(imageKey(ref));
    try {
      const prepared = await prepareImage(ref.path, spec, ref.frame);
      samples.push({ ref, task: { input: prepared.tensor, patchValues: patchValues(logical.color, prepared, spec), target: logical.target } });
    } catch (error) {
      if (!isKryptonError(error)) throw error;
      problems.push(messageOf(error));
    }
  }
  if (samples.length < size) {
    throw new KryptonError(`cannot tune on ${size} images: only ${samples.length} of ${logical.images.length} could be read (${problems.join('; ')})`, 'image');
  }
  return samples;
}
