import { onnx } from 'onnx-proto';
import type { GraphNode, ModelGraph } from './graph.js';
import { DataType, floatTensor } from './onnx-tensors.js';
import { intsAttribute } from './graph.js';
import type { Segment } from './incremental-plan.js';
import { encodedModel } from './load-model.js';

/**
 * Small ONNX models cut from the parent graph, sharing its weights: one per incremental segment
 * (run on batched crops) and one for the tail (run in full on the frontier).
 */

function floatInput(name: string, rank: number): onnx.ValueInfoProto {
  const dim = Array.from({ length: rank }, (_, i) => onnx.TensorShapeProto.Dimension.create({ dimParam: `${name}_d${i}` }));
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim }) }) }),
  });
}

function subModel(
  graph: ModelGraph, name: string, nodes: readonly onnx.INodeProto[], inputs: readonly string[], outputs: readonly string[],
  extraInitializers: readonly onnx.ITensorProto[] = [],
): onnx.ModelProto {
  const used = new Set<string>();
  for (const node of nodes) for (const input of node.input ?? []) if (input) used.add(input);
  const constantInputs = [...used].filter((t) => graph.isConstant(t));
  const constantNodes = graph.constantNodesFor(constantInputs).map((n) => n.proto);
  const initializerNames = new Set<string>();
  for (const node of [...constantNodes, ...nodes]) for (const input of node.input ?? []) if (graph.initializers.has(input)) initializerNames.add(input);
  const parent = graph.model;
  return onnx.ModelProto.create({
    irVersion: parent.irVersion,
    opsetImport: parent.opsetImport,
    producerName: 'krypton',
    graph: onnx.GraphProto.create({
      name,
      node: [...constantNodes, ...nodes],
      input: inputs.map((t) => floatInput(t, graph.shapeOf(t)?.length ?? 4)),
      output: outputs.map((t) => onnx.ValueInfoProto.create({ name: t })),
      initializer: [...[...initializerNames].map((t) => graph.initializers.get(t)!), ...extraInitializers],
    }),
  });
}

const GEOMETRY_ATTRIBUTES = new Set(['pads', 'auto_pad', 'ceil_mode']);

/**
 * The window node made to read an already padded crop: no padding of its own and floor-mode
 * output, so a crop of span + (n - 1) * stride positions yields exactly n outputs.
 */
function withoutPadding(node: GraphNode): onnx.INodeProto {
  return onnx.NodeProto.create({
    ...node.proto,
    attribute: (node.proto.attribute ?? []).filter((a) => !GEOMETRY_ATTRIBUTES.has(a.name ?? '')),
  });
}

const TO_CHANNELS_FIRST = [0, 3, 1, 2];
const TO_CHANNELS_LAST = [0, 2, 3, 1];
const FIRST = '__nchw';

function transpose(input: string, output: string, perm: number[]): onnx.NodeProto {
  return onnx.NodeProto.create({
    opType: 'Transpose',
    name: `transpose ${input}`,
    input: [input],
    output: [output],
    attribute: [onnx.AttributeProto.create({ name: 'perm', ints: perm, type: onnx.AttributeProto.AttributeType.INTS })],
  });
}

/** The nodes reading `renamed` tensors under their new names (copies; the parent graph is untouched). */
function renameInputs(nodes: readonly onnx.INodeProto[], renamed: ReadonlyMap<string, string>): onnx.INodeProto[] {
  return nodes.map((node) => (node.input ?? []).some((i) => renamed.has(i))
    ? onnx.NodeProto.create({ ...node, input: (node.input ?? []).map((i) => renamed.get(i) ?? i) })
    : node);
}

/**
 * A segment as a model over channels-last crops: [B, h, w, C] in and out. Transposes at the edges
 * let the operator copy whole crop rows; onnxruntime folds them into its own layout conversion.
 */
export function segmentModel(graph: ModelGraph, segment: Segment): onnx.ModelProto {
  const head = segment.nodes[0];
  const extra: onnx.ITensorProto[] = [];
  const first = segment.window?.op === 'AveragePool' ? averageAsConvolution(graph, head, extra) : segment.kind === 'window' ? withoutPadding(head) : head.proto;
  const nodes = [first, ...segment.nodes.slice(1).map((node) => node.proto)];
  const renamed = new Map(segment.inputs.map((name) => [name, `${name}${FIRST}`]));
  const body = renameInputs(nodes, renamed);
  const last = body.length - 1;
  body[last] = onnx.NodeProto.create({ ...body[last], output: [`${segment.output}${FIRST}`, ...(body[last].output ?? []).slice(1)] });
  const wrapped = [
    ...segment.inputs.map((name) => transpose(name, `${name}${FIRST}`, TO_CHANNELS_FIRST)),
    ...body,
    transpose(`${segment.output}${FIRST}`, segment.output, TO_CHANNELS_LAST),
  ];
  return subModel(graph, `segment ${segment.nodes[0].name}`, wrapped, segment.inputs, [segment.output], extra);
}

/**
 * An AveragePool over an unpadded crop is a depthwise convolution with weights 1/area, which
 * onnxruntime runs several times faster than its pooling kernel (same sums, other rounding order,
 * far below the tolerance of the differential tests).
 */
function averageAsConvolution(graph: ModelGraph, node: GraphNode, initializers: onnx.ITensorProto[]): onnx.INodeProto {
  const channels = graph.shapeOf(node.inputs[0])![1];
  const kernel = intsAttribute(node, 'kernel_shape')!;
  const area = kernel[0] * kernel[1];
  const weights = floatTensor(`${node.outputs[0]}__average_weights`, [channels, 1, kernel[0], kernel[1]], new Float32Array(channels * area).fill(1 / area));
  initializers.push(weights);
  const ints = (name: string, values: number[]) => onnx.AttributeProto.create({ name, ints: values, type: onnx.AttributeProto.AttributeType.INTS });
  return onnx.NodeProto.create({
    opType: 'Conv',
    name: `${node.name} as depthwise conv`,
    input: [node.inputs[0], weights.name],
    output: [node.outputs[0]],
    attribute: [
      ints('kernel_shape', kernel),
      ints('strides', intsAttribute(node, 'strides') ?? [1, 1]),
      onnx.AttributeProto.create({ name: 'group', i: channels, type: onnx.AttributeProto.AttributeType.INT }),
    ],
  });
}

/** The tail, reading its frontier tensors channels-last. */
export function tailModel(graph: ModelGraph, tail: readonly GraphNode[], frontier: readonly string[]): onnx.ModelProto {
  const consumed = new Set(tail.flatMap((n) => n.inputs));
  const inputs = frontier.filter((t) => consumed.has(t));
  const renamed = new Map(inputs.map((name) => [name, `${name}${FIRST}`]));
  const nodes = [
    ...inputs.map((name) => transpose(name, `${name}${FIRST}`, TO_CHANNELS_FIRST)),
    ...renameInputs(tail.map((n) => n.proto), renamed),
  ];
  return subModel(graph, 'tail', nodes, inputs, [graph.outputName]);
}

/** The model exactly as loaded (float32, symbolic batch), for full inference: the bytes encoded at loading. */
export function fullModel(graph: ModelGraph): Uint8Array {
  return encodedModel(graph);
}

/** One node alone, with its original geometry, reading its activation inputs (NCHW). */
export function singleNodeModel(graph: ModelGraph, node: GraphNode): onnx.ModelProto {
  return subModel(graph, `node ${node.name}`, [node.proto], graph.activationInputs(node), [node.outputs[0]]);
}
