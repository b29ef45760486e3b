import { onnx } from 'onnx-proto';

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean']);
const UNARY = new Set(['Sqrt', 'Reciprocal', 'Abs', 'Neg', 'Exp', 'Log']);

/**
 * The features a model actually contains, read back from its ONNX bytes (not from what the
 * generator meant to build): op types, window geometry, merges, heads, opset, element type.
 */
export function graphFeatures(bytes: Uint8Array): Set<string> {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const features = new Set<string>();
  const initializers = new Map(graph.initializer!.map((t) => [t.name!, (t.dims ?? []).map(Number)]));
  const producers = new Map<string, string>();
  for (const node of graph.node!) for (const out of node.output!) producers.set(out, node.opType!);

  const opset = Number(model.opsetImport![0].version);
  features.add(`opset${opset}`);
  const input = graph.input![0].type!.tensorType!;
  features.add(input.elemType === onnx.TensorProto.DataType.FLOAT16 ? 'float16' : 'float32');
  const [batch, channels, height, width] = input.shape!.dim!;
  features.add(batch.dimParam ? 'symbolicBatch' : 'fixedBatch');
  features.add(`channels${Number(channels.dimValue)}`);
  if (Number(height.dimValue) !== Number(width.dimValue)) features.add('nonSquareInput');

  for (const node of graph.node!) {
    const op = node.opType!;
    const attrs = new Map(node.attribute!.map((a) => [a.name!, a]));
    const ints = (name: string) => attrs.get(name)?.ints?.map(Number);
    const int = (name: string) => (attrs.has(name) ? Number(attrs.get(name)!.i) : undefined);
    const text = (name: string) => (attrs.has(name) ? new TextDecoder().decode(attrs.get(name)!.s!) : undefined);
    const pads = ints('pads') ?? [0, 0, 0, 0];
    const constantInputs = node.input!.filter((name) => initializers.has(name));
    features.add(op);

    if (op === 'Conv') {
      const weight = initializers.get(node.input![1])!;
      const [kh, kw] = [weight[2], weight[3]];
      features.add(`conv.kernel${kh}`).add(`conv.kernel${kw}`);
      if (kh !== kw) features.add(`conv.kernel${kh}x${kw}`);
      for (const s of ints('strides') ?? [1, 1]) features.add(`conv.stride${s}`);
      for (const d of ints('dilations') ?? [1, 1]) features.add(`conv.dilation${d}`);
      const group = int('group') ?? 1;
      if (group > 1) features.add(weight[1] === 1 ? 'conv.depthwise' : 'conv.grouped');
      if (pads[0] !== pads[2] || pads[1] !== pads[3]) features.add('conv.asymmetricPads');
      const autoPad = text('auto_pad');
      if (autoPad && autoPad !== 'NOTSET') features.add(`conv.autoPad.${autoPad}`);
      features.add(node.input!.length === 3 && node.input![2] !== '' ? 'conv.bias' : 'conv.noBias');
      if (!attrs.has('kernel_shape')) features.add('conv.implicitKernelShape');
    }
    if (op === 'MaxPool' || op === 'AveragePool') {
      features.add(`${op}.ceil${int('ceil_mode') ?? 0}`);
      if (pads.some((p) => p > 0)) features.add(`${op}.pads`);
      const autoPad = text('auto_pad');
      if (autoPad && autoPad !== 'NOTSET') features.add(`${op}.autoPad`);
      if (op === 'AveragePool') features.add(`AveragePool.countIncludePad${int('count_include_pad') ?? 0}`);
      if ((ints('dilations') ?? [1, 1]).some((d) => d > 1)) features.add('MaxPool.dilation');
    }
    if (ELEMENTWISE.has(op)) {
      if (node.input!.length > 0 && constantInputs.length === node.input!.length) features.add('constantSubgraph');
      else if (constantInputs.length === 0) features.add(`${op}.twoActivations`);
      for (const name of constantInputs) {
        const dims = initializers.get(name)!;
        const spatial = dims.length >= 2 && dims.slice(-2).some((d) => d > 1);
        features.add(spatial ? `${op}.spatial` : dims.length === 4 && dims[1] > 1 ? `${op}.perChannel` : `${op}.scalar`);
      }
    }
    if (UNARY.has(op) && node.input!.every((name) => initializers.has(name))) features.add('constantSubgraph');
    if (op === 'Sum' || op === 'Mean') features.add(`${op}.${node.input!.length}`);
    if (op === 'Shrink') features.add(attrs.has('bias') ? 'Shrink.soft' : 'Shrink.hard');
    if (op === 'PRelu') features.add(initializers.get(node.input![1])!.length === 1 ? 'PRelu.shared' : 'PRelu.perChannel');
    if (op === 'Concat') features.add(`Concat.${node.input!.length}`);
    if (op === 'Flatten' && !['GlobalAveragePool', 'GlobalMaxPool'].includes(producers.get(node.input![0]) ?? '')) {
      features.add('Flatten.spatial');
    }
    if (op === 'Clip' && node.input!.length === 2) features.add('Clip.minOnly');
  }
  return features;
}
