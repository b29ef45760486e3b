// Operators computed by worker threads give the heatmap the same operator gives in this thread.
import { join } from 'node:path';
import { loadModel, loadModelBytes, type LoadedModel } from '../../src/model/load-model.js';
import { occlusionGrid } from '../../src/model/occlusion-grid.js';
import { createOperator, EXACT_INCREMENTAL, NAIVE, type OperatorSpec } from '../../src/operators/create-operator.js';
import type { Heatmap, OcclusionTask } from '../../src/operators/occlusion-task.js';
import { PooledCellOperator, poolSize } from '../../src/operators/worker-pool.js';
import { DATA, expectSameHeatmap } from '../support/heatmaps';
import { randomInput } from '../support/random-input';
import { tinyClassifier } from '../support/tiny-models';

let model: LoadedModel;
const grid = () => occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 16, y: 16 } });
const task = (): OcclusionTask => ({ input: randomInput(3 * 224 * 224, 5), patchValues: new Float32Array(3), target: 'predicted' });

beforeAll(async () => {
  model = await loadModel(join(DATA, 'models', 'cxr-appa-squeezenet1.1.onnx'));
});

async function heatmap(spec: OperatorSpec, workers: number, given = task()): Promise<Heatmap> {
  const operator = await createOperator(spec, model, grid(), { workers });
  try {
    return await operator.run(given);
  } finally {
    await operator.release();
  }
}

