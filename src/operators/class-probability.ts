import type { OutputActivation } from '../model/load-model.js';

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
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, output[base + k]);
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += probabilities[k] = Math.exp(output[base + k] - max);
  for (let k = 0; k < classes; k++) probabilities[k] /= sum;
  return probabilities;
}

/** The probability of one class for each of `count` items, written to `into` from `offset`. */
export function probabilityOfClass(
  output: Float32Array, classes: number, count: number, classIndex: number, activation: OutputActivation,
  into: Float32Array, offset: number,
): void {
  for (let item = 0; item < count; item++) into[offset + item] = classProbabilities(output, classes, item, activation)[classIndex];
}
