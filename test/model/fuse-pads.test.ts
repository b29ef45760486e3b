// A zero Pad before an average pool or a convolution (torch.onnx's avg_pool2d(padding=1)) becomes
// that node's own padding: the same numbers, and incremental inference goes on through it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { fullModel } from '../../src/model/submodels';
import { attr, OnnxGraphBuilder } from '../../src/zoo/onnx-graph-builder';
import { expectSameHeatmap, runBoth } from '../support/heatmaps';
import { randomInput } from '../support/random-input';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-pads-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = 32;
const weights = (count: number, scale = 0.2, phase = 0) => new Float32Array(count).map((_, i) => Math.sin(i * 1.3 + phase) * scale);

/**
 * conv → relu, then three branches joined: Pad(1) → AveragePool 3×3 (no padding of its own), as
 * torch.onnx writes avg_pool2d(padding=1); Pad(top 2, left 1, right 1) → Conv 3×3; and a plain
 * conv. `kept` adds Pads that must stay: reflect mode before an average pool, value 0.5 before a
 * conv. With `constantPads`, the amounts come from Constant nodes (as torch.onnx writes them).
 */
function paddedModel(options: { kept?: boolean; constantPads?: boolean; opset?: number } = {}): string {
  const opset = options.opset ?? 13;
  const builder = new OnnxGraphBuilder({ opset });
  const x = builder.input('image', ['batch', 3, SIZE, SIZE]);
  const c1 = builder.node('Relu', [builder.node('Conv', [x, builder.initializer('w1', [8, 3, 3, 3], weights(216)), builder.initializer('b1', [8], weights(8, 0.1, 1))], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) })]);
  const pad = (input: string, amounts: number[], mode = 'constant', value?: number) => {
    if (opset < 11) return builder.node('Pad', [input], { pads: attr.ints(amounts), mode: attr.string(mode), ...(value === undefined ? {} : { value: attr.float(value) }) });
    const inputs = [input, builder.int64Initializer('pads', [8], amounts)];
    if (value !== undefined) inputs.push(builder.scalar('value', value));
    return builder.node('Pad', inputs, { mode: attr.string(mode) });
  };
  const pooled = builder.node('AveragePool', [pad(c1, [0, 0, 1, 1, 0, 0, 1, 1])], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]) });
  const shifted = builder.node('Conv', [pad(c1, [0, 0, 2, 1, 0, 0, 0, 1]), builder.initializer('w2', [8, 8, 3, 3], weights(576, 0.1, 2))], { kernel_shape: attr.ints([3, 3]) });
  const branches = [pooled, builder.node('Relu', [shifted])];
  if (options.kept) {
    branches.push(builder.node('AveragePool', [pad(c1, [0, 0, 1, 1, 0, 0, 1, 1], 'reflect')], { kernel_shape: attr.ints([3, 3]) }));
    branches.push(builder.node('Conv', [pad(c1, [0, 0, 1, 1, 0, 0, 1, 1], 'constant', 0.5), builder.initializer('w3', [8, 8, 3, 3], weights(576, 0.1, 3))], { kernel_shape: attr.ints([3, 3]) }));
  }
  const joined = builder.node('Concat', branches, { axis: attr.int(1) });
  const mixed = builder.node('Relu', [builder.node('Conv', [joined, builder.initializer('w4', [8, 8 * branches.length, 3, 3], weights(72 * 8 * branches.length, 0.1, 4))], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) })]);
  const flat = builder.node('Flatten', [builder.node('GlobalAveragePool', [mixed])]);
  builder.output(builder.node('Gemm', [flat, builder.initializer('fc', [4, 8], weights(32, 0.5, 5)), builder.initializer('fc_bias', [4], weights(4, 0.1, 6))], { transB: attr.int(1) }, 'scores'), ['batch', 4]);
  let bytes = builder.build();
  if (options.constantPads) bytes = initializersAsConstants(bytes, 'pads');
  const file = join(dir, `padded-${opset}-${options.kept ? 'kept' : 'fused'}-${options.constantPads ? 'constant' : 'init'}.onnx`);
  writeFileSync(file, bytes);
  return file;
}

