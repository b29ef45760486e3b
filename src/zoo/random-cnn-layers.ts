import { attr } from './onnx-graph-builder.js';
import type { AttributeValue, OnnxGraphBuilder } from './onnx-graph-builder.js';
import type { Activation } from './cnn-graph.js';
import type { SeededRandom } from './seeded-random.js';
import {
  autoPadOutput,
  ceilWindowStartsInside,
  effectiveKernel,
  paddingForOutput,
  windowOutput,
} from './window-geometry.js';
import type { AutoPad } from './window-geometry.js';

/** What every drawing function needs: the generator, the graph so far and the opset. */
export interface DrawContext {
  readonly random: SeededRandom;
  readonly builder: OnnxGraphBuilder;
  readonly opset: number;
  /** Most output channels a conv may choose for itself (not where a shape requires more). */
  readonly maxChannels?: number;
}

/** A drawn layer: its output and a short text for the model's description. */
export interface Drawn {
  readonly value: Activation;
  readonly text: string;
}

/** Optional requirements on a drawn conv or pool: output channels, stride, exact output size. */
export interface WindowConstraint {
  readonly out?: number;
  readonly stride?: readonly [number, number];
  readonly target?: readonly [number, number];
}

type Pair = [number, number];

const CONV_KERNELS: readonly (readonly [Pair, number])[] = [
  [[1, 1], 4], [[2, 2], 1], [[3, 3], 6], [[4, 4], 1], [[5, 5], 2], [[6, 6], 1], [[7, 7], 1],
  [[1, 7], 2], [[7, 1], 2], [[3, 5], 2], [[5, 3], 1], [[1, 3], 1], [[3, 1], 1], [[2, 3], 1],
];

const POOL_KERNELS: readonly (readonly [Pair, number])[] = [
  [[2, 2], 4], [[3, 3], 4], [[2, 3], 1], [[3, 2], 1], [[4, 4], 1], [[5, 5], 1], [[1, 3], 1],
];

type Padding =
  | { readonly kind: 'none' }
  | { readonly kind: 'explicit'; readonly pads: readonly [number, number, number, number] }
  | { readonly kind: 'auto'; readonly mode: AutoPad };

interface Window {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly dilation: Pair;
  readonly padding: Padding;
  readonly ceil: boolean;
  readonly out: Pair;
}

/**
 * A Conv with random kernel (square or not), stride, dilation, grouping and padding style,
 * He-uniform weights and (sometimes) a bias. Falls back to a 1×1 conv when nothing else fits.
 */
export function drawConv(ctx: DrawContext, x: Activation, constraint: WindowConstraint = {}): Drawn {
  const { random, builder } = ctx;
  const { groups, out } = drawChannels(random, x.channels, constraint.out, ctx.maxChannels ?? Infinity);
  const window = drawWindow(random, x, constraint, 'conv') ?? fallbackWindow(x, constraint);
  const [kh, kw] = window.kernel;
  const fanIn = (x.channels / groups) * kh * kw;
  const weight = builder.initializer('conv.weight', [out, x.channels / groups, kh, kw],
    random.fillUniform(new Float32Array(out * (x.channels / groups) * kh * kw), Math.sqrt(2 / fanIn)));
  const inputs = [x.name, weight];
  const bias = random.chance(0.6);
  if (bias) inputs.push(builder.initializer('conv.bias', [out], random.fillUniform(new Float32Array(out), 0.1)));
  const attributes = windowAttributes(random, window);
  // kernel_shape is optional in ONNX (it can be read off the weight); leave it out now and then.
  if (random.chance(0.1)) delete attributes.kernel_shape;
  if (groups !== 1) attributes.group = attr.int(groups);
  const name = builder.node('Conv', inputs, attributes);
  const kind = groups === 1 ? '' : groups === x.channels ? ' depthwise' : ` g${groups}`;
  const text = `conv${kh}x${kw}${windowText(window)}${kind}${bias ? '' : ' nobias'} ${x.channels}→${out}`;
  return { value: { name, channels: out, height: window.out[0], width: window.out[1] }, text };
}

