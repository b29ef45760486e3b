// What the benchmarks share: the zoo's models as files, and the median they report.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildZooModel, ZOO_DEFAULT_INPUT, type ZooArchitecture } from '../src/zoo/build-zoo-model.js';

export const BENCH_MODELS = join(__dirname, '..', '..', 'bench', 'models');

/** The zoo architecture at its usual input size, seeded weights, built once into bench/models/. */
export function zooModelFile(arch: ZooArchitecture): string {
  const file = join(BENCH_MODELS, `${arch}-${ZOO_DEFAULT_INPUT[arch]}.onnx`);
  if (!existsSync(file)) {
    mkdirSync(BENCH_MODELS, { recursive: true });
    writeFileSync(file, buildZooModel(arch, { input: ZOO_DEFAULT_INPUT[arch], seed: 1 }));
  }
  return file;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
