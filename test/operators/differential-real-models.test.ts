import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { imagenetInputSpec, type InputSpec } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { patchValues } from '../../src/image/patch-color';
import { DATA, expectSameHeatmap, runBoth } from '../support/heatmaps';

const models = join(DATA, 'models');
const images = join(DATA, 'images');

interface Case {
  readonly name: string;
  readonly model: string;
  readonly image: string;
  readonly spec: Partial<InputSpec>;
  readonly patch: number;
  /** Strides dividing (size - patch) put patches on every border and corner. */
  readonly stride: number;
  readonly target: number | 'predicted';
  readonly color?: 'gray' | 'black';
}

const cases: Case[] = [
  {
    name: 'chest X-ray AP/PA SqueezeNet 1.1 on an X-ray',
    model: 'cxr-appa-squeezenet1.1.onnx',
    image: 'chest-xray-hannover/png/0578e08b.png',
    spec: { channels: 'gray', channelCount: 3, scale: 255, mean: [0, 0, 0], std: [1, 1, 1] },
    patch: 16, stride: 52, target: 'predicted',
  },
  {
    name: 'ImageNet SqueezeNet 1.1 (float16) on a kitten',
    model: 'squeezenet1.1-imagenet-fp16.onnx',
    image: 'natural-winml/kitten_224.png',
    spec: { channels: 'bgr', scale: 255, mean: [0, 0, 0], std: [1, 1, 1] },
    patch: 24, stride: 40, target: 281,
  },
  {
    name: 'MNIST CNN on a digit',
    model: 'mnist.onnx',
    image: 'natural-winml/mnist_28.png',
    spec: { width: 28, height: 28, channels: 'gray', channelCount: 1, scale: 255, mean: [0], std: [1] },
    patch: 6, stride: 2, target: 'predicted', color: 'black',
  },
  {
    name: 'CIFAR-10 CNN on a photo',
    model: 'cifar10-small.onnx',
    image: 'natural-skimage/chelsea.png',
    spec: { width: 32, height: 32, scale: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    patch: 5, stride: 1, target: 3,
  },
];

describe('incremental inference equals full inference on the real trained models', () => {
  it.each(cases)('$name', async (c) => {
    const model = await loadModel(join(models, c.model));
    const spec = imagenetInputSpec({ width: model.input.width, height: model.input.height, ...c.spec });
    const image = await prepareImage(join(images, c.image), spec);
    const grid = occlusionGrid({ image: { width: spec.width, height: spec.height }, patch: { width: c.patch, height: c.patch }, stride: { x: c.stride, y: c.stride } });
    const task = { input: image.tensor, patchValues: patchValues({ kind: c.color ?? 'gray' }, image, spec), target: c.target };
    const { naive, incremental, plan } = await runBoth(model, grid, task);
    expect(plan.segments.length).toBeGreaterThan(0);
    expect(incremental.classIndex).toBe(naive.classIndex);
    expect(incremental.baseProbability).toBeCloseTo(naive.baseProbability, 6);
    expectSameHeatmap(naive.values, incremental.values, c.name);
    // The heatmap must say something: occlusion changes the probability somewhere.
    expect(Math.max(...naive.values) - Math.min(...naive.values)).toBeGreaterThan(1e-4);
  });

  it('knows what the SqueezeNet sees in the kitten (tabby cat, 0.93)', async () => {
    const model = await loadModel(join(models, 'squeezenet1.1-imagenet-fp16.onnx'));
    expect(model.storedPrecision).toBe('float16');
    const spec = imagenetInputSpec({ channels: 'bgr', scale: 255, mean: [0, 0, 0], std: [1, 1, 1] });
    const image = await prepareImage(join(images, 'natural-winml/kitten_224.png'), spec);
    const grid = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 224, height: 224 }, stride: { x: 1, y: 1 } });
    const { naive } = await runBoth(model, grid, { input: image.tensor, patchValues: new Float32Array(3), target: 'predicted' });
    expect(naive.classIndex).toBe(281);
    expect(naive.baseProbability).toBeGreaterThan(0.85);
  });
});
