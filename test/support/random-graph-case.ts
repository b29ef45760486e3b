import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import type { Rectangle } from '../../src/model/occlusion-grid';
import { randomCnn } from '../../src/zoo/random-cnn';
import type { RandomCnnOptions } from '../../src/zoo/random-cnn';
import { SeededRandom } from '../../src/zoo/seeded-random';
import { NaiveOcclusion } from '../../src/operators/naive-inference';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import { heatmapDifference } from './heatmaps';
import { messageOf } from '../../src/errors';
import { randomInput } from './random-input';

/**
 * One differential case: a random graph (its seed and generator options) and the occlusion run on
 * it. Everything is plain data, so a failing case, shrunk, can be kept as JSON and replayed.
 */
export interface RandomGraphCase {
  readonly seed: number;
  readonly generator: Pick<RandomCnnOptions, 'skipLayers' | 'maxChannels' | 'input'>;
  readonly patch: { readonly width: number; readonly height: number };
  readonly stride: { readonly x: number; readonly y: number };
  readonly region?: Rectangle;
  /** The patch in model space, one value per input channel. */
  readonly color: readonly number[];
  /** Positions per inference call; the operators choose when absent. */
  readonly batchSize?: number;
}

export type CaseOutcome =
  | { readonly kind: 'pass'; readonly incrementalSegments: number }
  /** Both ran, and the heatmaps (or the predicted class) differ beyond the tolerance. */
  | { readonly kind: 'mismatch'; readonly detail: string }
  /** Something threw: the generator, the loader, an operator. */
  | { readonly kind: 'error'; readonly detail: string };

/**
 * The case for a seed: its graph as drawn, with a patch of 1–9 pixels, strides 1–4 (every fourth
 * seed stride 1, which visits every border and corner position), a random colour, now and then a
 * REGION and a fixed batch size. Drawn from a stream of its own, so the graph is `randomCnn(seed)`.
 */
export function randomGraphCase(seed: number): RandomGraphCase {
  const [channels, height, width] = randomCnn(seed).inputShape;
  const random = new SeededRandom(seed ^ 0x5f3759df);
  const patch = { width: random.int(1, Math.min(width, 9)), height: random.int(1, Math.min(height, 9)) };
  const stride = seed % 4 === 0 ? { x: 1, y: 1 } : { x: random.int(1, 4), y: random.int(1, 4) };
  let region: Rectangle | undefined;
  if (random.chance(0.3)) {
    const regionWidth = random.int(patch.width, width);
    const regionHeight = random.int(patch.height, height);
    region = { x: random.int(0, width - regionWidth), y: random.int(0, height - regionHeight), width: regionWidth, height: regionHeight };
  }
  const palette = random.weighted<'gray' | 'zero' | 'extreme' | 'random'>([['gray', 1], ['zero', 1], ['extreme', 1], ['random', 3]]);
  const color = Array.from({ length: channels }, () => {
    if (palette === 'gray') return 0.25;
    if (palette === 'zero') return 0;
    if (palette === 'extreme') return random.pick([-2.5, 2.5]);
    return Math.round(random.uniform(-2, 2) * 1000) / 1000;
  });
  const batchSize = random.chance(0.25) ? random.pick([1, 3, 7]) : undefined;
  return { seed, generator: {}, patch, stride, ...(region && { region }), color, ...(batchSize && { batchSize }) };
}

/** float32's spacing at 1: the difference of two probabilities that differ in their last bit. */
const FLOAT32_EPSILON = 2 ** -23;

/**
 * Float32 tolerance: max abs difference ≤ 1e-4 and ≤ 1e-3 of the exact heatmap's range, that
 * second bound never below float32's summation noise on a probability, ε·√n for n the values of
 * one input image. A (nearly) flat heatmap makes 1e-3 of its range smaller than float32 resolves,
 * and the incremental operator runs the head in a session of its own, which sums its thousands of
 * terms in another order than full inference does: flat heatmaps came out 1.5e-6 (n = 3105) and
 * 2.8e-6 (n = 5760) off, one of range 1.9e-4 at probabilities near 1/15 1.4e-6 (n = 5043).
 */
export function withinTolerance(maxAbs: number, range: number, terms: number): boolean {
  return maxAbs <= Math.min(1e-4, Math.max(1e-3 * range, FLOAT32_EPSILON * Math.sqrt(terms)));
}

