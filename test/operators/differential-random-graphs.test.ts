import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomCnn } from '../../src/zoo/random-cnn';
import { randomGraphCase, runRandomGraphCase, shrinkRandomGraphCase } from '../support/random-graph-case';
import type { CaseOutcome, RandomGraphCase } from '../support/random-graph-case';
import { graphFeatures } from '../zoo/graph-features';

/**
 * KRYPTON_RANDOM_GRAPH_SEEDS=10000 for the long run; KRYPTON_RANDOM_GRAPH_FIRST_SEED starts it
 * elsewhere, so that several processes can share a long run.
 */
const SEEDS = Number(process.env.KRYPTON_RANDOM_GRAPH_SEEDS ?? 120);
const FIRST_SEED = Number(process.env.KRYPTON_RANDOM_GRAPH_FIRST_SEED ?? 0);
/** Failing cases, shrunk; every one is replayed on every run. */
const REGRESSIONS = join(__dirname, 'random-graph-regressions.json');

interface Regression {
  readonly found: string;
  readonly shrinkSteps: readonly string[];
  readonly testCase: RandomGraphCase;
}

const readRegressions = (): Regression[] => JSON.parse(readFileSync(REGRESSIONS, 'utf8')) as Regression[];

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-random-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (testCase: RandomGraphCase) => runRandomGraphCase(testCase, dir);

describe('incremental inference equals full inference on random CNN graphs', () => {
  // A long run must outlast jest's default timeout: cut off, it would go on after the temporary
  // folder is gone and keep every later seed as a failing case.
  it(`holds for ${SEEDS} seeds from ${FIRST_SEED}, with random patches, colours, strides and regions`, async () => {
    const failures: string[] = [];
    let incrementalSegments = 0;
    const started = Date.now();
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const testCase = randomGraphCase(seed);
      const outcome = await run(testCase);
      if (outcome.kind === 'pass') {
        incrementalSegments += outcome.incrementalSegments;
      } else {
        failures.push(await keepShrunk(testCase, outcome));
      }
      if (SEEDS > 1000 && (seed - FIRST_SEED + 1) % 500 === 0) {
        process.stderr.write(`random graphs: ${seed - FIRST_SEED + 1} of ${SEEDS} in ${((Date.now() - started) / 1000).toFixed(0)} s, ${failures.length} failing\n`);
      }
    }
    expect(failures).toEqual([]);
    // The property only means something if the graphs really run incrementally.
    expect(incrementalSegments).toBeGreaterThan(SEEDS * 3);
  }, Math.max(120_000, SEEDS * 2_000));

  it('holds for every kept regression case', async () => {
    const failures: string[] = [];
    for (const { found, testCase } of readRegressions()) {
      const outcome = await run(testCase);
      if (outcome.kind !== 'pass') failures.push(`${found}: ${outcome.kind}: ${outcome.detail}`);
    }
    expect(failures).toEqual([]);
  });
});

/** Shrinks a failing case, adds it to the regressions file and says what failed. */
async function keepShrunk(testCase: RandomGraphCase, outcome: Exclude<CaseOutcome, { kind: 'pass' }>): Promise<string> {
  const shrunk = await shrinkRandomGraphCase(testCase, run);
  const found = `seed ${testCase.seed}: ${outcome.kind}`;
  const regressions = readRegressions();
  if (!regressions.some((r) => JSON.stringify(r.testCase) === JSON.stringify(shrunk.testCase))) {
    regressions.push({ found, shrinkSteps: shrunk.steps, testCase: shrunk.testCase });
    writeFileSync(REGRESSIONS, `${JSON.stringify(regressions, null, 2)}\n`);
  }
  const detail = shrunk.outcome.kind === 'pass' ? outcome.detail : shrunk.outcome.detail;
  return `${found}: ${outcome.detail}\n  shrunk (${shrunk.steps.join(', ') || 'nothing'}) and kept in ${REGRESSIONS}: ${detail}`;
}

describe('the random graph cases', () => {
  it('vary the colour, stride, region and batch size, and keep the graph the seed draws', () => {
    const cases = Array.from({ length: 200 }, (_, seed) => randomGraphCase(seed));
    expect(new Set(cases.map((c) => c.color.join())).size).toBeGreaterThan(100);
    expect(new Set(cases.map((c) => `${c.stride.x}x${c.stride.y}`)).size).toBeGreaterThanOrEqual(12);
    expect(cases.filter((c) => c.region).length).toBeGreaterThan(30);
    expect(cases.filter((c) => c.batchSize !== undefined).length).toBeGreaterThan(20);
    for (const c of cases.slice(0, 20)) {
      const [channels] = randomCnn(c.seed).inputShape;
      expect(c.color).toHaveLength(channels);
      expect(c.generator).toEqual({});
    }
  });

  it('shrink greedily to a small graph that still fails the same way', async () => {
    // A stand-in failure, "the graph has a MaxPool", found without running anything.
    const hasMaxPool = async (c: RandomGraphCase): Promise<CaseOutcome> =>
      graphFeatures(randomCnn(c.seed, c.generator).model).has('MaxPool')
        ? { kind: 'mismatch', detail: 'has a MaxPool' }
        : { kind: 'pass', incrementalSegments: 0 };
    const seed = Array.from({ length: 400 }, (_, s) => s).find((s) => {
      const cnn = randomCnn(s);
      return cnn.drawnLayers >= 6 && cnn.inputShape[0] === 3 && graphFeatures(cnn.model).has('MaxPool');
    })!;
    const original = randomGraphCase(seed);
    const shrunk = await shrinkRandomGraphCase(original, hasMaxPool, 200);
    expect(shrunk.outcome.kind).toBe('mismatch');
    const cnn = randomCnn(shrunk.testCase.seed, shrunk.testCase.generator);
    expect(graphFeatures(cnn.model).has('MaxPool')).toBe(true);
    // Greedy, so not always the smallest: a layer left out changes what the next one draws.
    expect(cnn.description.split(' | ').length - 2).toBeLessThanOrEqual(2);
    expect(shrunk.steps.filter((step) => step.startsWith('skip layer')).length).toBeGreaterThanOrEqual(randomCnn(seed).drawnLayers - 2);
    expect(cnn.inputShape[1] * cnn.inputShape[2]).toBeLessThan(randomCnn(seed).inputShape[1] * randomCnn(seed).inputShape[2]);
    expect(shrunk.testCase.patch).toEqual({ width: 1, height: 1 });
    expect(shrunk.steps.length).toBeGreaterThan(3);
    expect(await hasMaxPool(shrunk.testCase)).toEqual({ kind: 'mismatch', detail: 'has a MaxPool' });
  });
});
