import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KryptonError } from '../../src/errors';
import { loadModel } from '../../src/model/load-model';
import { classifyNode } from '../../src/model/layer-kinds';
import { fullModel } from '../../src/model/submodels';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { attr, OnnxGraphBuilder } from '../../src/zoo/onnx-graph-builder';
import { buildZooModel } from '../../src/zoo/build-zoo-model';
import { DATA, expectSameHeatmap, runBoth } from '../support/heatmaps';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-load-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array | string): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function weights(count: number, scale = 0.1): Float32Array {
  return new Float32Array(count).map((_, i) => Math.sin(i * 1.7) * scale);
}

async function loadError(path: string, options = {}): Promise<string> {
  try {
    await loadModel(path, options);
  } catch (error) {
    expect(error).toBeInstanceOf(KryptonError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected the model to be refused');
}

describe('loading the real models', () => {
  it.each([
    ['cxr-appa-squeezenet1.1.onnx', 'float32', [3, 224, 224], 2, 'softmax'],
    ['squeezenet1.1-imagenet-fp16.onnx', 'float16', [3, 224, 224], 1000, 'none'],
    ['mnist.onnx', 'float32', [1, 28, 28], 10, 'softmax'],
    ['cifar10-small.onnx', 'float32', [3, 32, 32], 10, 'softmax'],
  ])('%s', async (file, precision, [channels, height, width], classes, activation) => {
    const model = await loadModel(join(DATA, 'models', file));
    expect(model.storedPrecision).toBe(precision);
    expect(model.input).toMatchObject({ channels, height, width });
    expect(model.output).toMatchObject({ classes, activation });
    // Fixed batch sizes baked into the file (SqueezeNet fp16's input, MNIST's Reshape) are lifted.
    expect(model.batchable).toBe(true);
    expect(model.graph.shapeOf(model.graph.outputName)![0]).toBe(1);
  });

  it('holds the weights once: they are views of the bytes the whole model\'s session is made from', async () => {
    const model = await loadModel(join(DATA, 'models', 'cxr-appa-squeezenet1.1.onnx'));
    const bytes = fullModel(model.graph);
    expect(fullModel(model.graph)).toBe(bytes);
    const weights = [...model.graph.initializers.values()].filter((t) => (t.rawData?.length ?? 0) > 0);
    expect(weights.length).toBeGreaterThan(10);
    for (const tensor of weights) expect(tensor.rawData!.buffer).toBe(bytes.buffer);
  });

  it('folds constant subgraphs: MNIST reshapes its weights once, not per image', async () => {
    const model = await loadModel(join(DATA, 'models/mnist.onnx'));
    const weightReshape = model.graph.nodes.find((n) => n.opType === 'Reshape' && model.graph.isConstant(n.inputs[0]))!;
    expect(classifyNode(model.graph, weightReshape)).toEqual({ kind: 'constant' });
  });
});

describe('the batch check', () => {
  it('finds a model whose images of one batch change each other not batchable', async () => {
    // Subtracting the batch's mean: one image alone gives zeros, the same image behind another does not.
    const builder = new OnnxGraphBuilder();
    const x = builder.input('x', ['batch', 3, 8, 8]);
    const mean = builder.node('ReduceMean', [x], { axes: attr.ints([0]), keepdims: attr.int(1) });
    const centred = builder.node('Sub', [x, mean]);
    const pooled = builder.node('GlobalAveragePool', [builder.node('Conv', [centred, builder.initializer('w', [4, 3, 1, 1], weights(12))], { kernel_shape: attr.ints([1, 1]) })]);
    builder.output(builder.node('Flatten', [pooled], {}, 'scores'), ['batch', 4]);
    const model = await loadModel(write('batch-mean.onnx', builder.build()));
    expect(model.batchable).toBe(false);
  });
});

describe('refusing what is not an image classifier', () => {
  it('names a missing file, a directory and a file that is not ONNX', async () => {
    expect(await loadError(join(dir, 'missing.onnx'))).toBe(`model file not found: ${join(dir, 'missing.onnx')}`);
    mkdirSync(join(dir, 'folder.onnx'));
    expect(await loadError(join(dir, 'folder.onnx'))).toMatch(/is a directory/);
    expect(await loadError(write('text.onnx', 'this is not a protobuf at all, just text\n'))).toMatch(/is not an ONNX model/);
    expect(await loadError(write('empty.onnx', ''))).toMatch(/is not an ONNX model \(no graph found\)/);
  });

  it('names a model with two inputs, a non-image input and a non-classifier output', async () => {
    const two = new OnnxGraphBuilder();
    const a = two.input('a', ['batch', 3, 8, 8]);
    const b = two.input('b', ['batch', 3, 8, 8]);
    two.output(two.node('Add', [a, b], {}, 'sum'), ['batch', 3, 8, 8]);
    expect(await loadError(write('two.onnx', two.build()))).toMatch(/is not an image classifier: it takes 2 inputs \(a, b\)/);

    const flat = new OnnxGraphBuilder();
    const v = flat.input('vector', ['batch', 10]);
    flat.output(flat.node('Relu', [v], {}, 'y'), ['batch', 10]);
    expect(await loadError(write('flat.onnx', flat.build()))).toMatch(/input 'vector' has rank 2, expected \[batch, channels, height, width\]/);

    const segmenter = new OnnxGraphBuilder();
    const x = segmenter.input('x', ['batch', 3, 8, 8]);
    const w = segmenter.initializer('w', [2, 3, 1, 1], weights(6));
    segmenter.output(segmenter.node('Conv', [x, w], { kernel_shape: attr.ints([1, 1]) }, 'mask'), ['batch', 2, 8, 8]);
    expect(await loadError(write('segmenter.onnx', segmenter.build()))).toMatch(/output 'mask' has shape \[1, 2, 8, 8\], expected \[batch, classes\]/);
  });

  it('asks for an input size when the model has none, and refuses a wrong one', async () => {
    const builder = new OnnxGraphBuilder();
    const x = builder.input('x', ['batch', 3, 'h', 'w']);
    const pooled = builder.node('GlobalAveragePool', [x]);
    builder.output(builder.node('Flatten', [pooled], {}, 'y'), ['batch', 3]);
    const file = write('any-size.onnx', builder.build());
    expect(await loadError(file)).toMatch(/has no fixed input size: give one \(e\.g\. INPUT 224\)/);
    expect((await loadModel(file, { inputSize: { width: 40, height: 30 } })).input).toMatchObject({ width: 40, height: 30 });
    expect(await loadError(join(DATA, 'models/mnist.onnx'), { inputSize: { width: 32, height: 32 } })).toMatch(/takes 28x28 images, not 32x32/);
  });

  it('names an operator onnxruntime cannot run', async () => {
    const builder = new OnnxGraphBuilder();
    const x = builder.input('x', ['batch', 3, 8, 8]);
    const y = builder.node('NoSuchOperator', [x]);
    const pooled = builder.node('GlobalAveragePool', [y]);
    builder.output(builder.node('Flatten', [pooled], {}, 'out'), ['batch', 3]);
    expect(await loadError(write('unsupported.onnx', builder.build()))).toMatch(/^cannot load model .*NoSuchOperator/);
  });
});

describe('layers Krypton does not understand run in full, so results stay exact', () => {
  it('an explicit reflect Pad between convolutions (a zero one is folded into the conv: fuse-pads.test.ts)', async () => {
    const builder = new OnnxGraphBuilder();
    const x = builder.input('x', ['batch', 3, 20, 20]);
    const c1 = builder.node('Relu', [builder.node('Conv', [x, builder.initializer('w1', [4, 3, 3, 3], weights(108))], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) })]);
    const padded = builder.node('Pad', [c1, builder.int64Initializer('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1])], { mode: attr.string('reflect') });
    const c2 = builder.node('Conv', [padded, builder.initializer('w2', [4, 4, 3, 3], weights(144))], { kernel_shape: attr.ints([3, 3]) });
    const pooled = builder.node('GlobalAveragePool', [c2]);
    const flat = builder.node('Flatten', [pooled]);
    builder.output(builder.node('Gemm', [flat, builder.initializer('fc', [5, 4], weights(20, 1)), builder.initializer('fcb', [5], weights(5))], { transB: attr.int(1) }, 'logits'), ['batch', 5]);
    const model = await loadModel(write('pad.onnx', builder.build()));
    const grid = occlusionGrid({ image: { width: 20, height: 20 }, patch: { width: 4, height: 4 }, stride: { x: 2, y: 2 } });
    const input = new Float32Array(3 * 20 * 20).map((_, i) => Math.cos(i / 7));
    const { naive, incremental, plan } = await runBoth(model, grid, { input, patchValues: new Float32Array(3), target: 'predicted' });
    const pad = model.graph.nodes.find((n) => n.opType === 'Pad')!;
    expect(plan.fullReasons.get(pad)).toBe('Pad needs the whole tensor');
    expect(plan.segments.length).toBeGreaterThan(0);
    expectSameHeatmap(naive.values, incremental.values, 'Pad');
  });
});

describe('layer kinds on the zoo architectures', () => {
  it('classifies MobileNetV2 and InceptionV3 layers', async () => {
    const mobile = await loadModel(write('mobilenet.onnx', buildZooModel('mobilenet_v2', { input: 64, classes: 4 })));
    const kinds = new Map<string, Set<string>>();
    for (const node of mobile.graph.nodes) {
      const kind = classifyNode(mobile.graph, node).kind;
      kinds.set(node.opType, (kinds.get(node.opType) ?? new Set()).add(kind));
    }
    expect(kinds.get('Conv')).toEqual(new Set(['window']));
    expect(kinds.get('Clip')).toEqual(new Set(['pointwise']));
    expect(kinds.get('BatchNormalization')).toEqual(new Set(['pointwise']));
    expect(kinds.get('Add')).toEqual(new Set(['merge']));
    expect(kinds.get('GlobalAveragePool')).toEqual(new Set(['global']));
    expect(kinds.get('Gemm')).toEqual(new Set(['global']));
    const inception = await loadModel(write('inception.onnx', buildZooModel('inception_v3', { input: 80, classes: 4 })));
    const concat = inception.graph.nodes.find((n) => n.opType === 'Concat')!;
    expect(classifyNode(inception.graph, concat).kind).toBe('merge');
    const avg = inception.graph.nodes.find((n) => n.opType === 'AveragePool')!;
    expect(classifyNode(inception.graph, avg)).toMatchObject({ kind: 'window', op: 'AveragePool', countIncludePad: true });
  });
});
