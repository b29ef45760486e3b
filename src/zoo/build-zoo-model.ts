import { KryptonError } from '../errors.js';
import { CnnGraph, InputTooSmallError } from './cnn-graph.js';
import type { Activation } from './cnn-graph.js';
import { OnnxGraphBuilder } from './onnx-graph-builder.js';
import { SeededRandom } from './seeded-random.js';
import { inceptionV3 } from './architectures/inception-v3.js';
import { mobilenetV2 } from './architectures/mobilenet-v2.js';
import { resnet18 } from './architectures/resnet18.js';
import { squeezenet } from './architectures/squeezenet.js';
import { vgg16 } from './architectures/vgg16.js';
import { ZOO_ARCHITECTURES, ZOO_DEFAULT_INPUT, type ZooArchitecture } from './architecture-names.js';

// The names live apart from the builders so that the CLI can list them without loading the builders.
export { ZOO_ARCHITECTURES, ZOO_DEFAULT_INPUT, type ZooArchitecture } from './architecture-names.js';

export interface ZooModelOptions {
  /** Height = width of the input image; default ZOO_DEFAULT_INPUT[arch]. */
  readonly input?: number;
  /** Seed of the weights; default 0. */
  readonly seed?: number;
  /** Number of output logits; default 1000. */
  readonly classes?: number;
}

/** Names of the graph's input and output in every zoo model. */
export const ZOO_INPUT_NAME = 'input';
export const ZOO_OUTPUT_NAME = 'logits';

type Architecture = (net: CnnGraph, image: Activation, classes: number) => Activation;

const ARCHITECTURES: Readonly<Record<ZooArchitecture, Architecture>> = {
  vgg16,
  resnet18,
  inception_v3: inceptionV3,
  squeezenet,
  mobilenet_v2: mobilenetV2,
};

/**
 * A torchvision architecture as an ONNX model (opset 13) with seeded weights: input `input` float32
 * [batch, 3, N, N] (ImageNet-normalised RGB), output `logits` float32 [batch, classes], no softmax.
 */
export function buildZooModel(arch: ZooArchitecture, options: ZooModelOptions = {}): Uint8Array {
  const network = ARCHITECTURES[arch];
  if (network === undefined) {
    throw new KryptonError(`unknown architecture '${String(arch)}'; known: ${ZOO_ARCHITECTURES.join(', ')}`);
  }
  const input = options.input ?? ZOO_DEFAULT_INPUT[arch];
  const classes = options.classes ?? 1000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(input) || input < 1) throw new KryptonError(`input size must be a positive integer, got ${input}`);
  if (!Number.isInteger(classes) || classes < 1) throw new KryptonError(`classes must be a positive integer, got ${classes}`);
  if (!Number.isInteger(seed)) throw new KryptonError(`seed must be an integer, got ${seed}`);
  if (!fits(arch, input)) {
    throw new KryptonError(`${arch} needs an input of at least ${zooMinimumInput(arch)} px, got ${input}`);
  }
  return assemble(arch, input, classes, seed, false).build();
}

/** The smallest input size at which every layer of `arch` has a non-empty output. */
export function zooMinimumInput(arch: ZooArchitecture): number {
  let size = 1;
  while (!fits(arch, size)) size++;
  return size;
}

function fits(arch: ZooArchitecture, input: number): boolean {
  try {
    assemble(arch, input, 1, 0, true); // structure only: no weights drawn
    return true;
  } catch (error) {
    if (error instanceof InputTooSmallError) return false;
    throw error;
  }
}

function assemble(arch: ZooArchitecture, input: number, classes: number, seed: number, shapesOnly: boolean): OnnxGraphBuilder {
  const builder = new OnnxGraphBuilder({
    opset: 13,
    graphName: arch,
    docString: `${arch} (torchvision layout) at ${input}x${input}, ${classes} classes, seeded weights (seed ${seed}); not trained`,
  });
  const net = new CnnGraph(builder, new SeededRandom(seed), shapesOnly);
  const image = { name: builder.input(ZOO_INPUT_NAME, ['batch', 3, input, input]), channels: 3, height: input, width: input };
  const logits = ARCHITECTURES[arch](net, image, classes);
  const output = builder.rename(logits.name, ZOO_OUTPUT_NAME);
  builder.output(output, ['batch', classes]);
  return builder;
}
