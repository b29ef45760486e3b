import { KryptonError } from '../errors.js';
import type { Activation } from './cnn-graph.js';
import { OnnxGraphBuilder } from './onnx-graph-builder.js';
import type { ElementType } from './onnx-graph-builder.js';
import { drawConcat, drawHead, drawProduct, drawResidual } from './random-cnn-blocks.js';
import { drawElementwiseMerge, drawFoldedScale, drawSpatialBias, drawStep, drawUnary } from './random-cnn-elementwise.js';
import { drawConv, drawLrn, drawPointwise, drawPool } from './random-cnn-layers.js';
import type { DrawContext, Drawn } from './random-cnn-layers.js';
import { SeededRandom } from './seeded-random.js';

export interface RandomCnnOptions {
  /** ONNX opset, 11–18; drawn from the seed when absent. */
  readonly opset?: number;
  /** Type of input, output and weights; drawn when absent (float16 for about one seed in five). */
  readonly elementType?: ElementType;
  /** Declare the batch dimension as the fixed size 1 instead of a symbolic one; drawn when absent. */
  readonly fixedBatch?: boolean;
  /** Most layers before the head (a merge block counts as one), 1–10; default 10. */
  readonly maxLayers?: number;
  /**
   * Layers (by index among those drawn) to leave out: each is still drawn, into a graph that is
   * thrown away, so the layers after it draw what they would have. For shrinking a failing graph.
   */
  readonly skipLayers?: readonly number[];
  /** Caps the output channels a conv chooses freely (at least 1). For shrinking. */
  readonly maxChannels?: number;
  /** Overrides the drawn input channels and size (each side at least 4). For shrinking. */
  readonly input?: { readonly channels: 1 | 3; readonly height: number; readonly width: number };
}

export interface RandomCnn {
  readonly model: Uint8Array;
  readonly inputName: string;
  readonly outputName: string;
  /** Channels, height, width of one image. */
  readonly inputShape: [number, number, number];
  /** One line naming every layer, to tell failing seeds apart. */
  readonly description: string;
  readonly opset: number;
  readonly elementType: ElementType;
  /** When true the model's declared input is [1, C, H, W] and it only runs at batch 1. */
  readonly fixedBatch: boolean;
  /** Layers drawn before the head, skipped ones included (what `skipLayers` indexes). */
  readonly drawnLayers: number;
}

export const RANDOM_CNN_OPSETS = { min: 11, max: 20 } as const;

type LayerKind =
  | 'conv' | 'pool' | 'pointwise' | 'lrn' | 'residual' | 'product' | 'concat'
  | 'unary' | 'merge' | 'spatial' | 'folded';

const LAYER_WEIGHTS: readonly (readonly [LayerKind, number])[] = [
  ['conv', 30], ['pool', 12], ['pointwise', 24], ['lrn', 4], ['residual', 10], ['product', 6], ['concat', 10],
  ['unary', 24], ['merge', 8], ['spatial', 2], ['folded', 2],
];

/**
 * A small random but valid CNN as an ONNX model, the same for the same seed and options: property
 * tests of the incremental-inference engine run it next to full inference. It mixes strided,
 * dilated, grouped and depthwise convolutions with every padding style, max/average pools with
 * ceil_mode and padding, every point-wise and element-wise operator the engine knows (step
 * functions on the input only), LRN, residual Adds, Muls and other merges, Concats, constants folded
 * in the graph, biases that vary over space, and one of several heads. Weights are He-scaled so
 * activations stay within a few units.
 */
