import { KryptonError } from '../errors.js';
import { modelFileCap, readRegularFile } from '../io/read-regular-file.js';

/** Class names, one per line; line n (from 1) names class n - 1. */
export async function readLabels(path: string): Promise<string[]> {
  const bytes = await readRegularFile(path, modelFileCap(), ({ reason, problem }) =>
    new KryptonError(reason === 'missing' ? `labels file not found: ${path}` : `labels file ${path} ${problem}`, 'io'));
  const text = bytes.toString('utf8');
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((line) => line.trim());
}

/** A class given as an index or a label name, checked against the labels when there are any. */
export function classIndexOf(target: string | number, labels: readonly string[] | undefined, classes: number): number {
  if (typeof target === 'number' || /^\d+$/.test(target)) {
    const index = Number(target);
    if (!Number.isInteger(index) || index < 0 || index >= classes) throw new KryptonError(`class index ${index} is out of range: the model has ${classes} classes (0–${classes - 1})`);
    return index;
  }
  if (!labels) throw new KryptonError(`class '${target}' given by name, but the model has no labels`);
  const exact = labels.indexOf(target);
  if (exact >= 0) return exact;
  const lower = target.toLowerCase();
  const loose = labels.findIndex((label) => label.toLowerCase() === lower || label.toLowerCase().split(/,\s*/).includes(lower));
  if (loose >= 0) return loose;
  throw new KryptonError(`no class named '${target}' in the model's labels`);
}