/** Runs naive and incremental inference on the case's graph and compares their heatmaps. */
export async function runRandomGraphCase(testCase: RandomGraphCase, dir: string): Promise<CaseOutcome> {
  let stage = 'generate';
  try {
    const cnn = randomCnn(testCase.seed, testCase.generator);
    const file = join(dir, `random-${testCase.seed}.onnx`);
    writeFileSync(file, cnn.model);
    stage = 'load';
    const model = await loadModel(file);
    const [channels, height, width] = cnn.inputShape;
    stage = 'grid';
    const grid = occlusionGrid({ image: { width, height }, patch: testCase.patch, stride: testCase.stride, region: testCase.region });
    const task = {
      input: randomInput(channels * height * width, testCase.seed),
      patchValues: Float32Array.from(testCase.color),
      target: 'predicted' as const,
      ...(testCase.batchSize !== undefined && { batchSize: testCase.batchSize }),
    };
    stage = 'run';
    const naiveOp = await NaiveOcclusion.create(model, grid);
    const incrementalOp = await IncrementalOcclusion.create(model, grid);
    try {
      const naive = await naiveOp.run(task);
      const incremental = await incrementalOp.run(task);
      const { maxAbs, range } = heatmapDifference(naive.values, incremental.values);
      if (incremental.classIndex !== naive.classIndex) {
        return { kind: 'mismatch', detail: `class ${incremental.classIndex} instead of ${naive.classIndex}; ${cnn.description}` };
      }
      if (!withinTolerance(maxAbs, range, channels * height * width)) {
        return { kind: 'mismatch', detail: `heatmaps differ by ${maxAbs} (range ${range}); ${cnn.description}` };
      }
      return { kind: 'pass', incrementalSegments: incrementalOp.plan.segments.length };
    } finally {
      await naiveOp.release();
      await incrementalOp.release();
    }
  } catch (error) {
    return { kind: 'error', detail: `${stage}: ${messageOf(error)}` };
  }
}

/** What one shrinking step did, for the record kept with the case. */
export interface ShrunkCase {
  readonly testCase: RandomGraphCase;
  readonly steps: readonly string[];
  readonly outcome: CaseOutcome;
}

/**
 * Greedy shrinking of a failing case: drop layers one at a time, then cap the channels, then take
 * one input channel and halve the image, then simplify the occlusion (no region, a 1×1 patch, no
 * fixed batch), keeping every change after which the case still fails the same way (a mismatch
 * stays a mismatch, an error the same error). Repeats until a pass changes nothing or `budget`
 * runs are spent.
 */
export async function shrinkRandomGraphCase(
  failing: RandomGraphCase,
  run: (testCase: RandomGraphCase) => Promise<CaseOutcome>,
  budget = 80,
): Promise<ShrunkCase> {
  let current = failing;
  let outcome = await run(current);
  if (outcome.kind === 'pass') return { testCase: current, steps: [], outcome };
  const steps: string[] = [];
  let runs = 1;
  const sameFailure = (candidate: CaseOutcome) =>
    candidate.kind === outcome.kind && (candidate.kind !== 'error' || candidate.detail.split(':')[0] === (outcome as { detail: string }).detail.split(':')[0]);
  const attempt = async (step: string, candidate: RandomGraphCase | undefined): Promise<boolean> => {
    if (candidate === undefined || runs >= budget) return false;
    runs++;
    const result = await run(candidate);
    if (!sameFailure(result)) return false;
    current = candidate;
    outcome = result;
    steps.push(step);
    return true;
  };
  for (let pass = 0; pass < 3; pass++) {
    const before = steps.length;
    const drawn = drawnLayerCount(current);
    for (let layer = drawn - 1; layer >= 0; layer--) {
      const skipped = current.generator.skipLayers ?? [];
      if (skipped.includes(layer)) continue;
      await attempt(`skip layer ${layer}`, withGenerator(current, { skipLayers: [...skipped, layer].sort((a, b) => a - b) }));
    }
    for (const most of [1, 2, 4, 8]) {
      if ((current.generator.maxChannels ?? Infinity) <= most) break;
      if (await attempt(`at most ${most} channels`, withGenerator(current, { maxChannels: most }))) break;
    }
    const [channels, height, width] = inputOf(current);
    if (channels === 3) await attempt('one input channel', resized(current, 1, height, width));
    for (let shrinking = true; shrinking;) {
      const [c, h, w] = inputOf(current);
      shrinking = (await attempt(`input ${Math.ceil(h / 2)}x${w}`, resized(current, c, Math.ceil(h / 2), w)))
        || (await attempt(`input ${h}x${Math.ceil(w / 2)}`, resized(current, c, h, Math.ceil(w / 2))));
    }
    if (current.region) await attempt('no region', { ...current, region: undefined });
    if (current.batchSize !== undefined) await attempt('batch size chosen', { ...current, batchSize: undefined });
    if (current.patch.width * current.patch.height > 1) await attempt('patch 1x1', { ...current, patch: { width: 1, height: 1 } });
    if (steps.length === before) break;
  }
  return { testCase: current, steps, outcome };
}

function drawnLayerCount(testCase: RandomGraphCase): number {
  return randomCnn(testCase.seed, testCase.generator).drawnLayers;
}

function inputOf(testCase: RandomGraphCase): [number, number, number] {
  return randomCnn(testCase.seed, testCase.generator).inputShape;
}

function withGenerator(testCase: RandomGraphCase, change: RandomGraphCase['generator']): RandomGraphCase {
  return { ...testCase, generator: { ...testCase.generator, ...change } };
}

/** The case with another input; the patch, region and colour are cut to fit it. */
function resized(testCase: RandomGraphCase, channels: number, height: number, width: number): RandomGraphCase | undefined {
  if (height < 4 || width < 4) return undefined;
  const patch = { width: Math.min(testCase.patch.width, width), height: Math.min(testCase.patch.height, height) };
  let region = testCase.region;
  if (region && (region.x + region.width > width || region.y + region.height > height)) region = undefined;
  return {
    ...withGenerator(testCase, { input: { channels: channels === 1 ? 1 : 3, height, width } }),
    patch,
    region,
    color: testCase.color.slice(0, channels),
  };
}
