import { onnx } from 'onnx-proto';
import { KryptonError } from '../../src/errors.js';
import {
  ZOO_ARCHITECTURES,
  ZOO_DEFAULT_INPUT,
  buildZooModel,
  zooMinimumInput,
} from '../../src/zoo/build-zoo-model.js';
import type { ZooArchitecture } from '../../src/zoo/build-zoo-model.js';
import { PHOTOS, loadPhotoBatch } from './photos.js';
import { openSession, pseudoRandomInput, runFloat, softmax } from './ort-run.js';

/** torchvision's published figures (parameters; GMACs at the default input, its "GFLOPS" column). */
const TORCHVISION: Record<ZooArchitecture, { params: number; gmacs: number }> = {
  vgg16: { params: 138_357_544, gmacs: 15.47 },
  resnet18: { params: 11_689_512, gmacs: 1.81 },
  // 27,161,264 with the auxiliary classifier, which is left out: its 3,326,696 parameters subtracted.
  inception_v3: { params: 27_161_264 - 3_326_696, gmacs: 5.71 },
  squeezenet: { params: 1_248_424, gmacs: 0.82 },
  mobilenet_v2: { params: 3_504_872, gmacs: 0.3 },
};

interface Measured {
  params: number;
  gmacs: number;
  logits: Float32Array;
  dims: number[];
}

/**
 * Runs a zoo model on a batch of photos with every Conv output also declared as a graph output, and
 * counts learnable parameters (BatchNorm running statistics excluded, as torch counts) and
 * multiply-adds of Conv and Gemm from the shapes onnxruntime actually produced.
 */
async function measure(arch: ZooArchitecture, photos: readonly string[], threads = 1, bytes = buildZooModel(arch)): Promise<Measured> {
  const input = ZOO_DEFAULT_INPUT[arch];
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const dims = new Map(graph.initializer!.map((t) => [t.name!, (t.dims ?? []).map(Number)]));
  const params = graph.initializer!
    .filter((t) => !/running_(mean|var)$/.test(t.name!) && t.dims!.length > 0)
    .reduce((sum, t) => sum + t.dims!.map(Number).reduce((a, b) => a * b, 1), 0);
  const convs = graph.node!.filter((n) => n.opType === 'Conv');
  for (const conv of convs) graph.output!.push({ name: conv.output![0] });
  const session = await openSession(onnx.ModelProto.encode(model).finish(), threads);
  const batch = await loadPhotoBatch(photos, input);
  const out = await runFloat(session, 'input', batch, [photos.length, 3, input, input]);
  let macs = 0;
  for (const conv of convs) {
    const [, cin, kh, kw] = dims.get(conv.input![1])!;
    const [, cout, h, w] = out[conv.output![0]].dims;
    macs += cin * kh * kw * cout * h * w;
  }
  for (const gemm of graph.node!.filter((n) => n.opType === 'Gemm')) {
    const [rows, cols] = dims.get(gemm.input![1])!;
    macs += rows * cols;
  }
  return { params, gmacs: macs / 1e9, logits: out.logits.data, dims: out.logits.dims };
}

/** Softmax on each photo is neither uniform nor saturated, and the photos are told apart. */
function expectSaneSoftmax(logits: Float32Array, photos: number, classes = 1000): void {
  expect(logits.every(Number.isFinite)).toBe(true);
  const rows = Array.from({ length: photos }, (_, i) => logits.subarray(i * classes, (i + 1) * classes));
  for (const row of rows) {
    const top = Math.max(...softmax(row));
    expect(top).toBeGreaterThan(Math.max(0.01, 10 / classes));
    expect(top).toBeLessThan(0.95);
  }
  expect(rows.some((row) => row.some((v, k) => v !== rows[0][k]))).toBe(true);
}

