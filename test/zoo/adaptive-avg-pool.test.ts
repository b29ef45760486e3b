import { onnx } from 'onnx-proto';
import { CnnGraph } from '../../src/zoo/cnn-graph.js';
import { OnnxGraphBuilder } from '../../src/zoo/onnx-graph-builder.js';
import { SeededRandom } from '../../src/zoo/seeded-random.js';
import { adaptiveAvgPool } from '../../src/zoo/architectures/vgg16.js';
import { openSession, pseudoRandomInput, runFloat } from './ort-run.js';

/** torch.nn.functional.adaptive_avg_pool2d on one [C, H, W] image, written out directly. */
function referenceAdaptiveAvgPool(x: Float32Array, c: number, h: number, w: number, target: number): Float32Array {
  const out = new Float32Array(c * target * target);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < target; i++) {
      const [r0, r1] = [Math.floor((i * h) / target), Math.ceil(((i + 1) * h) / target)];
      for (let j = 0; j < target; j++) {
        const [c0, c1] = [Math.floor((j * w) / target), Math.ceil(((j + 1) * w) / target)];
        let sum = 0;
        for (let r = r0; r < r1; r++) for (let col = c0; col < c1; col++) sum += x[ch * h * w + r * w + col];
        out[ch * target * target + i * target + j] = sum / ((r1 - r0) * (c1 - c0));
      }
    }
  }
  return out;
}

describe('adaptiveAvgPool (VGG16 away from 224 px)', () => {
  test.each([
    [7, 7, 'identity'],
    [14, 14, 'AveragePool'],
    [2, 2, 'MatMul'],
    [10, 10, 'MatMul'],
    [5, 9, 'MatMul'],
  ])('%i×%i → 7×7 equals torch (%s) at batch 2', async (h, w, op) => {
    const builder = new OnnxGraphBuilder();
    const net = new CnnGraph(builder, new SeededRandom(0));
    const x = { name: builder.input('x', ['batch', 3, h, w]), channels: 3, height: h, width: w };
    const y = adaptiveAvgPool(net, x, 7);
    expect([y.channels, y.height, y.width]).toEqual([3, 7, 7]);
    const opTypes = new Set<string>();
    const output = y.name === x.name ? builder.node('Identity', [x.name]) : y.name;
    builder.output(output, ['batch', 3, 7, 7]);
    const bytes = builder.build();
    for (const node of onnx.ModelProto.decode(bytes).graph!.node!) opTypes.add(node.opType!);
    if (op !== 'identity') expect(opTypes.has(op)).toBe(true);

    const input = pseudoRandomInput(2 * 3 * h * w, h * 31 + w);
    const out = (await runFloat(await openSession(bytes), 'x', input, [2, 3, h, w]))[output];
    expect(out.dims).toEqual([2, 3, 7, 7]);
    for (let b = 0; b < 2; b++) {
      const expected = referenceAdaptiveAvgPool(input.subarray(b * 3 * h * w, (b + 1) * 3 * h * w), 3, h, w, 7);
      const actual = out.data.subarray(b * 3 * 49, (b + 1) * 3 * 49);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(1e-5);
    }
  });
});
