import { KryptonError } from '../errors.js';

/**
 * What the user says the output holds (CREATE MODEL … OUTPUT …): scores for softmax, probabilities
 * as they are, or scores for an independent sigmoid per class (one-output and multi-label heads).
 */
export type OutputKind = 'logits' | 'probabilities' | 'sigmoid';

/** How the output turns into class probabilities. */
export type OutputActivation = 'softmax' | 'sigmoid' | 'none' | 'exp';

/** How the graph itself ends, looking through shape-only nodes. */
export type GraphEnding = 'Softmax' | 'Sigmoid' | 'LogSoftmax' | 'scores';

/**
 * What is checked of outputs used as they are: 'distribution' (each in [0, 1] and, for more than
 * one class, summing to 1), 'unit-interval' (each in [0, 1]: a final Sigmoid), or nothing.
 */
export type ProbabilityCheck = 'distribution' | 'unit-interval' | 'none';

export interface OutputInterpretation {
  readonly activation: OutputActivation;
  /** What CREATE MODEL records, so that loading the file again gives the same interpretation. */
  readonly kind: OutputKind;
  readonly check: ProbabilityCheck;
  /** Said to the user (CREATE MODEL's message, EXPLAIN) when the choice is not the obvious one. */
  readonly note?: string;
}

const LEAVE_OUT = 'or leave OUTPUT out';

/**
 * The one place that decides how a model's output becomes probabilities, from how its graph ends,
 * what the user said and the number of classes. A final Softmax or Sigmoid is never applied twice;
 * softmax over one output (always 1) is never used: a lone score gets its sigmoid, the probability
 * of class 0, the positive class.
 */
export function interpretOutput(path: string, ending: GraphEnding, said: OutputKind | undefined, classes: number): OutputInterpretation {
  const refuse = (problem: string) => new KryptonError(`model ${path}: ${problem}`, 'model');
  switch (ending) {
    case 'Softmax':
      if (said === 'logits' || said === 'sigmoid') {
        throw refuse(`OUTPUT ${said.toUpperCase()}, but the graph ends in Softmax, so its outputs are probabilities already; use OUTPUT PROBABILITIES ${LEAVE_OUT}`);
      }
      return { activation: 'none', kind: 'probabilities', check: 'distribution' };
    case 'Sigmoid':
      if (said === 'logits') {
        throw refuse(`OUTPUT LOGITS, but the graph ends in Sigmoid, so its outputs are probabilities already; use OUTPUT SIGMOID or PROBABILITIES, ${LEAVE_OUT}`);
      }
      return {
        activation: 'none',
        kind: said ?? 'probabilities',
        check: 'unit-interval',
        ...(said === 'sigmoid' && { note: 'the graph ends in Sigmoid: its outputs are used as they are (not put through a second sigmoid)' }),
      };
    case 'LogSoftmax':
      if (said === 'sigmoid' || said === 'probabilities') {
        throw refuse(`OUTPUT ${said.toUpperCase()}, but the graph ends in LogSoftmax, so its outputs are log-probabilities; use OUTPUT LOGITS ${LEAVE_OUT}`);
      }
      return { activation: 'exp', kind: 'logits', check: 'none' };
    case 'scores':
      if (said === 'probabilities') return { activation: 'none', kind: 'probabilities', check: 'distribution' };
      if (said === 'sigmoid') return { activation: 'sigmoid', kind: 'sigmoid', check: 'none' };
      if (classes === 1) {
        if (said === 'logits') {
          throw refuse('OUTPUT LOGITS, but the model has one output, and softmax over one value is always 1; use OUTPUT SIGMOID (its sigmoid is the probability of class 0)');
        }
        return { activation: 'sigmoid', kind: 'sigmoid', check: 'none', note: 'one output: its sigmoid is the probability of class 0 (OUTPUT SIGMOID)' };
      }
      return { activation: 'softmax', kind: 'logits', check: 'none' };
  }
}

/** Slack for float32 rounding in outputs that are probabilities. */
const RANGE_TOLERANCE = 1e-4;
const SUM_TOLERANCE = 1e-3;

/**
 * Why item `item` of a [B, classes] output is not probabilities as `check` requires, or undefined
 * when it is; the reason gives the values found, e.g. "values -0.082..1.2, sum 1.118".
 */
export function probabilityProblem(output: Float32Array, classes: number, item: number, check: ProbabilityCheck): string | undefined {
  if (check === 'none') return undefined;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let k = item * classes; k < (item + 1) * classes; k++) {
    const value = output[k];
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  const outside = !(min >= -RANGE_TOLERANCE && max <= 1 + RANGE_TOLERANCE);
  const unsummed = check === 'distribution' && classes > 1 && !(Math.abs(sum - 1) <= SUM_TOLERANCE);
  if (!outside && !unsummed) return undefined;
  const range = classes === 1 ? `value ${rounded(min)}` : `values ${rounded(min)}..${rounded(max)}`;
  return classes > 1 && check === 'distribution' ? `${range}, sum ${rounded(sum)}` : range;
}

function rounded(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(3))) : String(value);
}

/** The one-line refusal of outputs declared to be probabilities that are not. */
export function notProbabilities(path: string, where: string, problem: string): KryptonError {
  return new KryptonError(
    `model ${path}: OUTPUT PROBABILITIES, but its output on ${where} is not probabilities (${problem}); use OUTPUT LOGITS or OUTPUT SIGMOID`,
    'model',
  );
}