describe('an operator on a pool of workers', () => {
  test('exact incremental on two workers equals naive and incremental in this thread', async () => {
    const [pooled, local, naive] = [await heatmap(EXACT_INCREMENTAL, 2), await heatmap(EXACT_INCREMENTAL, 0), await heatmap(NAIVE, 0)];
    expect(pooled.classIndex).toBe(local.classIndex);
    expect(pooled.baseProbability).toBeCloseTo(local.baseProbability, 6);
    expectSameHeatmap(local.values, pooled.values, 'pooled incremental vs incremental');
    expectSameHeatmap(naive.values, pooled.values, 'pooled incremental vs naive');
    expect(pooled.batchSize).toBeLessThanOrEqual(16);
  });

  test('naive, a threshold and a drill-down on workers equal the same operator in this thread', async () => {
    const specs: OperatorSpec[] = [
      NAIVE,
      { kind: 'incremental', threshold: 0.6 },
      { kind: 'drilldown', shape: { factorX: 2, factorY: 2, fraction: 0.3 }, inner: EXACT_INCREMENTAL },
    ];
    for (const spec of specs) {
      // The same batches as alone: a thresholded heatmap depends on how cells are batched.
      const given = { ...task(), batchSize: 8 };
      expectSameHeatmap((await heatmap(spec, 0, given)).values, (await heatmap(spec, 2, given)).values, JSON.stringify(spec));
    }
  });

  test('progress counts every cell, and a stop between batches is an interruption', async () => {
    const operator = await createOperator(EXACT_INCREMENTAL, model, grid(), { workers: 2 });
    try {
      const seen: number[] = [];
      await operator.run({ ...task(), batchSize: 16, onProgress: (done) => seen.push(done) });
      expect(seen[seen.length - 1]).toBe(196);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      const stop = new AbortController();
      const stopped = operator.run({ ...task(), batchSize: 16, signal: stop.signal, onProgress: () => stop.abort() });
      await expect(stopped).rejects.toMatchObject({ code: 'interrupted' });
      // The pool goes on serving the query after a stop.
      expect((await operator.run(task())).values).toHaveLength(196);
    } finally {
      await operator.release();
    }
  });

  test('operators held at once share the workers, each with its own image', async () => {
    const exact = await createOperator(EXACT_INCREMENTAL, model, grid(), { workers: 2 });
    const naive = await createOperator(NAIVE, model, grid(), { workers: 2 });
    try {
      const other = { ...task(), input: randomInput(3 * 224 * 224, 9) };
      const [a, b] = await Promise.all([exact.run(task()), naive.run(other)]);
      expectSameHeatmap((await heatmap(EXACT_INCREMENTAL, 0)).values, a.values, 'exact alongside');
      expectSameHeatmap((await heatmap(NAIVE, 0, other)).values, b.values, 'naive alongside');
    } finally {
      await exact.release();
      await naive.release();
    }
  });

  test('a one-logit sigmoid classifier: pooled, incremental and naive agree', async () => {
    const sigmoidModel = await loadModelBytes(tinyClassifier({ classes: 1, size: 48, bias: 0.3 }), 'one-logit.onnx');
    expect(sigmoidModel.output.activation).toBe('sigmoid');
    const sigmoidGrid = occlusionGrid({ image: { width: 48, height: 48 }, patch: { width: 8, height: 8 }, stride: { x: 4, y: 4 } });
    const given = { input: randomInput(3 * 48 * 48, 3), patchValues: new Float32Array(3), target: 'predicted' as const, batchSize: 8 };
    const results: Heatmap[] = [];
    for (const [spec, workers] of [[NAIVE, 0], [EXACT_INCREMENTAL, 0], [EXACT_INCREMENTAL, 2], [NAIVE, 2]] as const) {
      const operator = await createOperator(spec, sigmoidModel, sigmoidGrid, { workers });
      try {
        results.push(await operator.run(given));
      } finally {
        await operator.release();
      }
    }
    const [naive, ...others] = results;
    expect(Math.max(...naive.values) - Math.min(...naive.values)).toBeGreaterThan(1e-4);
    for (const [i, other] of others.entries()) {
      expect(other.baseProbability).toBeCloseTo(naive.baseProbability, 6);
      expectSameHeatmap(naive.values, other.values, `sigmoid case ${i + 1}`);
    }
  });

  test("a worker's error reaches the caller as the operator's own", async () => {
    const operator = await createOperator(NAIVE, model, grid(), { workers: 2 });
    try {
      await expect(operator.run({ ...task(), batchSize: 0 })).rejects.toThrow('batch size must be a positive integer, got 0');
    } finally {
      await operator.release();
    }
  });

  test('workers keep a model and its sessions for the next operator on it, and let the oldest of three models go', async () => {
    const pooled = async (on: LoadedModel, onGrid = grid(), given = task()) => {
      const operator = await createOperator(EXACT_INCREMENTAL, on, onGrid, { workers: 2 });
      try {
        return { heatmap: await operator.run(given), sessionsMade: (operator as PooledCellOperator).sessionsMade };
      } finally {
        await operator.release();
      }
    };
    const first = await pooled(model);
    const again = await pooled(model);
    expect(again.sessionsMade).toBe(0);
    expectSameHeatmap(first.heatmap.values, again.heatmap.values, 'from kept sessions');
    expectSameHeatmap((await heatmap(EXACT_INCREMENTAL, 0)).values, again.heatmap.values, 'kept sessions vs this thread');

    // Two other models push the first out of the workers: it is rebuilt, with sessions of its own again.
    const small = occlusionGrid({ image: { width: 48, height: 48 }, patch: { width: 8, height: 8 }, stride: { x: 8, y: 8 } });
    const smallTask = { input: randomInput(3 * 48 * 48, 4), patchValues: new Float32Array(3), target: 'predicted' as const };
    for (const bias of [0.1, 0.2]) {
      const other = await loadModelBytes(tinyClassifier({ size: 48, bias }), `tiny-${bias}.onnx`);
      expect((await pooled(other, small, smallTask)).sessionsMade).toBeGreaterThan(0);
    }
    const rebuilt = await pooled(model);
    expect(rebuilt.sessionsMade).toBeGreaterThan(0);
    expectSameHeatmap(first.heatmap.values, rebuilt.heatmap.values, 'after being let go');
  });

  test('small jobs stay in this thread; large ones go to a pool when there are cores for it', () => {
    expect(poolSize(model, occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 16, y: 16 } }), NAIVE)).toBe(0);
    const whole = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 2, y: 2 } });
    const { availableParallelism, freemem } = require('node:os');
    if (availableParallelism() >= 2 && freemem() > 2 * 1024 ** 3) expect(poolSize(model, whole, EXACT_INCREMENTAL)).toBe(2);
    else expect(poolSize(model, whole, EXACT_INCREMENTAL)).toBeLessThan(2);
  });
});
