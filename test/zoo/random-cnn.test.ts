import { onnx } from 'onnx-proto';
import { KryptonError } from '../../src/errors.js';
import { randomCnn } from '../../src/zoo/random-cnn.js';
import type { RandomCnn } from '../../src/zoo/random-cnn.js';
import { graphFeatures } from './graph-features.js';
import { openSession, pseudoRandomInput, runFloat } from './ort-run.js';

const SEEDS = Array.from({ length: 200 }, (_, seed) => seed);

/** Every feature the generator promises, each to be found in at least MIN_HITS of FEATURE_SEEDS graphs. */
const REQUIRED_FEATURES = [
  'conv.stride1', 'conv.stride2',
  'conv.kernel1', 'conv.kernel2', 'conv.kernel3', 'conv.kernel4', 'conv.kernel5', 'conv.kernel6', 'conv.kernel7',
  'conv.kernel1x7', 'conv.kernel7x1', 'conv.kernel3x5',
  'conv.dilation1', 'conv.dilation2', 'conv.dilation3',
  'conv.grouped', 'conv.depthwise', 'conv.asymmetricPads',
  'conv.autoPad.SAME_UPPER', 'conv.autoPad.SAME_LOWER', 'conv.autoPad.VALID',
  'conv.bias', 'conv.noBias', 'conv.implicitKernelShape',
  'MaxPool.ceil0', 'MaxPool.ceil1', 'AveragePool.ceil0', 'AveragePool.ceil1',
  'MaxPool.pads', 'AveragePool.pads', 'MaxPool.autoPad', 'AveragePool.autoPad',
  'AveragePool.countIncludePad0', 'AveragePool.countIncludePad1', 'MaxPool.dilation',
  'Relu', 'LeakyRelu', 'Clip', 'Clip.minOnly', 'Sigmoid', 'HardSwish', 'BatchNormalization',
  'Mul.perChannel', 'Mul.scalar', 'Add.perChannel', 'Add.scalar', 'Dropout', 'Identity', 'LRN',
  'Add.twoActivations', 'Mul.twoActivations', 'Concat.2', 'Concat.3',
  'PRelu.perChannel', 'PRelu.shared', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'Tanh', 'Softplus', 'Softsign',
  'Abs', 'Neg', 'Erf', 'Mish', 'Gelu', 'Shrink.soft', 'Shrink.hard', 'Exp', 'Log', 'Sqrt', 'Reciprocal',
  'Floor', 'Ceil', 'Round', 'Sign', 'ThresholdedRelu',
  'Pow.scalar', 'Max.perChannel', 'Min.perChannel', 'Sub.perChannel', 'Div.perChannel',
  'Sub.twoActivations', 'Div.twoActivations', 'Max.twoActivations', 'Min.twoActivations', 'Pow.twoActivations',
  'Sum.twoActivations', 'Mean.twoActivations', 'Sum.3', 'Mean.3', 'Add.spatial', 'constantSubgraph',
  'GlobalAveragePool', 'GlobalMaxPool', 'Flatten.spatial', 'ReduceMean', 'Gemm', 'Softmax',
  'opset11', 'opset12', 'opset13', 'opset14', 'opset15', 'opset16', 'opset17', 'opset18', 'opset19', 'opset20',
  'float16', 'float32', 'fixedBatch', 'symbolicBatch', 'nonSquareInput', 'channels1', 'channels3',
];
const MIN_HITS = 3;
/** More graphs than are run: the rarer operators (those of the later opsets, the step functions on the input) need them. */
const FEATURE_SEEDS = 600;

/** The declared output width K of [batch, K]. */
function declaredColumns(model: Uint8Array): number {
  const dims = onnx.ModelProto.decode(model).graph!.output![0].type!.tensorType!.shape!.dim!;
  return Number(dims[1].dimValue);
}

/** Problems found running one generated model; empty when it behaves. */
async function problemsOf(cnn: RandomCnn): Promise<string[]> {
  const problems: string[] = [];
  const [c, h, w] = cnn.inputShape;
  const columns = declaredColumns(cnn.model);
  const session = await openSession(cnn.model);
  const run = async (batch: number, seed: number) =>
    (await runFloat(session, cnn.inputName, pseudoRandomInput(batch * c * h * w, seed), [batch, c, h, w], cnn.elementType))[cnn.outputName];

  const single = await run(1, 1);
  if (single.dims.join() !== [1, columns].join()) problems.push(`batch 1 gave dims ${single.dims}`);
  if (!single.data.every(Number.isFinite)) problems.push('NaN or Inf at batch 1');
  if (columns > 1 && new Set(single.data).size < 2) problems.push('all outputs equal');
  const other = cnn.fixedBatch ? await run(1, 2) : await run(3, 2);
  if (other.data.subarray(0, columns).every((v, k) => v === single.data[k])) problems.push('output ignores the input');
  if (!cnn.fixedBatch) {
    if (other.dims.join() !== [3, columns].join()) problems.push(`batch 3 gave dims ${other.dims}`);
    if (!other.data.every(Number.isFinite)) problems.push('NaN or Inf at batch 3');
    // The first image of the batch-3 input is the same as a separate batch-1 run of seed 2's first image.
    const first = (await runFloat(session, cnn.inputName, pseudoRandomInput(3 * c * h * w, 2).subarray(0, c * h * w), [1, c, h, w], cnn.elementType))[cnn.outputName];
    const tolerance = cnn.elementType === 'float16' ? 2e-2 : 1e-4;
    if (first.data.some((v, k) => Math.abs(v - other.data[k]) > tolerance * (1 + Math.abs(v)))) problems.push('batch rows depend on each other');
  }
  return problems;
}

