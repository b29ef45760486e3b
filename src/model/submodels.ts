import { onnx } from 'onnx-proto';
import type { GraphNode, ModelGraph } from './graph.js';
import { DataType, floatTensor } from './onnx-tensors.js';
import { intsAttribute } from './graph.js';
import type { Segment } from './incremental-plan.js';
import type { WindowKind } from './layer-kinds.js';
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
  graph: ModelGraph, name: string, nodes: readonly onnx.INodeProto[], inputs: readonly (string | { name: string; rank: number })[], outputs: readonly string[],
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
      input: inputs.map((t) => (typeof t === 'string' ? floatInput(t, graph.shapeOf(t)?.length ?? 4) : floatInput(t.name, t.rank))),
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
const LAST = '__nhwc';

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
 * A merge's branches run first, each from its own crop, their window nodes without padding.
 */
export function segmentModel(graph: ModelGraph, segment: Segment): onnx.ModelProto {
  const extra: onnx.ITensorProto[] = [];
  const readAsWindow = (head: GraphNode, window: WindowKind) => (window.op === 'AveragePool' ? averageAsConvolution(graph, head, extra) : withoutPadding(head));
  const channelsFirst = (name: string) => `${name}${FIRST}`;
  const channelsLast = (name: string) => `${name}${LAST}`;
  const head = segment.nodes[0];
  const followers = segment.nodes.slice(1).map((node) => node.proto);
  const nodes: onnx.INodeProto[] = [];
  const output = (last: onnx.INodeProto[]) => {
    const end = last.length - 1;
    last[end] = onnx.NodeProto.create({ ...last[end], output: [channelsFirst(segment.output), ...(last[end].output ?? []).slice(1)] });
    nodes.push(...last, transpose(channelsFirst(segment.output), segment.output, TO_CHANNELS_LAST));
  };
  const feeds = segment.reads.map((read) => ({ name: read.feed, rank: graph.shapeOf(read.tensor)?.length ?? 4 }));

  // A merge's branches, each from its own crop.
  for (const branch of segment.branches) {
    const [first, ...chain] = branch.nodes;
    const { feed } = branch.read;
    nodes.push(
      transpose(feed, channelsFirst(feed), TO_CHANNELS_FIRST),
      ...renameInputs([readAsWindow(first, branch.window)], new Map([[first.inputs[0], channelsFirst(feed)]])),
      ...chain.map((node) => node.proto),
    );
  }
  const direct = segment.reads.filter((read) => !segment.branches.some((branch) => branch.read === read));

  if (segment.kind !== 'merge' || !mergesChannelsLast(graph, head)) {
    const first = segment.kind === 'window' ? readAsWindow(head, segment.window!) : head.proto;
    nodes.push(...direct.map((read) => transpose(read.feed, channelsFirst(read.feed), TO_CHANNELS_FIRST)));
    output(renameInputs([first, ...followers], new Map(direct.map((read) => [read.tensor, channelsFirst(read.feed)]))));
    return subModel(graph, `segment ${head.name}`, nodes, feeds, [segment.output], extra);
  }

  // The merge itself runs channels-last, on its crops as given and on its branches' outputs made
  // channels-last once (onnxruntime folds that into the convolution's own layout conversion).
  const renamed = new Map<string, string>();
  for (const branch of segment.branches) {
    nodes.push(transpose(branch.output, channelsLast(branch.output), TO_CHANNELS_LAST));
    renamed.set(branch.output, channelsLast(branch.output));
  }
  for (const read of direct) renamed.set(read.tensor, read.feed);
  const merge = renameInputs([channelsLastMerge(head, followers.length ? channelsLast(head.outputs[0]) : segment.output)], renamed);
  nodes.push(...merge);
  if (followers.length) {
    nodes.push(transpose(channelsLast(head.outputs[0]), head.outputs[0], TO_CHANNELS_FIRST));
    output(followers);
  }
  return subModel(graph, `segment ${head.name}`, nodes, feeds, [segment.output], extra);
}

const CHANNELS_LAST_MERGES = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'Concat']);

/** Merges of activations alone, element-wise or along channels, compute the same channels-last. */
function mergesChannelsLast(graph: ModelGraph, node: GraphNode): boolean {
  return CHANNELS_LAST_MERGES.has(node.opType) && graph.activationInputs(node).length === node.inputs.filter(Boolean).length;
}

/** The merge node on channels-last inputs: a Concat joins along the last axis instead of axis 1. */
function channelsLastMerge(node: GraphNode, output: string): onnx.INodeProto {
  const attribute = node.opType === 'Concat'
    ? [onnx.AttributeProto.create({ name: 'axis', i: 3, type: onnx.AttributeProto.AttributeType.INT })]
    : node.proto.attribute ?? [];
  return onnx.NodeProto.create({ ...node.proto, attribute, output: [output] });
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
