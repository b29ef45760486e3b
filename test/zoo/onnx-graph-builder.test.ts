import { onnx } from 'onnx-proto';
import { OnnxGraphBuilder, attr } from '../../src/zoo/onnx-graph-builder.js';
import type { ElementType } from '../../src/zoo/onnx-graph-builder.js';
import { openSession, runFloat } from './ort-run.js';

/** x [batch,1,3,3] → Conv 2×2 (weights 1,2,3,4, bias 0.5, pad 0) → LeakyRelu(0.1) → y [batch,1,2,2]. */
function tinyConvModel(elementType: ElementType): Uint8Array {
  const builder = new OnnxGraphBuilder({ elementType, graphName: 'tiny' });
  const x = builder.input('x', ['batch', 1, 3, 3]);
  const weight = builder.initializer('w', [1, 1, 2, 2], Float32Array.of(1, 2, 3, 4));
  const bias = builder.initializer('b', [1], Float32Array.of(0.5));
  const conv = builder.node('Conv', [x, weight, bias], { kernel_shape: attr.ints([2, 2]), auto_pad: attr.string('VALID') });
  const y = builder.node('LeakyRelu', [conv], { alpha: attr.float(0.1) }, 'y');
  builder.output(y, ['batch', 1, 2, 2]);
  return builder.build();
}

/** The same computation by hand. */
function expectedTinyConv(input: Float32Array): number[] {
  const out: number[] = [];
  for (const [r, c] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
    const at = (dr: number, dc: number) => input[(r + dr) * 3 + (c + dc)];
    const value = 1 * at(0, 0) + 2 * at(0, 1) + 3 * at(1, 0) + 4 * at(1, 1) + 0.5;
    out.push(value > 0 ? value : 0.1 * value);
  }
  return out;
}

describe('OnnxGraphBuilder', () => {
  const input = Float32Array.of(1, -2, 0.5, 0, 3, -1, -4, 1, 2);

  test('writes a model that onnxruntime runs with the expected result', async () => {
    const session = await openSession(tinyConvModel('float32'));
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const { y } = await runFloat(session, 'x', input, [1, 1, 3, 3]);
    expect(y.dims).toEqual([1, 1, 2, 2]);
    const expected = expectedTinyConv(input);
    y.data.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 5));
  });

  test('float16 models store half weights and run on half inputs', async () => {
    const bytes = tinyConvModel('float16');
    const model = onnx.ModelProto.decode(bytes);
    const graph = model.graph!;
    expect(graph.input![0].type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT16);
    expect(graph.initializer!.every((t) => t.dataType === onnx.TensorProto.DataType.FLOAT16)).toBe(true);
    expect(graph.initializer![0].rawData!.length).toBe(4 * 2);
    const { y } = await runFloat(await openSession(bytes), 'x', input, [1, 1, 3, 3], 'float16');
    const expected = expectedTinyConv(input);
    y.data.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 2));
  });

  test('records opset, IR version, symbolic dims and typed attributes', () => {
    const model = onnx.ModelProto.decode(tinyConvModel('float32'));
    expect(Number(model.opsetImport![0].version)).toBe(13);
    expect(Number(model.irVersion)).toBe(7);
    const dims = model.graph!.input![0].type!.tensorType!.shape!.dim!;
    expect(dims[0].dimParam).toBe('batch');
    expect(Number(dims[2].dimValue)).toBe(3);
    const [conv, leaky] = model.graph!.node!;
    const byName = (node: onnx.INodeProto, name: string) => node.attribute!.find((a) => a.name === name)!;
    expect(byName(conv, 'kernel_shape').type).toBe(onnx.AttributeProto.AttributeType.INTS);
    expect(byName(conv, 'kernel_shape').ints!.map(Number)).toEqual([2, 2]);
    expect(new TextDecoder().decode(byName(conv, 'auto_pad').s!)).toBe('VALID');
    expect(byName(leaky, 'alpha').type).toBe(onnx.AttributeProto.AttributeType.FLOAT);
    expect(byName(leaky, 'alpha').f).toBeCloseTo(0.1, 6);
  });

  test('int64 initializers and a selectable opset (ReduceMean with axes as an input at 18)', async () => {
    const builder = new OnnxGraphBuilder({ opset: 18 });
    const x = builder.input('x', ['batch', 2, 2, 2]);
    const axes = builder.int64Initializer('axes', [2], [2, 3]);
    const mean = builder.node('ReduceMean', [x, axes], { keepdims: attr.int(0) }, 'mean');
    builder.output(mean, ['batch', 2]);
    const bytes = builder.build();
    expect(Number(onnx.ModelProto.decode(bytes).irVersion)).toBe(8);
    const { mean: out } = await runFloat(await openSession(bytes), 'x', Float32Array.of(1, 2, 3, 4, 10, 20, 30, 40), [1, 2, 2, 2]);
    expect(Array.from(out.data)).toEqual([2.5, 25]);
  });

  test('names: unique prefixes, duplicates refused, rename rewires consumers', () => {
    const builder = new OnnxGraphBuilder();
    expect(builder.uniqueName('conv')).toBe('conv');
    expect(builder.uniqueName('conv')).toBe('conv_1');
    expect(builder.uniqueName('conv')).toBe('conv_2');
    const x = builder.input('x', [1, 1, 1, 1]);
    expect(() => builder.input('x', [1])).toThrow(/duplicate/);
    const a = builder.node('Relu', [x]);
    const b = builder.node('Sigmoid', [a]);
    builder.rename(a, 'hidden');
    builder.output(b, [1, 1, 1, 1]);
    const nodes = onnx.ModelProto.decode(builder.build()).graph!.node!;
    expect(nodes[0].output).toEqual(['hidden']);
    expect(nodes[1].input).toEqual(['hidden']);
    expect(() => builder.initializer('w', [2, 2], new Float32Array(3))).toThrow(/3 values/);
  });
});
