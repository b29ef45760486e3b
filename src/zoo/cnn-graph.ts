import { attr } from './onnx-graph-builder.js';
import type { AttributeValue, OnnxGraphBuilder } from './onnx-graph-builder.js';
import type { SeededRandom } from './seeded-random.js';

/** A value in the graph with its per-image shape (channels, height, width). */
export interface Activation {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** A size given once for both spatial axes, or as [height, width] like torchvision's tuples. */
export type PairLike = number | readonly [number, number];

export interface ConvSpec {
  readonly out: number;
  readonly kernel: PairLike;
  readonly stride?: PairLike;
  /** Symmetric zero padding per axis, as torchvision's `padding`. */
  readonly padding?: PairLike;
  readonly groups?: number;
  readonly bias?: boolean;
  /** Multiplies the He-initialised weights' standard deviation. */
  readonly gain?: number;
}

export interface PoolSpec {
  readonly kernel: PairLike;
  readonly stride?: PairLike;
  readonly padding?: PairLike;
  readonly ceilMode?: boolean;
}

/** Thrown while shaping a network when the input is too small for some layer. */
export class InputTooSmallError extends Error {}

/**
 * torchvision-style layers on top of OnnxGraphBuilder. It tracks each activation's shape (so a
 * too-small input is caught, and flattening knows its size) and draws seeded weights. With
 * `shapesOnly` it builds the graph structure without drawing or storing any weights, which lets a
 * caller check input sizes cheaply.
 */
export class CnnGraph {
  constructor(
    readonly builder: OnnxGraphBuilder,
    private readonly random: SeededRandom,
    private readonly shapesOnly = false,
  ) {}

  /** Conv2d with He-uniform weights (std √(2 / fan_in) · gain) and, if asked, small biases. */
  conv(x: Activation, spec: ConvSpec, prefix = 'conv'): Activation {
    const [kh, kw] = pair(spec.kernel);
    const [sh, sw] = pair(spec.stride ?? 1);
    const [ph, pw] = pair(spec.padding ?? 0);
    const groups = spec.groups ?? 1;
    if (x.channels % groups !== 0 || spec.out % groups !== 0) {
      throw new Error(`${prefix}: ${x.channels}→${spec.out} channels do not split into ${groups} groups`);
    }
    const height = convOutput(x.height, kh, sh, ph, ph, prefix);
    const width = convOutput(x.width, kw, sw, pw, pw, prefix);
    const fanIn = (x.channels / groups) * kh * kw;
    const weight = this.weight(`${prefix}.weight`, [spec.out, x.channels / groups, kh, kw], (data) =>
      this.random.fillUniform(data, (spec.gain ?? 1) * Math.sqrt(2 / fanIn)),
    );
    const inputs = [x.name, weight];
    if (spec.bias) {
      inputs.push(this.weight(`${prefix}.bias`, [spec.out], (data) => this.random.fillUniform(data, 0.01)));
    }
    const attributes: Record<string, AttributeValue> = {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([sh, sw]),
      pads: attr.ints([ph, pw, ph, pw]),
      dilations: attr.ints([1, 1]),
    };
    if (groups !== 1) attributes.group = attr.int(groups);
    return { name: this.builder.node('Conv', inputs, attributes), channels: spec.out, height, width };
  }

  /**
   * BatchNormalization with running statistics near the identity (mean ≈ 0, var ≈ 1) and
   * γ ≈ `gamma`: the He-initialised convolutions already keep activations at unit scale, so BN only
   * rescales by `gamma`, which the architectures use to damp residual branches.
   */
  batchNorm(x: Activation, options: { epsilon?: number; gamma?: number } = {}, prefix = 'bn'): Activation {
    const c = x.channels;
    const gamma = options.gamma ?? 1;
    const scale = this.weight(`${prefix}.weight`, [c], (d) => fillRange(this.random, d, 0.9 * gamma, 1.1 * gamma));
    const bias = this.weight(`${prefix}.bias`, [c], (d) => fillRange(this.random, d, -0.05, 0.05));
    const mean = this.weight(`${prefix}.running_mean`, [c], (d) => fillRange(this.random, d, -0.05, 0.05));
    const variance = this.weight(`${prefix}.running_var`, [c], (d) => fillRange(this.random, d, 0.9, 1.1));
    const name = this.builder.node('BatchNormalization', [x.name, scale, bias, mean, variance], {
      epsilon: attr.float(options.epsilon ?? 1e-5),
    });
    return { ...x, name };
  }

  relu(x: Activation): Activation {
    return { ...x, name: this.builder.node('Relu', [x.name]) };
  }

  /** ReLU6 as Clip(0, 6), the form torch exports from opset 11 on (bounds are inputs). */
  relu6(x: Activation): Activation {
    const low = this.builder.scalar('relu6.min', 0);
    const high = this.builder.scalar('relu6.max', 6);
    return { ...x, name: this.builder.node('Clip', [x.name, low, high]) };
  }

  maxPool(x: Activation, spec: PoolSpec): Activation {
    return this.pool('MaxPool', x, spec, {});
  }