/** MaxPool (sometimes dilated) or AveragePool, with random padding, ceil_mode and count_include_pad. */
export function drawPool(ctx: DrawContext, x: Activation, constraint: WindowConstraint = {}): Drawn | undefined {
  const { random, builder } = ctx;
  const opType = random.chance(0.55) ? 'MaxPool' : 'AveragePool';
  const window = drawWindow(random, x, constraint, opType === 'MaxPool' ? 'maxpool' : 'avgpool');
  if (window === undefined) return undefined;
  const attributes = windowAttributes(random, window, opType === 'MaxPool');
  let note = '';
  if (opType === 'AveragePool') {
    // With ceil_mode, a window that runs past the end padding has a divisor frameworks define
    // differently when padding is counted; such pools never count it.
    const overhangs = window.ceil && overhangsEnd(x, window);
    const countPad = !overhangs && random.chance(0.5);
    if (countPad || random.chance(0.5)) attributes.count_include_pad = attr.int(countPad ? 1 : 0);
    note = countPad ? ' countpad' : '';
  }
  const name = builder.node(opType, [x.name], attributes);
  const [kh, kw] = window.kernel;
  const text = `${opType === 'MaxPool' ? 'maxpool' : 'avgpool'}${kh}x${kw}${windowText(window)}${note}`;
  return { value: { ...x, name, height: window.out[0], width: window.out[1] }, text };
}

/** A point-wise layer: activation, BatchNormalization, per-channel or scalar Mul/Add, Dropout, Identity. */
export function drawPointwise(ctx: DrawContext, x: Activation): Drawn {
  const { random, builder, opset } = ctx;
  const choices: [string, number][] = [
    ['Relu', 5], ['LeakyRelu', 2], ['Clip', 2], ['Sigmoid', 1], ['BatchNormalization', 3],
    ['MulChannel', 1], ['MulScalar', 1], ['AddChannel', 1], ['AddScalar', 1], ['Dropout', 1], ['Identity', 1],
  ];
  if (opset >= 14) choices.push(['HardSwish', 2]);
  const choice = random.weighted(choices);
  const unary = (opType: string, attributes: Record<string, AttributeValue> = {}, inputs: string[] = []): Activation => ({
    ...x,
    name: builder.node(opType, [x.name, ...inputs], attributes),
  });
  switch (choice) {
    case 'LeakyRelu': {
      const alpha = round(random.uniform(0.01, 0.3));
      return { value: unary('LeakyRelu', { alpha: attr.float(alpha) }), text: `leakyrelu ${alpha}` };
    }
    case 'Clip': {
      const [low, high] = random.pick<[number, number]>([[0, 6], [-2, 4], [-3, 3], [-0.5, 5]]);
      const lowName = builder.scalar('clip.min', low);
      // Both bounds are optional inputs; a Clip with only a lower bound is a valid variant.
      const onlyLow = random.chance(0.2);
      const inputs = onlyLow ? [lowName] : [lowName, builder.scalar('clip.max', high)];
      return { value: unary('Clip', {}, inputs), text: onlyLow ? `clip ${low},∞` : `clip ${low},${high}` };
    }
    case 'BatchNormalization': {
      const c = x.channels;
      const scale = builder.initializer('bn.scale', [c], fillRange(random, c, 0.5, 1.5));
      const bias = builder.initializer('bn.bias', [c], fillRange(random, c, -0.2, 0.2));
      const mean = builder.initializer('bn.mean', [c], fillRange(random, c, -0.2, 0.2));
      const variance = builder.initializer('bn.var', [c], fillRange(random, c, 0.5, 2));
      const epsilon = random.pick([1e-5, 1e-3]);
      return { value: unary('BatchNormalization', { epsilon: attr.float(epsilon) }, [scale, bias, mean, variance]), text: 'bn' };
    }
    case 'MulChannel':
    case 'AddChannel': {
      const isMul = choice === 'MulChannel';
      const values = isMul ? fillRange(random, x.channels, 0.5, 1.5) : fillRange(random, x.channels, -0.3, 0.3);
      const constant = builder.initializer(isMul ? 'mul.channel' : 'add.channel', [1, x.channels, 1, 1], values);
      return { value: binaryWithConstant(ctx, isMul ? 'Mul' : 'Add', x, constant), text: isMul ? 'mul[c]' : 'add[c]' };
    }
    case 'MulScalar':
    case 'AddScalar': {
      const isMul = choice === 'MulScalar';
      const value = round(isMul ? random.uniform(0.5, 2) : random.uniform(-0.5, 0.5));
      const dims = random.pick([[], [1], [1, 1, 1, 1]]);
      const constant = builder.initializer(isMul ? 'mul.scalar' : 'add.scalar', dims, Float32Array.of(value));
      return { value: binaryWithConstant(ctx, isMul ? 'Mul' : 'Add', x, constant), text: `${isMul ? 'mul' : 'add'} ${value}` };
    }
    default:
      return { value: unary(choice), text: choice.toLowerCase() };
  }
}

