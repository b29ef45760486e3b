// How a model's output becomes class probabilities: one-output (sigmoid) heads, final Sigmoid and
// Softmax nodes, outputs declared as probabilities that are not, and models with several outputs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { open } from '../../src/krypton';
import { prepareImage } from '../../src/image/prepare-image';
import { loadModel, type LoadModelOptions } from '../../src/model/load-model';
import { interpretOutput, probabilityProblem } from '../../src/model/model-output';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { NaiveOcclusion } from '../../src/operators/naive-inference';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import { temporaryFolder } from '../image/image-fixtures';
import { expectSameHeatmap, runBoth } from '../support/heatmaps';
import { tinyClassifier, type TinyModelOptions } from '../support/tiny-models';
import { oneLineRejection } from '../support/one-line-rejection';

const folder = temporaryFolder('outputs');
afterAll(() => folder.remove());

function write(name: string, options: TinyModelOptions): string {
  const path = join(folder.path, `${name}.onnx`);
  writeFileSync(path, tinyClassifier(options));
  return path;
}

const SIZE = 16;
const image = () => new Float32Array(3 * SIZE * SIZE).map((_, i) => Math.sin(i / 3) * 2);
const grid = occlusionGrid({ image: { width: SIZE, height: SIZE }, patch: { width: 4, height: 4 }, stride: { x: 2, y: 2 } });

