import { attr } from './onnx-graph-builder.js';
import type { AttributeValue } from './onnx-graph-builder.js';
import type { Activation } from './cnn-graph.js';
import { drawConv } from './random-cnn-layers.js';
import type { DrawContext, Drawn } from './random-cnn-layers.js';

/**
 * The rest of the element-wise operators the incremental engine treats as point-wise or as merges,
 * and the layers it must run in full or fold away. Ops with a restricted domain get an input that
 * stays inside it (|x| + c before Log, Sqrt and Reciprocal; Tanh before Exp and Pow), so every
 * graph computes finite values.
 */

interface UnaryChoice {
  readonly name: string;
  readonly weight: number;
  readonly minOpset?: number;
  /** ONNX defines it for float only. */
  readonly float32Only?: boolean;
  readonly build: (ctx: DrawContext, x: Activation) => string;
}

const node = (ctx: DrawContext, opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}) =>
  ctx.builder.node(opType, inputs, attributes);

/** |x| + c with c in [0.5, 1.5]: positive, so the ops that need it stay finite and well-conditioned. */
function positive(ctx: DrawContext, x: Activation): string {
  const offset = ctx.builder.scalar('positive.offset', round(ctx.random.uniform(0.5, 1.5)));
  return node(ctx, 'Add', [node(ctx, 'Abs', [x.name]), offset]);
}

function perChannel(ctx: DrawContext, prefix: string, x: Activation, low: number, high: number): string {
  const values = new Float32Array(x.channels);
  for (let i = 0; i < x.channels; i++) values[i] = ctx.random.uniform(low, high);
  return ctx.builder.initializer(prefix, [1, x.channels, 1, 1], values);
}

/**
 * Continuous unary layers: small float differences between two ways of computing stay small.
 * Weights make up for the ops that only the later opsets have.
 */