/** Local response normalisation across channels, as in AlexNet/GoogLeNet. */
export function drawLrn(ctx: DrawContext, x: Activation): Drawn {
  const { random, builder } = ctx;
  const size = random.pick([1, 3, 5]);
  const name = builder.node('LRN', [x.name], {
    size: attr.int(size),
    alpha: attr.float(round(random.uniform(1e-4, 1e-2), 5)),
    beta: attr.float(round(random.uniform(0.5, 0.75))),
    bias: attr.float(round(random.uniform(1, 2))),
  });
  return { value: { ...x, name }, text: `lrn${size}` };
}

function binaryWithConstant(ctx: DrawContext, opType: 'Mul' | 'Add', x: Activation, constant: string): Activation {
  const inputs = ctx.random.chance(0.5) ? [x.name, constant] : [constant, x.name];
  return { ...x, name: ctx.builder.node(opType, inputs) };
}

/** Dense (1 group), depthwise (groups = channels) or grouped; `out` is honoured when given. */
function drawChannels(random: SeededRandom, channels: number, wanted: number | undefined, most: number): { groups: number; out: number } {
  const mode = random.weighted<'dense' | 'depthwise' | 'grouped'>([['dense', 6], ['depthwise', 2], ['grouped', 2]]);
  if (mode === 'depthwise' && channels > 1) {
    const doubled = channels * 2 <= 16 && random.chance(0.4) && channels * 2 <= most;
    const out = wanted ?? channels * (doubled ? 2 : 1);
    if (out % channels === 0) return { groups: channels, out };
  }
  if (mode === 'grouped') {
    const divisors = [2, 3, 4, 5, 6, 7, 8].filter((g) => g < channels && channels % g === 0);
    if (divisors.length > 0) {
      const groups = random.pick(divisors);
      const out = wanted ?? groups * Math.max(1, Math.min(random.int(1, Math.floor(16 / groups)), Math.floor(most / groups)));
      if (out % groups === 0) return { groups, out };
    }
  }
  return { groups: 1, out: wanted ?? Math.min(random.int(2, 16), most) };
}

type WindowKind = 'conv' | 'maxpool' | 'avgpool';

/** Tries a few random window shapes that fit `x` (and the constraint); undefined if none did. */
function drawWindow(random: SeededRandom, x: Activation, constraint: WindowConstraint, kind: WindowKind): Window | undefined {
  for (let attempt = 0; attempt < 30; attempt++) {
    const window = tryWindow(random, x, constraint, kind);
    if (window !== undefined) return window;
  }
  return undefined;
}

