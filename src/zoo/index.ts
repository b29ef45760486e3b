/**
 * Model zoo for tests and benchmarks: torchvision architectures with seeded weights (no trained
 * weights exist here; speed depends on the architecture, not the weights) and random small CNNs for
 * property tests of incremental inference. Built with a small typed ONNX graph builder.
 */
export {
  ZOO_ARCHITECTURES,
  ZOO_DEFAULT_INPUT,
  ZOO_INPUT_NAME,
  ZOO_OUTPUT_NAME,
  buildZooModel,
  zooMinimumInput,
} from './build-zoo-model.js';
export type { ZooArchitecture, ZooModelOptions } from './build-zoo-model.js';
export { RANDOM_CNN_OPSETS, randomCnn } from './random-cnn.js';
export type { RandomCnn, RandomCnnOptions } from './random-cnn.js';
export { OnnxGraphBuilder, attr } from './onnx-graph-builder.js';
export type { AttributeValue, Dim, ElementType, GraphBuilderOptions } from './onnx-graph-builder.js';
export { SeededRandom } from './seeded-random.js';
export { float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Array, toFloat16Array } from '../model/float16.js';