/** The graph's own output for one image, computed by onnxruntime from the file alone. */
async function rawOutput(path: string, input: Float32Array, output = 'logits'): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path);
  try {
    const result = await session.run({ image: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) }, [output]);
    return result[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('choosing the activation', () => {
  it.each([
    // ending, said, classes → activation, recorded kind
    ['scores', undefined, 3, 'softmax', 'logits'],
    ['scores', undefined, 1, 'sigmoid', 'sigmoid'],
    ['scores', 'logits', 3, 'softmax', 'logits'],
    ['scores', 'sigmoid', 1, 'sigmoid', 'sigmoid'],
    ['scores', 'sigmoid', 5, 'sigmoid', 'sigmoid'],
    ['scores', 'probabilities', 3, 'none', 'probabilities'],
    ['Softmax', undefined, 3, 'none', 'probabilities'],
    ['Softmax', 'probabilities', 3, 'none', 'probabilities'],
    ['Sigmoid', undefined, 1, 'none', 'probabilities'],
    ['Sigmoid', 'sigmoid', 4, 'none', 'sigmoid'],
    ['Sigmoid', 'probabilities', 4, 'none', 'probabilities'],
    ['LogSoftmax', undefined, 3, 'exp', 'logits'],
    ['LogSoftmax', 'logits', 3, 'exp', 'logits'],
  ] as const)('%s said %s with %i classes: %s', (ending, said, classes, activation, kind) => {
    expect(interpretOutput('m.onnx', ending, said, classes)).toMatchObject({ activation, kind });
  });

  it.each([
    ['scores', 'logits', 1, "model m.onnx: OUTPUT LOGITS, but the model has one output, and softmax over one value is always 1; use OUTPUT SIGMOID (its sigmoid is the probability of class 0)"],
    ['Softmax', 'logits', 3, 'model m.onnx: OUTPUT LOGITS, but the graph ends in Softmax, so its outputs are probabilities already; use OUTPUT PROBABILITIES or leave OUTPUT out'],
    ['Softmax', 'sigmoid', 3, 'model m.onnx: OUTPUT SIGMOID, but the graph ends in Softmax, so its outputs are probabilities already; use OUTPUT PROBABILITIES or leave OUTPUT out'],
    ['Sigmoid', 'logits', 1, 'model m.onnx: OUTPUT LOGITS, but the graph ends in Sigmoid, so its outputs are probabilities already; use OUTPUT SIGMOID or PROBABILITIES, or leave OUTPUT out'],
    ['LogSoftmax', 'sigmoid', 3, 'model m.onnx: OUTPUT SIGMOID, but the graph ends in LogSoftmax, so its outputs are log-probabilities; use OUTPUT LOGITS or leave OUTPUT out'],
  ] as const)('refuses %s said %s with %i classes', (ending, said, classes, message) => {
    expect(() => interpretOutput('m.onnx', ending, said, classes)).toThrow(message);
  });

  it('finds what is not probabilities, with the values it found', () => {
    expect(probabilityProblem(Float32Array.of(0.2, 0.3, 0.5), 3, 0, 'distribution')).toBeUndefined();
    expect(probabilityProblem(Float32Array.of(0.2, 0.3, 0.5, -0.08, 1.2, 0.1), 3, 1, 'distribution')).toBe('values -0.08..1.2, sum 1.22');
    expect(probabilityProblem(Float32Array.of(0.2, 0.3, 0.4), 3, 0, 'distribution')).toBe('values 0.2..0.4, sum 0.9');
    // Independent sigmoids need not sum to 1; one value has no sum at all.
    expect(probabilityProblem(Float32Array.of(0.9, 0.8), 2, 0, 'unit-interval')).toBeUndefined();
    expect(probabilityProblem(Float32Array.of(-0.082), 1, 0, 'distribution')).toBe('value -0.082');
    expect(probabilityProblem(Float32Array.of(1.00001), 1, 0, 'distribution')).toBeUndefined();
  });
});

describe('single-output classifiers', () => {
  it('take the sigmoid of their one logit by default, with a note, and refuse softmax over it', async () => {
    const path = write('one-logit', { classes: 1, bias: -0.7 });
    const model = await loadModel(path);
    expect(model.output).toMatchObject({ classes: 1, activation: 'sigmoid', kind: 'sigmoid' });
    expect(model.output.notes).toEqual(['one output: its sigmoid is the probability of class 0 (OUTPUT SIGMOID)']);
    expect((await loadModel(path, { outputKind: 'sigmoid' })).output.notes).toEqual([]);
    expect(await oneLineRejection(loadModel(path, { outputKind: 'logits' }))).toMatch(/softmax over one value is always 1; use OUTPUT SIGMOID/);

    const input = image();
    const { naive, incremental } = await runBoth(model, grid, { input, patchValues: new Float32Array(3), target: 'predicted' });
    expect(naive.classIndex).toBe(0);
    expect(naive.baseProbability).toBeCloseTo(sigmoid((await rawOutput(path, input))[0]), 6);
    // Not the softmax of one value: a heatmap that varies, strictly inside (0, 1).
    expect(Math.max(...naive.values) - Math.min(...naive.values)).toBeGreaterThan(1e-3);
    expect(naive.values.every((v) => v > 0 && v < 1)).toBe(true);
    expectSameHeatmap(naive.values, incremental.values, 'one logit');
  });

  it('refuse OUTPUT PROBABILITIES when the logit is not a probability', async () => {
    const path = write('one-logit-negative', { classes: 1, bias: -0.082 });
    expect(await oneLineRejection(loadModel(path, { outputKind: 'probabilities' }))).toBe(
      `model ${path}: OUTPUT PROBABILITIES, but its output on a blank test image is not probabilities (value -0.082); use OUTPUT LOGITS or OUTPUT SIGMOID`,
    );
  });

  it('ending in Sigmoid are read as they are, never through a second sigmoid', async () => {
    const path = write('sigmoid-node', { classes: 1, head: 'sigmoid', bias: 0.4 });
    const model = await loadModel(path);
    expect(model.output).toMatchObject({ activation: 'none', kind: 'probabilities', check: 'unit-interval', notes: [] });
    expect((await loadModel(path, { outputKind: 'sigmoid' })).output).toMatchObject({
      activation: 'none', notes: ['the graph ends in Sigmoid: its outputs are used as they are (not put through a second sigmoid)'],
    });
    expect(await oneLineRejection(loadModel(path, { outputKind: 'logits' }))).toMatch(/the graph ends in Sigmoid, so its outputs are probabilities already/);
    const input = image();
    const { naive, incremental } = await runBoth(model, grid, { input, patchValues: new Float32Array(3), target: 'predicted' });
    expect(naive.baseProbability).toBeCloseTo((await rawOutput(path, input, 'probabilities'))[0], 6);
    expectSameHeatmap(naive.values, incremental.values, 'final Sigmoid');
  });

  it('with several sigmoid outputs (multi-label) give each class its own sigmoid', async () => {
    const path = write('multi-label', { classes: 4 });
    const model = await loadModel(path, { outputKind: 'sigmoid' });
    const input = image();
    const raw = await rawOutput(path, input);
    const { naive, incremental } = await runBoth(model, grid, { input, patchValues: new Float32Array(3), target: 2 });
    expect(naive.baseProbability).toBeCloseTo(sigmoid(raw[2]), 6);
    expectSameHeatmap(naive.values, incremental.values, 'multi-label class 2');
  });
});

describe('outputs declared to be probabilities', () => {
  it('are checked on the clean image, by the naive and the incremental operator alike', async () => {
    // A blank image gives exactly the biases, a distribution; a real image gives other scores.
    const path = write('fake-probabilities', { classes: 3, bias: [0.2, 0.3, 0.5] });
    const model = await loadModel(path, { outputKind: 'probabilities' });
    expect(model.output).toMatchObject({ activation: 'none', check: 'distribution' });
    const task = { input: image(), patchValues: new Float32Array(3), target: 'predicted' as const };
    for (const create of [NaiveOcclusion.create, IncrementalOcclusion.create]) {
      const operator = await create(model, grid);
      try {
        expect(await oneLineRejection(operator.run(task))).toMatch(
          new RegExp(`^model ${path}: OUTPUT PROBABILITIES, but its output on the clean image is not probabilities \\(values -?[\\d.]+\\.\\.-?[\\d.]+, sum -?[\\d.]+\\); use OUTPUT LOGITS or OUTPUT SIGMOID$`),
        );
      } finally {
        await operator.release();
      }
    }
  });
});

describe('models with several outputs', () => {
  const load = (path: string, options: LoadModelOptions = {}) => loadModel(path, options);

  it('use the first when it is the class vector, and say so', async () => {
    const path = write('logits-then-probabilities', { head: 'logits-then-probabilities' });
    const model = await load(path);
    expect(model.output).toMatchObject({ name: 'logits', activation: 'softmax', outputs: ['logits', 'probabilities'] });
    expect(model.output.notes).toEqual(["the model has 2 outputs ('logits', 'probabilities'): the first, 'logits', is used (OUTPUT NAME chooses another)"]);
    const named = await load(path, { outputName: 'probabilities' });
    expect(named.output).toMatchObject({ name: 'probabilities', activation: 'none', notes: [] });
    // Only the chosen output is computed.
    expect(named.graph.model.graph!.output!.map((o) => o.name)).toEqual(['probabilities']);
    const task = { input: image(), patchValues: new Float32Array(3), target: 1 };
    const viaLogits = await runBoth(model, grid, task);
    const viaProbabilities = await runBoth(named, grid, task);
    expectSameHeatmap(viaLogits.naive.values, viaProbabilities.naive.values, 'softmax of logits vs the Softmax output');
    expectSameHeatmap(viaProbabilities.naive.values, viaProbabilities.incremental.values, 'named output');
  });

  it('refuse a first output that is not a class vector, naming the one to choose', async () => {
    const path = write('features-then-logits', { head: 'features-then-logits', classes: 1 });
    expect(await oneLineRejection(load(path))).toBe(
      `${path} has 2 outputs ('features', 'logits') and the first is not a class vector: its output 'features' has shape [1, 4, 8, 8], expected [batch, classes]; choose the class scores with OUTPUT NAME 'logits'`,
    );
    const model = await load(path, { outputName: 'logits', outputKind: 'sigmoid' });
    expect(model.output).toMatchObject({ name: 'logits', classes: 1, activation: 'sigmoid' });
    expect(await oneLineRejection(load(path, { outputName: 'scores' }))).toBe(`${path} has no output 'scores' (its outputs: 'features', 'logits')`);
  });
});

describe('through CREATE MODEL, OCCLUDE and EXPLAIN', () => {
  it('a one-logit model is stored as SIGMOID and its heatmap is the sigmoid of the logit', async () => {
    const path = write('engine-one-logit', { classes: 1, bias: -0.3 });
    const two = write('engine-two-outputs', { head: 'features-then-logits', classes: 1, bias: 0.5 });
    const png = join(folder.path, 'image.png');
    const pixels = new Uint8Array(SIZE * SIZE * 3).map((_, i) => (i * 53) % 256);
    await sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(png);
    const db = await open(':memory:');
    try {
      const created = await db.query(`CREATE MODEL lesion FROM '${path}' NORMALIZE NONE`);
      expect(created.message).toBe('model lesion created (16x16, rgb, sigmoid; one output: its sigmoid is the probability of class 0 (OUTPUT SIGMOID))');
      const { rows: [entry] } = await db.query(`SELECT output_kind, output_name FROM krypton_models WHERE name = 'lesion'`);
      expect(entry).toEqual({ output_kind: 'sigmoid', output_name: null });
      const occluded = await db.query(`OCCLUDE ('${png}') USING MODEL lesion WITH PATCH 4 STRIDE 2 STRATEGY INCREMENTAL`);
      const input = (await prepareImage(png, await db.inputSpecOf('lesion'))).tensor;
      expect(Number(occluded.rows[0].base_probability)).toBeCloseTo(sigmoid((await rawOutput(path, input))[0]), 5);
      const { rows: [stored] } = await db.query('SELECT list_min(heatmap) AS low, list_max(heatmap) AS high FROM heatmaps');
      expect(Number(stored.high)).toBeLessThan(1);
      expect(Number(stored.high) - Number(stored.low)).toBeGreaterThan(1e-4);

      expect(await oneLineRejection(db.query(`CREATE MODEL wrong FROM '${path}' OUTPUT LOGITS`))).toMatch(/softmax over one value is always 1; use OUTPUT SIGMOID/);
      expect(await oneLineRejection(db.query(`CREATE MODEL wrong FROM '${path}' OUTPUT PROBABILITIES`))).toBe(
        `model ${path}: OUTPUT PROBABILITIES, but its output on a blank test image is not probabilities (value -0.3); use OUTPUT LOGITS or OUTPUT SIGMOID`,
      );

      expect(await oneLineRejection(db.query(`CREATE MODEL both FROM '${two}'`))).toMatch(/choose the class scores with OUTPUT NAME 'logits'$/);
      const named = await db.query(`CREATE MODEL both FROM '${two}' NORMALIZE NONE OUTPUT NAME 'logits' SIGMOID`);
      expect(named.message).toBe("model both created (16x16, rgb, sigmoid of output 'logits')");
      const explained = await db.query(`EXPLAIN OCCLUDE ('${png}') USING MODEL both WITH PATCH 4 STRIDE 2 STRATEGY INCREMENTAL`);
      expect(explained.rows.filter((r) => r.section === 'notes').map((r) => r.line).join('\n')).not.toMatch(/outputs/);
      const first = await db.query(`CREATE MODEL first FROM '${write('engine-logits-first-named', { head: 'logits-then-probabilities' })}'`);
      expect(first.message).toBe("model first created (16x16, rgb, logits; the model has 2 outputs ('logits', 'probabilities'): the first, 'logits', is used (OUTPUT NAME chooses another))");
      const byFile = await db.query(`EXPLAIN OCCLUDE ('${png}') USING MODEL '${write('engine-logits-first', { head: 'logits-then-probabilities' })}' WITH PATCH 4 STRIDE 2 STRATEGY INCREMENTAL`);
      expect(byFile.rows.filter((r) => r.section === 'notes').map((r) => r.line)).toContain(
        "the model has 2 outputs ('logits', 'probabilities'): the first, 'logits', is used (OUTPUT NAME chooses another)",
      );
    } finally {
      await db.close();
    }
  });
});