  /** AveragePool; torchvision's avg_pool2d counts the zero padding (count_include_pad) by default. */
  avgPool(x: Activation, spec: PoolSpec, countIncludePad = true): Activation {
    return this.pool('AveragePool', x, spec, { count_include_pad: attr.int(countIncludePad ? 1 : 0) });
  }

  add(a: Activation, b: Activation): Activation {
    sameShape(a, b, 'Add');
    return { ...a, name: this.builder.node('Add', [a.name, b.name]) };
  }

  /** Channel concatenation, as in Inception blocks and Fire modules. */
  concat(parts: readonly Activation[]): Activation {
    for (const part of parts) {
      if (part.height !== parts[0].height || part.width !== parts[0].width) {
        throw new Error(`Concat of ${part.height}x${part.width} and ${parts[0].height}x${parts[0].width}`);
      }
    }
    const channels = parts.reduce((sum, p) => sum + p.channels, 0);
    const name = this.builder.node('Concat', parts.map((p) => p.name), { axis: attr.int(1) });
    return { name, channels, height: parts[0].height, width: parts[0].width };
  }

  /** GlobalAveragePool then Flatten: [batch, C, H, W] → [batch, C] (torch's adaptive pool to 1 + flatten). */
  globalAvgPoolFlat(x: Activation): Activation {
    const pooled = this.builder.node('GlobalAveragePool', [x.name]);
    return this.flatten({ ...x, name: pooled, height: 1, width: 1 });
  }

  /** Flatten from axis 1: the result is [batch, C·H·W], kept here as channels = C·H·W, 1×1. */
  flatten(x: Activation): Activation {
    const name = this.builder.node('Flatten', [x.name], { axis: attr.int(1) });
    return { name, channels: x.channels * x.height * x.width, height: 1, width: 1 };
  }

  /** torch.nn.Linear as Gemm with transB (weight [out, in]), He-uniform weights · gain, small bias. */
  linear(x: Activation, out: number, gain = 1, prefix = 'fc'): Activation {
    const fanIn = x.channels;
    const weight = this.weight(`${prefix}.weight`, [out, fanIn], (d) =>
      this.random.fillUniform(d, gain * Math.sqrt(2 / fanIn)),
    );
    const bias = this.weight(`${prefix}.bias`, [out], (d) => this.random.fillUniform(d, 0.01));
    const name = this.builder.node('Gemm', [x.name, weight, bias], { transB: attr.int(1) });
    return { name, channels: out, height: 1, width: 1 };
  }

  /** A float initializer filled by `fill`, or just a name when only shapes are wanted. */
  weight(prefix: string, dims: readonly number[], fill: (data: Float32Array) => void): string {
    if (this.shapesOnly) return this.builder.uniqueName(prefix);
    const data = new Float32Array(dims.reduce((product, d) => product * d, 1));
    fill(data);
    return this.builder.initializer(prefix, dims, data);
  }

  private pool(
    opType: 'MaxPool' | 'AveragePool',
    x: Activation,
    spec: PoolSpec,
    extra: Record<string, AttributeValue>,
  ): Activation {
    const [kh, kw] = pair(spec.kernel);
    const [sh, sw] = pair(spec.stride ?? spec.kernel);
    const [ph, pw] = pair(spec.padding ?? 0);
    const ceil = spec.ceilMode ?? false;
    const height = poolOutput(x.height, kh, sh, ph, ceil, opType);
    const width = poolOutput(x.width, kw, sw, pw, ceil, opType);
    const attributes: Record<string, AttributeValue> = {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([sh, sw]),
      pads: attr.ints([ph, pw, ph, pw]),
      ...extra,
    };
    if (ceil) attributes.ceil_mode = attr.int(1);
    return { ...x, name: this.builder.node(opType, [x.name], attributes), height, width };
  }
}

export function pair(value: PairLike): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

function convOutput(size: number, kernel: number, stride: number, padBegin: number, padEnd: number, layer: string): number {
  const span = size + padBegin + padEnd - kernel;
  if (span < 0) throw new InputTooSmallError(`${layer}: ${size} px is smaller than its ${kernel} px kernel`);
  return Math.floor(span / stride) + 1;
}

/**
 * Pooling output size as torch computes it: with ceil_mode the last window may run past the end,
 * but is dropped if it would start inside the right padding.
 */
function poolOutput(size: number, kernel: number, stride: number, pad: number, ceil: boolean, layer: string): number {
  const span = size + 2 * pad - kernel;
  if (span < 0) throw new InputTooSmallError(`${layer}: ${size} px is smaller than its ${kernel} px window`);
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out -= 1;
  return out;
}

function sameShape(a: Activation, b: Activation, op: string): void {
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
    throw new Error(`${op} of ${a.channels}x${a.height}x${a.width} and ${b.channels}x${b.height}x${b.width}`);
  }
}

function fillRange(random: SeededRandom, data: Float32Array, low: number, high: number): void {
  for (let i = 0; i < data.length; i++) data[i] = random.uniform(low, high);
}
