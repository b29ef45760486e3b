import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

/**
 * What loading a model learns by running it (every tensor's shape, whether it batches, its output
 * on a blank image), kept on disk by the model file's SHA-256: a model's first load in a fresh
 * process costs a session of the whole model and two runs of it (3 s of a 10 s VGG16 process),
 * and the answer depends only on the bytes. An entry that cannot be read, is not for this key or
 * does not fit the graph is ignored and the model probed again; one that cannot be written is
 * simply not kept.
 */
export interface ProbeFacts {
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** As the first probe found it, before any rewrite of batch-pinning Reshapes. */
  readonly batchable: boolean;
  /** Whether the loader rewrote Reshapes to make the model batch, and what the second probe found then. */
  readonly rewrittenBatchable?: boolean;
  readonly output: Float32Array;
}

/** Bumped whenever what a probe records, or how the loader uses it, changes. */
const FORMAT = 2;

/**
 * The folder entries live in: KRYPTON_CACHE_DIR ('off' keeps none), else $XDG_CACHE_HOME/krypton,
 * else ~/.cache/krypton.
 */
export function probeCacheFolder(): string | undefined {
  const configured = process.env.KRYPTON_CACHE_DIR;
  if (configured === 'off') return undefined;
  if (configured) return join(configured, 'probes');
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'krypton', 'probes');
}

/** Everything a probe's answer depends on: the file's bytes, how it was read, and the runtime that ran it. */
export function probeKey(fileHash: string, loading: { inputSize?: { height: number; width: number }; outputName?: string }): string {
  const described = JSON.stringify({
    format: FORMAT,
    onnxruntime: ort.env.versions?.common ?? 'unknown',
    fileHash,
    inputSize: loading.inputSize ? [loading.inputSize.height, loading.inputSize.width] : null,
    outputName: loading.outputName ?? null,
  });
  return createHash('sha256').update(described).digest('hex').slice(0, 40);
}

interface Entry {
  key: string;
  shapes: [string, number[]][];
  batchable: boolean;
  rewrittenBatchable?: boolean;
  output: number[];
}

function isShapeList(value: unknown): value is [string, number[]][] {
  return Array.isArray(value) && value.every((item) =>
    Array.isArray(item) && item.length === 2 && typeof item[0] === 'string'
    && Array.isArray(item[1]) && item[1].every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0));
}

/** The facts stored under `key`, if an intact entry is there. */
export function readProbeFacts(key: string): ProbeFacts | undefined {
  const folder = probeCacheFolder();
  if (!folder) return undefined;
  let entry: Entry;
  try {
    entry = JSON.parse(readFileSync(join(folder, `${key}.json`), 'utf8')) as Entry;
  } catch {
    return undefined;
  }
  if (!entry || entry.key !== key || typeof entry.batchable !== 'boolean' || !isShapeList(entry.shapes)) return undefined;
  if (entry.rewrittenBatchable !== undefined && typeof entry.rewrittenBatchable !== 'boolean') return undefined;
  if (!Array.isArray(entry.output) || !entry.output.every((v) => typeof v === 'number')) return undefined;
  return {
    shapes: new Map(entry.shapes),
    batchable: entry.batchable,
    rewrittenBatchable: entry.rewrittenBatchable,
    output: Float32Array.from(entry.output),
  };
}

/** Keeps `facts` under `key`; written whole or not at all, so a reader never sees half an entry. */
export function writeProbeFacts(key: string, facts: ProbeFacts): void {
  const folder = probeCacheFolder();
  if (!folder) return;
  const entry: Entry = {
    key,
    shapes: [...facts.shapes].map(([name, shape]) => [name, [...shape]]),
    batchable: facts.batchable,
    ...(facts.rewrittenBatchable === undefined ? {} : { rewrittenBatchable: facts.rewrittenBatchable }),
    output: Array.from(facts.output),
  };
  const file = join(folder, `${key}.json`);
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(partial, JSON.stringify(entry));
    renameSync(partial, file);
  } catch {
    // A cache that cannot be written costs only the next process a probe.
    try {
      rmSync(partial, { force: true });
    } catch {
      // Nothing was written there either.
    }
  }
}