/** The initializers whose names start with `prefix`, moved into Constant nodes at the graph's start. */
function initializersAsConstants(bytes: Uint8Array, prefix: string): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const moved = graph.initializer!.filter((t) => t.name!.startsWith(prefix));
  graph.initializer = graph.initializer!.filter((t) => !moved.includes(t));
  graph.node!.unshift(...moved.map((t) => onnx.NodeProto.create({
    opType: 'Constant', output: [t.name!], name: `const_${t.name}`,
    attribute: [onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t })],
  })));
  return onnx.ModelProto.encode(model).finish();
}

/** The file's output and the loaded model's on the same input, through onnxruntime directly. */
async function outputsOf(file: string, loaded: Uint8Array): Promise<[Float32Array, Float32Array]> {
  const input = new ort.Tensor('float32', randomInput(2 * 3 * SIZE * SIZE, 7), [2, 3, SIZE, SIZE]);
  const results: Float32Array[] = [];
  for (const model of [file, loaded]) {
    const session = await ort.InferenceSession.create(model as string & Uint8Array);
    try {
      results.push((await session.run({ image: input })).scores.data as Float32Array);
    } finally {
      await session.release();
    }
  }
  return [results[0], results[1]];
}

const padsIn = (model: Awaited<ReturnType<typeof loadModel>>) => model.graph.nodes.filter((n) => n.opType === 'Pad').length;

describe('zero Pads folded into the window that follows them', () => {
  it.each([
    ['pads as an initializer, opset 13', { opset: 13 }],
    ['pads from a Constant node, opset 13', { opset: 13, constantPads: true }],
    ['pads as an attribute, opset 10', { opset: 10 }],
  ])('%s: no Pad is left, the outputs are the file\'s, and the heatmap is naive\'s', async (_, options) => {
    const file = paddedModel(options);
    const model = await loadModel(file);
    expect(padsIn(model)).toBe(0);
    expect(model.graph.nodes.filter((n) => n.opType === 'Constant')).toHaveLength(0);
    const [original, loaded] = await outputsOf(file, fullModel(model.graph));
    for (let i = 0; i < original.length; i++) expect(Math.abs(original[i] - loaded[i])).toBeLessThan(1e-5);

    const grid = occlusionGrid({ image: { width: SIZE, height: SIZE }, patch: { width: 6, height: 6 }, stride: { x: 3, y: 3 } });
    const { naive, incremental, plan } = await runBoth(model, grid, { input: randomInput(3 * SIZE * SIZE, 3), patchValues: new Float32Array(3), target: 'predicted' });
    expect(Math.max(...naive.values) - Math.min(...naive.values)).toBeGreaterThan(1e-4);
    expectSameHeatmap(naive.values, incremental.values, 'folded pads');
    // The pool and the shifted conv are computed on changed regions, not in full.
    const pool = model.graph.nodes.find((n) => n.opType === 'AveragePool')!;
    expect(plan.prefix).toContain(pool);
  });

  it('Pads that are not zero padding of height and width stay, and still compute what the file does', async () => {
    const file = paddedModel({ kept: true });
    const model = await loadModel(file);
    expect(padsIn(model)).toBe(2);
    const [original, loaded] = await outputsOf(file, fullModel(model.graph));
    for (let i = 0; i < original.length; i++) expect(Math.abs(original[i] - loaded[i])).toBeLessThan(1e-5);
    const grid = occlusionGrid({ image: { width: SIZE, height: SIZE }, patch: { width: 6, height: 6 }, stride: { x: 4, y: 4 } });
    const { naive, incremental } = await runBoth(model, grid, { input: randomInput(3 * SIZE * SIZE, 4), patchValues: new Float32Array(3), target: 'predicted' });
    expectSameHeatmap(naive.values, incremental.values, 'kept pads');
  });
});
