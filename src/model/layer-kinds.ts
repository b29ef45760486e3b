import type { GraphNode, ModelGraph } from './graph.js';
import { intAttribute, intsAttribute, stringAttribute } from './graph.js';
import { dimsOf } from './onnx-tensors.js';

/** The sliding window of a Conv or pooling layer along one spatial axis. */
export interface AxisWindow {
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBegin: number;
  readonly padEnd: number;
  readonly inSize: number;
  readonly outSize: number;
}

export type WindowOp = 'Conv' | 'MaxPool' | 'AveragePool';

/**
 * How a node's output depends on its inputs in space, which decides how a changed region of its
 * input turns into a changed region of its output.
 */
export type LayerKind =
  | { readonly kind: 'constant' }
  /** Each output element depends on the same spatial position of the input (ReLU, BatchNorm, LRN…). */
  | { readonly kind: 'pointwise' }
  /** Each output element depends on a window of input positions (Conv, MaxPool, AveragePool). */
  | {
      readonly kind: 'window';
      readonly op: WindowOp;
      readonly rows: AxisWindow;
      readonly cols: AxisWindow;
      /** What the layer reads outside its input: 0 for Conv/AveragePool, -Infinity for MaxPool. */
      readonly padValue: number;
      /** Multiply-adds (or comparisons, for pools) per output element. */
      readonly opsPerOutput: number;
      /** AveragePool only: whether padded positions count in the divisor. */
      readonly countIncludePad: boolean;
    }
  /** Several activations combined position by position (residual Add, Mul, channel Concat). */
  | { readonly kind: 'merge' }
  /** Needs the whole tensor (Flatten, Gemm, global pooling…) or is not understood: run in full. */
  | { readonly kind: 'global'; readonly reason: string };

export type WindowKind = Extract<LayerKind, { kind: 'window' }>;

const UNARY_POINTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish',
  'Tanh', 'Softplus', 'Softsign', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round',
  'Sign', 'Erf', 'Gelu', 'Mish', 'Identity', 'Dropout', 'Clip', 'BatchNormalization', 'LRN', 'Shrink',
]);

/** Element-wise ops that stay point-wise when their other inputs are constants uniform over space. */
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean']);

