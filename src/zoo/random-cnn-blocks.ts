import { attr } from './onnx-graph-builder.js';
import type { Activation } from './cnn-graph.js';
import { drawConv, drawPointwise, drawPool } from './random-cnn-layers.js';
import type { DrawContext, Drawn } from './random-cnn-layers.js';

/**
 * Residual Add of two activations: the input plus a same-shape conv branch, or two conv branches
 * of the input that agree in shape (possibly strided, like ResNet's downsampling blocks).
 */
export function drawResidual(ctx: DrawContext, x: Activation): Drawn {
  const { random, builder } = ctx;
  let left: Drawn;
  let right: Drawn;
  if (random.chance(0.65)) {
    left = { value: x, text: 'x' };
    right = drawConv(ctx, x, { out: x.channels, stride: [1, 1], target: [x.height, x.width] });
    if (random.chance(0.5)) right = then(right, drawPointwise(ctx, right.value));
    if (random.chance(0.3)) {
      right = then(right, drawConv(ctx, right.value, { out: x.channels, stride: [1, 1], target: [x.height, x.width] }));
    }
  } else {
    const stride = halvingStride(random, x);
    const target: [number, number] = [Math.ceil(x.height / stride[0]), Math.ceil(x.width / stride[1])];
    const out = Math.min(random.int(2, 16), ctx.maxChannels ?? Infinity);
    left = drawConv(ctx, x, { out, stride, target });
    right = drawConv(ctx, x, { out, stride, target });
  }
  const [a, b] = random.chance(0.5) ? [left, right] : [right, left];
  const name = builder.node('Add', [a.value.name, b.value.name]);
  return { value: { ...left.value, name }, text: `add(${a.text}; ${b.text})` };
}

/** Mul of two activations: a conv branch times the input, or times a sigmoid gate (attention-like). */
export function drawProduct(ctx: DrawContext, x: Activation): Drawn {
  const { random, builder } = ctx;
  const same = { out: x.channels, stride: [1, 1] as const, target: [x.height, x.width] as const };
  const left = drawConv(ctx, x, same);
  let right: Drawn = { value: x, text: 'x' };
  if (random.chance(0.5)) {
    const gate = drawConv(ctx, x, same);
    right = { value: { ...gate.value, name: builder.node('Sigmoid', [gate.value.name]) }, text: `sigmoid(${gate.text})` };
  }
  const [a, b] = random.chance(0.5) ? [left, right] : [right, left];
  const name = builder.node('Mul', [a.value.name, b.value.name]);
  return { value: { ...left.value, name }, text: `mul(${a.text}; ${b.text})` };
}

/**
 * Channel Concat of 2–3 branches (convs with different kernels and paddings, pools, or the input
 * itself), all brought to the same spatial size, like an Inception block.
 */
export function drawConcat(ctx: DrawContext, x: Activation): Drawn {
  const { random, builder } = ctx;
  const stride = random.chance(0.3) ? halvingStride(random, x) : ([1, 1] as [number, number]);
  const target: [number, number] = [Math.ceil(x.height / stride[0]), Math.ceil(x.width / stride[1])];
  const count = random.int(2, 3);
  const branches: Drawn[] = [];
  let usedInput = false;
  while (branches.length < count) {
    const kind = random.weighted<'conv' | 'pool' | 'input'>([['conv', 6], ['pool', 3], ['input', 1]]);
    if (kind === 'input' && !usedInput && stride[0] === 1 && stride[1] === 1) {
      usedInput = true;
      branches.push({ value: x, text: 'x' });
      continue;
    }
    const pool = kind === 'pool' ? drawPool(ctx, x, { stride, target }) : undefined;
    if (pool) {
      branches.push(pool);
      continue;
    }
    let branch = drawConv(ctx, x, { out: Math.min(random.int(2, 6), ctx.maxChannels ?? Infinity), stride, target });
    if (random.chance(0.4)) branch = then(branch, drawPointwise(ctx, branch.value));
    branches.push(branch);
  }
  const name = builder.node('Concat', branches.map((b) => b.value.name), { axis: attr.int(random.chance(0.8) ? 1 : -3) });
  const channels = branches.reduce((sum, b) => sum + b.value.channels, 0);
  return {
    value: { name, channels, height: target[0], width: target[1] },
    text: `concat(${branches.map((b) => b.text).join('; ')})`,
  };
}

/** The classifier head's output: the final value and its number of columns. */
export interface Head {
  readonly name: string;
  readonly columns: number;
  readonly text: string;
}

/**
 * A head that ends in [batch, K]: global average/max pool → Flatten → Gemm, Flatten → Gemm on the
 * whole map, or ReduceMean over H and W (then maybe Gemm); sometimes a final Softmax.
 */
export function drawHead(ctx: DrawContext, x: Activation): Head {
  const { random, builder, opset } = ctx;
  const kinds: [string, number][] = [['gap', 3], ['gmp', 2], ['reducemean', 3]];
  if (x.channels * x.height * x.width <= 4096) kinds.push(['flatten', 3]);
  const kind = random.weighted(kinds);
  let value: string;
  let features: number;
  let text: string;
  let gemm = true;
  if (kind === 'reducemean') {
    const axes = random.pick([[2, 3], [-2, -1]]);
    // ReduceMean takes its axes as an input from opset 18, as an attribute before.
    value = opset >= 18
      ? builder.node('ReduceMean', [x.name, builder.int64Initializer('reduce.axes', [2], axes)], { keepdims: attr.int(0) })
      : builder.node('ReduceMean', [x.name], { axes: attr.ints(axes), keepdims: attr.int(0) });
    features = x.channels;
    gemm = random.chance(0.5);
    text = 'reducemean';
  } else if (kind === 'flatten') {
    value = builder.node('Flatten', [x.name], { axis: attr.int(1) });
    features = x.channels * x.height * x.width;
    text = 'flatten';
  } else {
    const pooled = builder.node(kind === 'gap' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name]);
    value = builder.node('Flatten', [pooled], { axis: attr.int(1) });
    features = x.channels;
    text = `${kind} flatten`;
  }
  let columns = features;
  if (gemm) {
    columns = random.int(2, 10);
    const transposed = random.chance(0.7);
    const weight = builder.initializer('gemm.weight', transposed ? [columns, features] : [features, columns],
      random.fillUniform(new Float32Array(columns * features), Math.sqrt(1 / features)));
    const inputs = [value, weight];
    if (random.chance(0.8)) inputs.push(builder.initializer('gemm.bias', [columns], random.fillUniform(new Float32Array(columns), 0.1)));
    value = builder.node('Gemm', inputs, transposed ? { transB: attr.int(1) } : {});
    text += ` gemm${columns}`;
  }
  if (random.chance(0.25)) {
    value = builder.node('Softmax', [value], { axis: attr.int(random.chance(0.5) ? 1 : -1) });
    text += ' softmax';
  }
  return { name: value, columns, text };
}

function then(first: Drawn, second: Drawn): Drawn {
  return { value: second.value, text: `${first.text} ${second.text}` };
}

function halvingStride(random: { chance(p: number): boolean }, x: Activation): [number, number] {
  return x.height >= 6 && x.width >= 6 && random.chance(0.6) ? [2, 2] : [1, 1];
}