const CONTINUOUS: readonly UnaryChoice[] = [
  {
    name: 'prelu',
    weight: 2,
    build: (ctx, x) => {
      // The slope broadcasts from [C, 1, 1] (per channel) or [1] (shared).
      const shared = ctx.random.chance(0.3);
      const slope = new Float32Array(shared ? 1 : x.channels).map(() => ctx.random.uniform(0.05, 0.4));
      return node(ctx, 'PRelu', [x.name, ctx.builder.initializer('prelu.slope', shared ? [1] : [x.channels, 1, 1], slope)]);
    },
  },
  { name: 'elu', weight: 1, build: (ctx, x) => node(ctx, 'Elu', [x.name], { alpha: attr.float(round(ctx.random.uniform(0.5, 1.5))) }) },
  { name: 'selu', weight: 1, build: (ctx, x) => node(ctx, 'Selu', [x.name]) },
  { name: 'celu', weight: 1, minOpset: 12, float32Only: true, build: (ctx, x) => node(ctx, 'Celu', [x.name], { alpha: attr.float(round(ctx.random.uniform(0.5, 2))) }) },
  // A gentler slope than the default 0.2, so that a following global max pool rarely sees it saturate.
  { name: 'hardsigmoid', weight: 2, build: (ctx, x) => node(ctx, 'HardSigmoid', [x.name], { alpha: attr.float(0.1), beta: attr.float(0.5) }) },
  { name: 'tanh', weight: 2, build: (ctx, x) => node(ctx, 'Tanh', [x.name]) },
  { name: 'softplus', weight: 1, build: (ctx, x) => node(ctx, 'Softplus', [x.name]) },
  { name: 'softsign', weight: 1, build: (ctx, x) => node(ctx, 'Softsign', [x.name]) },
  { name: 'abs', weight: 1, build: (ctx, x) => node(ctx, 'Abs', [x.name]) },
  { name: 'neg', weight: 1, build: (ctx, x) => node(ctx, 'Neg', [x.name]) },
  { name: 'erf', weight: 1, build: (ctx, x) => node(ctx, 'Erf', [x.name]) },
  { name: 'mish', weight: 4, minOpset: 18, build: (ctx, x) => node(ctx, 'Mish', [x.name]) },
  { name: 'gelu', weight: 20, minOpset: 20, build: (ctx, x) => node(ctx, 'Gelu', [x.name], ctx.random.chance(0.5) ? { approximate: attr.string('tanh') } : {}) },
  {
    // bias = lambd makes Shrink continuous (soft shrinkage).
    name: 'softshrink',
    weight: 1,
    build: (ctx, x) => {
      const lambd = round(ctx.random.uniform(0.1, 0.5));
      return node(ctx, 'Shrink', [x.name], { lambd: attr.float(lambd), bias: attr.float(lambd) });
    },
  },
  { name: 'exp', weight: 2, build: (ctx, x) => node(ctx, 'Exp', [node(ctx, 'Tanh', [x.name])]) },
  { name: 'log', weight: 1, build: (ctx, x) => node(ctx, 'Log', [positive(ctx, x)]) },
  { name: 'sqrt', weight: 1, build: (ctx, x) => node(ctx, 'Sqrt', [positive(ctx, x)]) },
  { name: 'reciprocal', weight: 1, build: (ctx, x) => node(ctx, 'Reciprocal', [positive(ctx, x)]) },
  {
    name: 'pow',
    weight: 1,
    build: (ctx, x) => ctx.random.chance(0.5)
      ? node(ctx, 'Pow', [node(ctx, 'Tanh', [x.name]), ctx.builder.scalar('pow.exponent', ctx.random.pick([2, 3]))])
      : node(ctx, 'Pow', [positive(ctx, x), ctx.builder.scalar('pow.exponent', 0.5)]),
  },
  { name: 'max[c]', weight: 1, build: (ctx, x) => node(ctx, 'Max', [x.name, perChannel(ctx, 'max.floor', x, -0.5, 0.2)]) },
  { name: 'min[c]', weight: 1, build: (ctx, x) => node(ctx, 'Min', [perChannel(ctx, 'min.ceiling', x, 4, 8), x.name]) },
  {
    name: 'sub[c]',
    weight: 1,
    build: (ctx, x) => {
      const constant = perChannel(ctx, 'sub.channel', x, -0.3, 0.3);
      return node(ctx, 'Sub', ctx.random.chance(0.5) ? [x.name, constant] : [constant, x.name]);
    },
  },
  { name: 'div[c]', weight: 1, build: (ctx, x) => node(ctx, 'Div', [x.name, perChannel(ctx, 'div.channel', x, 0.5, 2)]) },
];

/**
 * Unary layers with jumps (Floor, Sign, hard Shrink…). The last bit of a float can move a value
 * across a jump, so they are only drawn on the model's input, which both ways of computing see
 * exactly.
 */
const STEPS: readonly UnaryChoice[] = [
  { name: 'floor', weight: 1, build: (ctx, x) => quantized(ctx, x, 'Floor') },
  { name: 'ceil', weight: 1, build: (ctx, x) => quantized(ctx, x, 'Ceil') },
  { name: 'round', weight: 1, build: (ctx, x) => quantized(ctx, x, 'Round') },
  { name: 'sign', weight: 1, build: (ctx, x) => node(ctx, 'Sign', [x.name]) },
  { name: 'thresholdedrelu', weight: 1, build: (ctx, x) => node(ctx, 'ThresholdedRelu', [x.name], { alpha: attr.float(0.1) }) },
  { name: 'hardshrink', weight: 1, build: (ctx, x) => node(ctx, 'Shrink', [x.name], { lambd: attr.float(0.2) }) },
];

/**
 * Fake quantisation of the input to steps of 1/16: (x · 16) rounded, then / 16, all exact in
 * binary floating point, so the values keep their scale and many levels.
 */
