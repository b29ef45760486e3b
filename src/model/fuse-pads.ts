import { onnx } from 'onnx-proto';
import { attribute, intAttribute, intsAttribute, stringAttribute } from './graph.js';
import { readFloats, readIntegers, toNumber } from './onnx-tensors.js';

/**
 * Folds a zero Pad into the convolution or average pool it feeds, as the node's own padding.
 *
 * torch.onnx writes `avg_pool2d(x, 3, stride=1, padding=1)` (every Inception block has one) as a
 * Pad followed by an AveragePool without padding. A Pad is not a window node, so incremental
 * inference ran everything after the first one in full: torchvision's InceptionV3 recomputed all
 * but its stem for every position. Padding with zeros and then pooling with no padding is the
 * same arithmetic as pooling with that padding counted in the divisor (count_include_pad = 1);
 * for a convolution zero padding is its own padding. Other Pads (reflect or edge modes, a nonzero
 * value, padding of batch or channels, cropping, a MaxPool after it) stay as they are.
 * Returns how many Pads were folded.
 */
export function fusePadsIntoWindows(proto: onnx.ModelProto): number {
  const graph = proto.graph!;
  const nodes = graph.node ?? [];
  const opset = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const version = opset ? toNumber(opset.version) : 1;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const constants = new Map<string, onnx.ITensorProto>();
  for (const node of nodes) {
    const value = node.opType === 'Constant' && !node.domain ? node.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (value && node.output?.[0]) constants.set(node.output[0], value);
  }
  const tensorOf = (name: string | undefined) => (name ? initializers.get(name) ?? constants.get(name) : undefined);
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const node of nodes) {
    for (const input of node.input ?? []) if (input) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));

  const removed = new Set<onnx.INodeProto>();
  for (const pad of nodes) {
    if (pad.opType !== 'Pad' || pad.domain) continue;
    const padding = zeroSpatialPadding(pad, version, tensorOf);
    if (!padding) continue;
    const output = pad.output?.[0];
    const users = output ? consumers.get(output) ?? [] : [];
    if (!output || graphOutputs.has(output) || users.length !== 1 || users[0].input?.[0] !== output) continue;
    const window = users[0];
    if (!takesPadding(window)) continue;
    const pads = intsAttribute({ proto: window }, 'pads') ?? [0, 0, 0, 0];
    const [top, left, bottom, right] = padding;
    setInts(window, 'pads', [pads[0] + top, pads[1] + left, pads[2] + bottom, pads[3] + right]);
    if (window.opType === 'AveragePool') setInt(window, 'count_include_pad', 1);
    window.input![0] = pad.input![0];
    removed.add(pad);
  }
  if (removed.size === 0) return 0;
  // The Constants that only gave the folded Pads their amounts go with them.
  const amounts = new Set([...removed].flatMap((pad) => (pad.input ?? []).slice(1)));
  const stillRead = new Set(nodes.filter((n) => !removed.has(n)).flatMap((n) => n.input ?? []));
  const unused = (n: onnx.INodeProto) =>
    n.opType === 'Constant' && (n.output ?? []).every((o) => amounts.has(o) && !stillRead.has(o) && !graphOutputs.has(o));
  graph.node = nodes.filter((n) => !removed.has(n) && !unused(n));
  return removed.size;
}

/** [top, left, bottom, right] when the Pad adds zeros on height and width only; otherwise undefined. */
function zeroSpatialPadding(
  pad: onnx.INodeProto, version: number, tensorOf: (name: string | undefined) => onnx.ITensorProto | undefined,
): [number, number, number, number] | undefined {
  const node = { proto: pad };
  if (stringAttribute(node, 'mode', 'constant') !== 'constant') return undefined;
  let amounts: number[] | undefined;
  let value = 0;
  if (version < 11) {
    amounts = intsAttribute(node, 'pads');
    const given = attribute(node, 'value');
    if (typeof given === 'number') value = given;
  } else {
    const [, padsName, valueName, axesName] = pad.input ?? [];
    if (axesName) return undefined;
    const padsTensor = tensorOf(padsName);
    if (!padsTensor) return undefined;
    amounts = readIntegers(padsTensor);
    if (valueName) {
      const valueTensor = tensorOf(valueName);
      if (!valueTensor) return undefined;
      const values = valueTensor.dataType === onnx.TensorProto.DataType.FLOAT || valueTensor.dataType === onnx.TensorProto.DataType.FLOAT16
        ? Array.from(readFloats(valueTensor)) : readIntegers(valueTensor);
      if (values.length !== 1) return undefined;
      value = values[0];
    }
  }
  if (value !== 0 || !amounts || amounts.length !== 8) return undefined;
  const [n0, c0, top, left, n1, c1, bottom, right] = amounts;
  if (n0 || c0 || n1 || c1 || [top, left, bottom, right].some((p) => !(Number.isInteger(p) && p >= 0))) return undefined;
  return [top, left, bottom, right];
}

/** A 2-D convolution or average pool whose own padding the Pad's can join, with the same arithmetic. */
function takesPadding(proto: onnx.INodeProto): boolean {
  if (proto.domain || (proto.opType !== 'Conv' && proto.opType !== 'AveragePool')) return false;
  const node = { proto };
  if (stringAttribute(node, 'auto_pad', 'NOTSET') !== 'NOTSET') return false;
  const kernel = intsAttribute(node, 'kernel_shape');
  if (kernel && kernel.length !== 2) return false;
  if (proto.opType === 'AveragePool') {
    // Explicit zeros always count in the average; the node's own padding only with count_include_pad.
    const pads = intsAttribute(node, 'pads') ?? [];
    if (pads.some((p) => p !== 0) && intAttribute(node, 'count_include_pad', 0) !== 1) return false;
    // With ceil_mode a last window may hang past the padded input, where the divisor rules differ.
    if (intAttribute(node, 'ceil_mode', 0) !== 0) return false;
  }
  return true;
}

function setInts(node: onnx.INodeProto, name: string, values: number[]): void {
  const attribute = node.attribute?.find((a) => a.name === name);
  if (attribute) attribute.ints = values;
  else node.attribute = [...(node.attribute ?? []), onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values })];
}

function setInt(node: onnx.INodeProto, name: string, value: number): void {
  const attribute = node.attribute?.find((a) => a.name === name);
  if (attribute) attribute.i = value;
  else node.attribute = [...(node.attribute ?? []), onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value })];
}