function tryWindow(random: SeededRandom, x: Activation, constraint: WindowConstraint, kind: WindowKind): Window | undefined {
  const sizes: Pair = [x.height, x.width];
  const kernel = random.weighted(kind === 'conv' ? CONV_KERNELS : POOL_KERNELS);
  const dilation = drawDilation(random, kernel, kind);
  const stride = constraint.stride ? [...constraint.stride] as Pair : drawStride(random, sizes);
  const isPool = kind !== 'conv';
  // onnxruntime requires pooling pads to be smaller than the kernel.
  const padLimit = (axis: number) => (isPool ? kernel[axis] - 1 : effectiveKernel(kernel[axis], dilation[axis]) - 1);

  if (constraint.target) {
    const target = constraint.target;
    const sameFits = sizes.every((s, axis) => Math.ceil(s / stride[axis]) === target[axis]);
    if (sameFits && dilation.every((d) => d === 1) && sizes.every((s, a) => samePadding(s, kernel[a], stride[a]) >= 0) && random.chance(0.25)) {
      const mode = random.pick<AutoPad>(['SAME_UPPER', 'SAME_LOWER']);
      return { kernel, stride, dilation, padding: { kind: 'auto', mode }, ceil: false, out: [target[0], target[1]] };
    }
    const pads: number[] = [0, 0, 0, 0];
    for (let axis = 0; axis < 2; axis++) {
      const total = paddingForOutput(sizes[axis], kernel[axis], stride[axis], dilation[axis], target[axis]);
      if (total === undefined) return undefined;
      const lowest = Math.max(0, total - padLimit(axis));
      const highest = Math.min(total, padLimit(axis));
      if (lowest > highest) return undefined;
      const begin = random.int(lowest, highest);
      pads[axis] = begin;
      pads[axis + 2] = total - begin;
    }
    return { kernel, stride, dilation, padding: explicitOrNone(pads), ceil: false, out: [target[0], target[1]] };
  }

  const style = random.weighted<'none' | 'symmetric' | 'asymmetric' | AutoPad>([
    ['none', 3], ['symmetric', 6], ['asymmetric', 5], ['SAME_UPPER', 2], ['SAME_LOWER', 2], ['VALID', 2],
  ]);
  if (style === 'SAME_UPPER' || style === 'SAME_LOWER' || style === 'VALID') {
    // onnxruntime rejects SAME_* padding with dilation (VALID is fine).
    if (style !== 'VALID' && dilation.some((d) => d !== 1)) return undefined;
    // Nor does it clamp a negative SAME padding (kernel smaller than stride) for pools.
    if (style !== 'VALID' && sizes.some((s, a) => samePadding(s, kernel[a], stride[a]) < 0)) return undefined;
    const out: Pair = [0, 1].map((a) => autoPadOutput(sizes[a], kernel[a], stride[a], dilation[a], style)) as Pair;
    if (!usable(out, sizes)) return undefined;
    return { kernel, stride, dilation, padding: { kind: 'auto', mode: style }, ceil: false, out };
  }
  const pads = [0, 0, 0, 0];
  if (style !== 'none') {
    for (let axis = 0; axis < 2; axis++) {
      const limit = Math.min(padLimit(axis), 3);
      pads[axis] = random.int(0, limit);
      pads[axis + 2] = style === 'symmetric' ? pads[axis] : random.int(0, limit);
    }
  }
  let ceil = isPool && random.chance(0.6);
  if (ceil) {
    ceil = [0, 1].every((a) => ceilWindowStartsInside(sizes[a], kernel[a], stride[a], dilation[a], pads[a], pads[a + 2]));
  }
  const out = [0, 1].map((a) => windowOutput(sizes[a], kernel[a], stride[a], dilation[a], pads[a], pads[a + 2], ceil)) as Pair;
  if (!usable(out, sizes)) return undefined;
  // Mostly keep ceil_mode only where it adds a window, so that it is actually exercised.
  const ceilAddsWindow = [0, 1].some((a) => out[a] !== windowOutput(sizes[a], kernel[a], stride[a], dilation[a], pads[a], pads[a + 2]));
  if (ceil && !ceilAddsWindow && random.chance(0.7)) return undefined;
  return { kernel, stride, dilation, padding: explicitOrNone(pads), ceil, out };
}

/** The total padding SAME_* needs: (⌈size / stride⌉ − 1)·stride + kernel − size; negative if the windows skip input. */
function samePadding(size: number, kernel: number, stride: number): number {
  return (Math.ceil(size / stride) - 1) * stride + kernel - size;
}

