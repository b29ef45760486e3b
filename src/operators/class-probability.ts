import type { LoadedModel } from '../model/load-model.js';
import type { OutputActivation } from '../model/model-output.js';
import { notProbabilities, probabilityProblem } from '../model/model-output.js';

/** Probabilities of all classes for item `item` of a [B, classes, …] output. */
export function classProbabilities(output: Float32Array, classes: number, item: number, activation: OutputActivation): Float64Array {
  const probabilities = new Float64Array(classes);
  const base = item * classes;
  if (activation === 'none') {
    for (let k = 0; k < classes; k++) probabilities[k] = output[base + k];
    return probabilities;
  }
  if (activation === 'exp') {
    for (let k = 0; k < classes; k++) probabilities[k] = Math.exp(output[base + k]);
    return probabilities;
  }
  if (activation === 'sigmoid') {
    for (let k = 0; k < classes; k++) probabilities[k] = 1 / (1 + Math.exp(-output[base + k]));
    return probabilities;
  }
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, output[base + k]);
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += probabilities[k] = Math.exp(output[base + k] - max);
  for (let k = 0; k < classes; k++) probabilities[k] /= sum;
  return probabilities;
}

/**
 * The clean image's class probabilities. Outputs used as they are (OUTPUT PROBABILITIES) are
 * checked here, on the image itself: scores taken for probabilities would give a meaningless heatmap.
 */
export function cleanProbabilities(output: Float32Array, model: LoadedModel): Float64Array {
  const { classes, activation, check } = model.output;
  const problem = activation === 'none' ? probabilityProblem(output, classes, 0, check) : undefined;
  if (problem) throw notProbabilities(model.path, 'the clean image', problem);
  return classProbabilities(output, classes, 0, activation);
}

/** The probability of one class for each of `count` items, written to `into` from `offset`. */
export function probabilityOfClass(
  output: Float32Array, classes: number, count: number, classIndex: number, activation: OutputActivation,
  into: Float32Array, offset: number,
): void {
  for (let item = 0; item < count; item++) into[offset + item] = classProbabilities(output, classes, item, activation)[classIndex];
}