export function randomCnn(seed: number, options: RandomCnnOptions = {}): RandomCnn {
  if (!Number.isInteger(seed)) throw new KryptonError(`seed must be an integer, got ${seed}`);
  const random = new SeededRandom(seed);
  // Draw every default even when it is overridden, so that a seed keeps its layers across options.
  const drawnOpset = random.int(RANDOM_CNN_OPSETS.min, RANDOM_CNN_OPSETS.max);
  const drawnElementType: ElementType = random.chance(0.2) ? 'float16' : 'float32';
  const drawnFixedBatch = random.chance(0.15);
  const opset = options.opset ?? drawnOpset;
  if (!Number.isInteger(opset) || opset < RANDOM_CNN_OPSETS.min || opset > RANDOM_CNN_OPSETS.max) {
    throw new KryptonError(`opset must be between ${RANDOM_CNN_OPSETS.min} and ${RANDOM_CNN_OPSETS.max}, got ${opset}`);
  }
  const maxLayers = options.maxLayers ?? 10;
  if (!Number.isInteger(maxLayers) || maxLayers < 1 || maxLayers > 10) {
    throw new KryptonError(`maxLayers must be between 1 and 10, got ${maxLayers}`);
  }
  const elementType = options.elementType ?? drawnElementType;
  const fixedBatch = options.fixedBatch ?? drawnFixedBatch;

  const drawnChannels = random.chance(0.5) ? 1 : 3;
  const drawnHeight = random.int(12, 48);
  const drawnWidth = random.chance(0.3) ? random.int(12, 48) : drawnHeight;
  const { channels, height, width } = options.input ?? { channels: drawnChannels, height: drawnHeight, width: drawnWidth };
  if (![1, 3].includes(channels) || ![height, width].every((side) => Number.isInteger(side) && side >= 4)) {
    throw new KryptonError(`input must have 1 or 3 channels and sides of at least 4, got ${channels}x${height}x${width}`);
  }
  const maxChannels = options.maxChannels ?? Infinity;
  if (!(maxChannels >= 1)) throw new KryptonError(`maxChannels must be at least 1, got ${maxChannels}`);
  const inputName = random.pick(['input', 'x', 'data_0', 'image']);
  const batch = fixedBatch ? 1 : random.pick(['batch', 'N', 'batch_size']);

  const builder = new OnnxGraphBuilder({ opset, elementType, graphName: `random_cnn_${seed}` });
  const ctx: DrawContext = { random, builder, opset, maxChannels };
  const discarded: DrawContext = { ...ctx, builder: new OnnxGraphBuilder({ opset, elementType }) };
  let x: Activation = { name: builder.input(inputName, [batch, channels, height, width]), channels, height, width };
  const texts: string[] = [];
  const layers = random.int(Math.min(2, maxLayers), maxLayers);
  for (let i = 0; i < layers; i++) {
    const kind = i === 0 ? firstLayerKind(random) : random.weighted(LAYER_WEIGHTS);
    if (options.skipLayers?.includes(i)) {
      drawLayer(discarded, kind, x);
      continue;
    }
    const drawn = drawLayer(ctx, kind, x);
    x = drawn.value;
    texts.push(drawn.text);
  }
  const head = drawHead(ctx, x);
  texts.push(head.text);

  const outputName = builder.rename(head.name, random.pick(['output', 'logits', 'y', 'scores']));
  builder.output(outputName, [batch, head.columns]);
  const description =
    `seed ${seed}: opset ${opset} ${elementType} in ${channels}x${height}x${width} batch ${batch} | ` + texts.join(' | ');
  return {
    model: builder.build(),
    inputName,
    outputName,
    inputShape: [channels, height, width],
    description,
    opset,
    elementType,
    fixedBatch,
    drawnLayers: layers,
  };
}

/** Mostly a conv, as in real CNNs; sometimes a step function, which only the input may feed. */
function firstLayerKind(random: SeededRandom): LayerKind | 'step' {
  if (random.chance(0.6)) return 'conv';
  return random.chance(0.6) ? 'step' : random.weighted(LAYER_WEIGHTS);
}

function drawLayer(ctx: DrawContext, kind: LayerKind | 'step', x: Activation): Drawn {
  switch (kind) {
    case 'conv':
      return drawConv(ctx, x);
    case 'pool':
      return drawPool(ctx, x) ?? drawConv(ctx, x);
    case 'pointwise':
      return drawPointwise(ctx, x);
    case 'lrn':
      return drawLrn(ctx, x);
    case 'residual':
      return drawResidual(ctx, x);
    case 'product':
      return drawProduct(ctx, x);
    case 'concat':
      return drawConcat(ctx, x);
    case 'unary':
      return drawUnary(ctx, x);
    case 'step':
      return drawStep(ctx, x);
    case 'merge':
      return drawElementwiseMerge(ctx, x);
    case 'spatial':
      return drawSpatialBias(ctx, x);
    case 'folded':
      return drawFoldedScale(ctx, x);
  }
}