export function classifyNode(graph: ModelGraph, node: GraphNode): LayerKind {
  const activations = graph.activationInputs(node);
  if (activations.length === 0) return { kind: 'constant' };
  const global = (reason: string): LayerKind => ({ kind: 'global', reason });
  if (node.domain && node.domain !== 'ai.onnx') return global(`operator ${node.domain}.${node.opType} is not understood`);

  const output = graph.shapeOf(node.outputs[0]);
  const inputShapes = activations.map((name) => graph.shapeOf(name));
  if (!output || output.length !== 4 || inputShapes.some((s) => !s || s.length !== 4)) {
    return global('works on tensors that are not [batch, channels, height, width]');
  }
  const spatialOf = (shape: readonly number[]) => `${shape[2]}x${shape[3]}`;

  if (UNARY_POINTWISE.has(node.opType) || ELEMENTWISE.has(node.opType)) {
    if (!node.outputs.slice(1).every((o) => !o || !graph.consumers.has(o))) return global('a secondary output is used');
    if (activations.length === 1) {
      if (!sameShape(inputShapes[0]!, output)) return global('broadcasts its input to a new shape');
      if (!constantsUniformInSpace(graph, node)) return global('a constant operand varies over space');
      if (node.opType === 'BatchNormalization' && intAttribute(node, 'training_mode', 0) !== 0) return global('BatchNormalization in training mode');
      return { kind: 'pointwise' };
    }
    if (ELEMENTWISE.has(node.opType)) {
      if (!inputShapes.every((s) => sameShape(s!, output))) return global('combines activations of different shapes');
      if (!constantsUniformInSpace(graph, node)) return global('a constant operand varies over space');
      return { kind: 'merge' };
    }
    return global(`${node.opType} of several activations`);
  }

  if (node.opType === 'Concat') {
    const axis = intAttribute(node, 'axis', 1);
    if ((axis !== 1 && axis !== -3) || activations.length !== node.inputs.filter(Boolean).length) return global('concatenates along a spatial axis or with constants');
    if (!inputShapes.every((s) => spatialOf(s!) === spatialOf(output))) return global('concatenates tensors of different sizes');
    return { kind: 'merge' };
  }

  if (node.opType === 'Conv' || node.opType === 'MaxPool' || node.opType === 'AveragePool') {
    return classifyWindow(graph, node, inputShapes[0]!, output) ?? global(`${node.opType} with a geometry Krypton does not handle incrementally`);
  }
  return global(`${node.opType} needs the whole tensor`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Constant operands must broadcast identically at every spatial position (size 1 along H and W). */
function constantsUniformInSpace(graph: ModelGraph, node: GraphNode): boolean {
  return node.inputs.every((name) => {
    if (!name || !graph.isConstant(name)) return true;
    // Per-channel by definition, whatever their rank.
    if (node.opType === 'BatchNormalization' || node.opType === 'Clip') return true;
    const shape = graph.shapeOf(name) ?? (graph.initializers.has(name) ? dimsOf(graph.initializers.get(name)!) : undefined);
    if (!shape) return false;
    // Align to rank 4 from the right: the last two dimensions are H and W.
    const h = shape.length >= 2 ? shape[shape.length - 2] : 1;
    const w = shape.length >= 1 ? shape[shape.length - 1] : 1;
    return h === 1 && w === 1 && shape.length <= 4;
  });
}

function classifyWindow(graph: ModelGraph, node: GraphNode, input: readonly number[], output: readonly number[]): WindowKind | undefined {
  const [, inChannels, inH, inW] = input;
  const [, outChannels, outH, outW] = output;
  let kernel = intsAttribute(node, 'kernel_shape');
  if (node.opType === 'Conv') {
    const weight = graph.initializers.has(node.inputs[1]) ? dimsOf(graph.initializers.get(node.inputs[1])!) : graph.shapeOf(node.inputs[1]);
    if (!graph.isConstant(node.inputs[1]) || !weight || weight.length !== 4) return undefined;
    if (node.inputs[2] && !graph.isConstant(node.inputs[2])) return undefined;
    kernel = kernel ?? weight.slice(2);
  } else {
    if (node.outputs.slice(1).some((o) => o && graph.consumers.has(o))) return undefined; // MaxPool indices
  }
  if (!kernel || kernel.length !== 2) return undefined;
  const strides = intsAttribute(node, 'strides') ?? [1, 1];
  const dilations = intsAttribute(node, 'dilations') ?? [1, 1];
  if (node.opType === 'AveragePool' && dilations.some((d) => d !== 1)) return undefined;
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  const ceilMode = intAttribute(node, 'ceil_mode', 0) === 1;
  const rows = axisWindow(kernel[0], strides[0], dilations[0], inH, outH, autoPad, intsAttribute(node, 'pads'), 0, ceilMode);
  const cols = axisWindow(kernel[1], strides[1], dilations[1], inW, outW, autoPad, intsAttribute(node, 'pads'), 1, ceilMode);
  if (!rows || !cols) return undefined;
  const group = intAttribute(node, 'group', 1);
  const opsPerOutput = node.opType === 'Conv' ? (inChannels / group) * kernel[0] * kernel[1] : kernel[0] * kernel[1];
  void outChannels;
  return {
    kind: 'window',
    op: node.opType as WindowOp,
    rows,
    cols,
    padValue: node.opType === 'MaxPool' ? -Infinity : 0,
    opsPerOutput,
    countIncludePad: intAttribute(node, 'count_include_pad', 0) === 1,
  };
}

function axisWindow(
  kernel: number, stride: number, dilation: number, inSize: number, outSize: number,
  autoPad: string, pads: number[] | undefined, axis: 0 | 1, ceilMode: boolean,
): AxisWindow | undefined {
  const span = (kernel - 1) * dilation + 1;
  let padBegin = 0;
  let padEnd = 0;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = Math.max((Math.ceil(inSize / stride) - 1) * stride + span - inSize, 0);
    padBegin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    padEnd = total - padBegin;
  } else if (autoPad === 'NOTSET' && pads) {
    padBegin = pads[axis] ?? 0;
    padEnd = pads[axis + 2] ?? 0;
  } else if (autoPad !== 'NOTSET' && autoPad !== 'VALID') {
    return undefined;
  }
  // The probe's shapes are the truth; a geometry that does not explain them is not ours to guess.
  const extent = inSize + padBegin + padEnd - span;
  const floorSize = Math.floor(extent / stride) + 1;
  const ceilSize = Math.ceil(extent / stride) + 1;
  const allowed = autoPad.startsWith('SAME') ? [Math.ceil(inSize / stride)] : ceilMode ? [ceilSize, ceilSize - 1] : [floorSize];
  if (!allowed.includes(outSize)) return undefined;
  return { kernel, stride, dilation, padBegin, padEnd, inSize, outSize };
}

/** A window that reads exactly the position it writes (1x1 kernel, stride 1, no padding): spatially point-wise. */
export function isIdentityWindow(kind: LayerKind): boolean {
  if (kind.kind !== 'window') return false;
  return [kind.rows, kind.cols].every((a) => a.kernel === 1 && a.stride === 1 && a.padBegin === 0 && a.padEnd === 0);
}