function quantized(ctx: DrawContext, x: Activation, rounding: 'Floor' | 'Ceil' | 'Round'): string {
  const scaled = node(ctx, 'Mul', [x.name, ctx.builder.scalar('quantize.scale', 16)]);
  return node(ctx, 'Mul', [node(ctx, rounding, [scaled]), ctx.builder.scalar('quantize.step', 1 / 16)]);
}

function drawFrom(ctx: DrawContext, x: Activation, choices: readonly UnaryChoice[]): Drawn {
  const float16 = ctx.builder.elementType === 'float16';
  const available = choices.filter((choice) => (choice.minOpset ?? 0) <= ctx.opset && !(float16 && choice.float32Only));
  const choice = ctx.random.weighted(available.map((c) => [c, c.weight] as const));
  return { value: { ...x, name: choice.build(ctx, x) }, text: choice.name };
}

/** A continuous element-wise layer of one activation (and constants uniform over space). */
export function drawUnary(ctx: DrawContext, x: Activation): Drawn {
  return drawFrom(ctx, x, CONTINUOUS);
}

/** A step function of the model's input. */
export function drawStep(ctx: DrawContext, x: Activation): Drawn {
  return drawFrom(ctx, x, STEPS);
}

/**
 * Sub, Div, Max, Min, Pow, Sum or Mean of two or three same-shape activations: the input and
 * same-shape conv branches of it.
 */
export function drawElementwiseMerge(ctx: DrawContext, x: Activation): Drawn {
  const { random } = ctx;
  const same = { out: x.channels, stride: [1, 1] as const, target: [x.height, x.width] as const };
  const op = random.weighted<string>([['Sub', 2], ['Div', 1], ['Max', 2], ['Min', 1], ['Pow', 1], ['Sum', 2], ['Mean', 2]]);
  const branch = drawConv(ctx, x, same);
  const operands: Drawn[] = random.chance(0.6) ? [{ value: x, text: 'x' }, branch] : [branch, drawConv(ctx, x, same)];
  if ((op === 'Sum' || op === 'Mean') && random.chance(0.4)) operands.push(drawConv(ctx, x, same));
  if (random.chance(0.5)) operands.reverse();
  let inputs = operands.map((operand) => operand.value.name);
  if (op === 'Div') inputs = [inputs[0], positive(ctx, operands[1].value)];
  // A positive base and an exponent in (0, 1): finite, and no steep slope to amplify rounding.
  if (op === 'Pow') inputs = [positive(ctx, operands[0].value), node(ctx, 'Sigmoid', [inputs[1]])];
  const name = node(ctx, op, inputs);
  return { value: { ...x, name }, text: `${op.toLowerCase()}(${operands.map((o) => o.text).join('; ')})` };
}

/**
 * An Add of a constant that varies over space, like a positional bias: no longer point-wise, so the
 * engine must run it (and what follows) in full.
 */
export function drawSpatialBias(ctx: DrawContext, x: Activation): Drawn {
  const { random, builder } = ctx;
  const perChannel = random.chance(0.5);
  const dims = perChannel ? [1, x.channels, x.height, x.width] : [x.height, x.width];
  const size = dims.reduce((a, b) => a * b, 1);
  const bias = builder.initializer('spatial.bias', dims, random.fillUniform(new Float32Array(size), 0.1));
  const name = node(ctx, 'Add', random.chance(0.5) ? [x.name, bias] : [bias, x.name]);
  return { value: { ...x, name }, text: perChannel ? 'add[chw]' : 'add[hw]' };
}

/** A per-channel scale computed from constants inside the graph (Sqrt of an initializer), as exporters leave them. */
export function drawFoldedScale(ctx: DrawContext, x: Activation): Drawn {
  const variance = perChannel(ctx, 'folded.variance', x, 0.25, 4);
  const scale = node(ctx, ctx.random.chance(0.5) ? 'Sqrt' : 'Reciprocal', [variance]);
  const name = node(ctx, 'Mul', ctx.random.chance(0.5) ? [x.name, scale] : [scale, x.name]);
  return { value: { ...x, name }, text: 'mul[folded]' };
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