describe('zoo architectures', () => {
  test.each(['resnet18', 'squeezenet', 'mobilenet_v2', 'inception_v3'] as const)(
    '%s matches torchvision in parameters and multiply-adds, and gives a sane softmax on photos',
    async (arch) => {
      const { params, gmacs, logits, dims } = await measure(arch, PHOTOS);
      expect(params).toBe(TORCHVISION[arch].params);
      expect(Math.abs(gmacs - TORCHVISION[arch].gmacs)).toBeLessThan(0.005);
      expect(dims).toEqual([PHOTOS.length, 1000]);
      expectSaneSoftmax(logits, PHOTOS.length);
    },
  );

  test('vgg16 at 224 builds in seconds and matches torchvision; sane softmax on a photo', async () => {
    const started = Date.now();
    const bytes = buildZooModel('vgg16');
    expect(Date.now() - started).toBeLessThan(10_000);
    const { params, gmacs, logits, dims } = await measure('vgg16', PHOTOS.slice(0, 1), 2, bytes);
    expect(params).toBe(TORCHVISION.vgg16.params);
    expect(Math.abs(gmacs - TORCHVISION.vgg16.gmacs)).toBeLessThan(0.005);
    expect(dims).toEqual([1, 1000]);
    expect(logits.every(Number.isFinite)).toBe(true);
    const top = Math.max(...softmax(logits));
    expect(top).toBeGreaterThan(0.01);
    expect(top).toBeLessThan(0.95);
  });

  test.each([
    ['resnet18', 64],
    ['squeezenet', 64],
    ['mobilenet_v2', 64],
    ['inception_v3', 128],
    ['vgg16', 48],
  ] as const)('%s runs at %i px with batch 2 and 10 classes', async (arch, input) => {
    const session = await openSession(buildZooModel(arch, { input, classes: 10, seed: 3 }), 2);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    const { logits } = await runFloat(session, 'input', pseudoRandomInput(2 * 3 * input * input, 1), [2, 3, input, input]);
    expect(logits.dims).toEqual([2, 10]);
    expect(logits.data.every(Number.isFinite)).toBe(true);
    expect(new Set(logits.data).size).toBeGreaterThan(10);
  });

  test('the same seed gives the same bytes, another seed other weights', () => {
    const a = buildZooModel('squeezenet', { input: 64, seed: 1 });
    expect(Buffer.from(buildZooModel('squeezenet', { input: 64, seed: 1 })).equals(Buffer.from(a))).toBe(true);
    const b = buildZooModel('squeezenet', { input: 64, seed: 2 });
    expect(b.length).toBe(a.length);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(false);
  });

  test('declares input [batch, 3, N, N] and output [batch, classes], opset 13, BatchNorm kept', () => {
    const graph = onnx.ModelProto.decode(buildZooModel('resnet18', { input: 96, classes: 7 })).graph!;
    const shape = (v: onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(shape(graph.input![0])).toEqual(['batch', 3, 96, 96]);
    expect(shape(graph.output![0])).toEqual(['batch', 7]);
    expect(graph.node!.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(20);
  });

  test('smallest inputs: each architecture builds at its minimum and refuses one pixel less', () => {
    expect(Object.fromEntries(ZOO_ARCHITECTURES.map((arch) => [arch, zooMinimumInput(arch)]))).toEqual({
      vgg16: 32,
      resnet18: 1,
      inception_v3: 75, // as torchvision documents
      squeezenet: 29,
      mobilenet_v2: 1,
    });
    expect(() => buildZooModel('inception_v3', { input: 74 })).toThrow(KryptonError);
    expect(() => buildZooModel('inception_v3', { input: 74 })).toThrow('inception_v3 needs an input of at least 75 px, got 74');
    expect(() => buildZooModel('squeezenet', { input: 28 })).toThrow(KryptonError);
    expect(() => buildZooModel('vgg16', { input: 31 })).toThrow(KryptonError);
  });

  test.each([
    ['squeezenet', 29],
    ['inception_v3', 75],
    ['resnet18', 1],
    ['mobilenet_v2', 1],
  ] as const)('%s runs at its minimum input, %i px', async (arch, input) => {
    const session = await openSession(buildZooModel(arch, { input, classes: 2 }));
    const { logits } = await runFloat(session, 'input', pseudoRandomInput(3 * input * input, 2), [1, 3, input, input]);
    expect(logits.dims).toEqual([1, 2]);
    expect(logits.data.every(Number.isFinite)).toBe(true);
  });

  test('bad arguments are KryptonErrors', () => {
    expect(() => buildZooModel('alexnet' as ZooArchitecture)).toThrow(/unknown architecture 'alexnet'/);
    expect(() => buildZooModel('resnet18', { input: 0 })).toThrow(KryptonError);
    expect(() => buildZooModel('resnet18', { input: 64.5 })).toThrow(KryptonError);
    expect(() => buildZooModel('resnet18', { classes: 0 })).toThrow(KryptonError);
    expect(() => buildZooModel('resnet18', { seed: 0.5 })).toThrow(KryptonError);
  });
});