/** A 1×1 window with the requested stride: always fits, and gives ⌈size / stride⌉ like SAME. */
function fallbackWindow(x: Activation, constraint: WindowConstraint): Window {
  const stride: Pair = constraint.stride ? [constraint.stride[0], constraint.stride[1]] : [1, 1];
  const out: Pair = [Math.ceil(x.height / stride[0]), Math.ceil(x.width / stride[1])];
  return { kernel: [1, 1], stride, dilation: [1, 1], padding: { kind: 'none' }, ceil: false, out };
}

/** An output is usable if it is not empty and does not collapse a large input to a sliver. */
function usable(out: Pair, sizes: Pair): boolean {
  return out.every((o, axis) => o >= 1 && (o >= 2 || sizes[axis] < 4));
}

function drawDilation(random: SeededRandom, kernel: Pair, kind: WindowKind): Pair {
  if (kind === 'avgpool') return [1, 1]; // AveragePool gains dilations only in opset 19
  const rate = kind === 'conv' ? 0.35 : 0.25;
  if (!random.chance(rate)) return [1, 1];
  const d = random.pick([2, 2, 3]);
  const dilation: Pair = [kernel[0] > 1 ? d : 1, kernel[1] > 1 ? d : 1];
  if (random.chance(0.2) && kernel[1] > 1) dilation[1] = random.int(1, 3);
  return dilation;
}

function drawStride(random: SeededRandom, sizes: Pair): Pair {
  const canHalve = (axis: number) => sizes[axis] >= 6;
  if (!random.chance(0.3)) return [1, 1];
  if (random.chance(0.85)) return [canHalve(0) && canHalve(1) ? 2 : 1, canHalve(0) && canHalve(1) ? 2 : 1];
  return random.chance(0.5) ? [canHalve(0) ? 2 : 1, 1] : [1, canHalve(1) ? 2 : 1];
}

function explicitOrNone(pads: readonly number[]): Padding {
  return pads.every((p) => p === 0) ? { kind: 'none' } : { kind: 'explicit', pads: [pads[0], pads[1], pads[2], pads[3]] };
}

/** ONNX attributes of a window; defaults are sometimes written out and sometimes left implicit. */
function windowAttributes(random: SeededRandom, window: Window, hasDilations = true): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = { kernel_shape: attr.ints(window.kernel) };
  const isDefault = (values: readonly number[], value: number) => values.every((v) => v === value);
  if (!isDefault(window.stride, 1) || random.chance(0.5)) attributes.strides = attr.ints(window.stride);
  if (hasDilations && (!isDefault(window.dilation, 1) || random.chance(0.3))) attributes.dilations = attr.ints(window.dilation);
  if (window.padding.kind === 'explicit') attributes.pads = attr.ints(window.padding.pads);
  else if (window.padding.kind === 'none' && random.chance(0.3)) attributes.pads = attr.ints([0, 0, 0, 0]);
  else if (window.padding.kind === 'auto') attributes.auto_pad = attr.string(window.padding.mode);
  if (window.ceil) attributes.ceil_mode = attr.int(1);
  return attributes;
}

function windowText(window: Window): string {
  const parts: string[] = [];
  if (window.stride.some((s) => s !== 1)) parts.push(`s${window.stride.join('x')}`);
  if (window.dilation.some((d) => d !== 1)) parts.push(`d${window.dilation.join('x')}`);
  if (window.padding.kind === 'explicit') parts.push(`p[${window.padding.pads.join(',')}]`);
  if (window.padding.kind === 'auto') parts.push(window.padding.mode.toLowerCase());
  if (window.ceil) parts.push('ceil');
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** True when the last window reaches past the input plus its end padding (ceil mode only). */
function overhangsEnd(x: Activation, window: Window): boolean {
  if (window.padding.kind !== 'explicit' && window.padding.kind !== 'none') return false;
  const pads = window.padding.kind === 'explicit' ? window.padding.pads : [0, 0, 0, 0];
  const sizes = [x.height, x.width];
  return [0, 1].some((a) => (window.out[a] - 1) * window.stride[a] + window.kernel[a] > sizes[a] + pads[a] + pads[a + 2]);
}

function fillRange(random: SeededRandom, length: number, low: number, high: number): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = random.uniform(low, high);
  return data;
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