describe('randomCnn', () => {
  const generated = SEEDS.map((seed) => randomCnn(seed));

  test('all 200 seeds load and run in onnxruntime at batch 1 and, when the batch is symbolic, at batch 3', async () => {
    const failures: string[] = [];
    for (const cnn of generated) {
      try {
        const problems = await problemsOf(cnn);
        if (problems.length > 0) failures.push(`${problems.join(', ')}: ${cnn.description}`);
      } catch (error) {
        failures.push(`${(error as Error).message.split('\n')[0]}: ${cnn.description}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test('the same seed gives the same model; different seeds differ', () => {
    for (const seed of [0, 1, 17, 123]) {
      const again = randomCnn(seed);
      expect(Buffer.from(again.model).equals(Buffer.from(generated[seed].model))).toBe(true);
      expect(again.description).toBe(generated[seed].description);
    }
    expect(new Set(generated.map((cnn) => cnn.description)).size).toBe(SEEDS.length);
  });

  test(`every promised feature occurs in at least ${MIN_HITS} of ${FEATURE_SEEDS} graphs`, () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < FEATURE_SEEDS; seed++) {
      const cnn = seed < generated.length ? generated[seed] : randomCnn(seed);
      for (const feature of graphFeatures(cnn.model)) counts.set(feature, (counts.get(feature) ?? 0) + 1);
    }
    const missing = REQUIRED_FEATURES.filter((feature) => (counts.get(feature) ?? 0) < MIN_HITS);
    expect(missing).toEqual([]);
  });

  test('inputs are small (1 or 3 channels, 12–48 px, some non-square) and graphs shallow', () => {
    for (const cnn of generated) {
      const [c, h, w] = cnn.inputShape;
      expect([1, 3]).toContain(c);
      expect(Math.min(h, w)).toBeGreaterThanOrEqual(12);
      expect(Math.max(h, w)).toBeLessThanOrEqual(48);
      const layers = cnn.description.split(' | ').length - 2; // minus the header and the head
      expect(layers).toBeGreaterThanOrEqual(2);
      expect(layers).toBeLessThanOrEqual(10);
      expect(cnn.description).not.toContain('\n');
    }
  });

  test('declared input and output match the returned metadata', () => {
    for (const cnn of generated.slice(0, 40)) {
      const graph = onnx.ModelProto.decode(cnn.model).graph!;
      const input = graph.input![0];
      expect(input.name).toBe(cnn.inputName);
      expect(graph.output![0].name).toBe(cnn.outputName);
      const type = input.type!.tensorType!;
      expect(type.elemType).toBe(cnn.elementType === 'float16' ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT);
      const dims = type.shape!.dim!;
      if (cnn.fixedBatch) expect(Number(dims[0].dimValue)).toBe(1);
      else expect(dims[0].dimParam).toMatch(/^\w+$/);
      expect(dims.slice(1).map((d) => Number(d.dimValue))).toEqual(cnn.inputShape);
    }
  });

  test('options override the drawn opset, element type and batch; bad ones are KryptonErrors', async () => {
    const cnn = randomCnn(5, { opset: 18, elementType: 'float16', fixedBatch: true, maxLayers: 3 });
    expect([cnn.opset, cnn.elementType, cnn.fixedBatch]).toEqual([18, 'float16', true]);
    expect([...graphFeatures(cnn.model)]).toEqual(expect.arrayContaining(['opset18', 'float16', 'fixedBatch']));
    expect(cnn.description.split(' | ').length - 2).toBeLessThanOrEqual(3);
    expect(await problemsOf(cnn)).toEqual([]);
    expect(() => randomCnn(1, { opset: 10 })).toThrow(KryptonError);
    expect(() => randomCnn(1, { opset: 21 })).toThrow(KryptonError);
    expect(() => randomCnn(1, { maxChannels: 0 })).toThrow(KryptonError);
    expect(() => randomCnn(1, { input: { channels: 3, height: 3, width: 8 } })).toThrow(KryptonError);
    expect(() => randomCnn(1, { maxLayers: 0 })).toThrow(KryptonError);
    expect(() => randomCnn(1.5)).toThrow(KryptonError);
  });
});
