import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeatmapRecord } from '../../src/store/index.js';

/** A fresh folder per test file, removed afterwards. */
export function useTempDir(): () => string {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'krypton-store-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/** Values that are not round in float32, so a lossy path (float64 → float32 → text) shows. */
export function heatmapValues(width: number, height: number, seed: number): Float32Array {
  const values = new Float32Array(width * height);
  let state = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < values.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = (state >>> 0) / 4294967296;
  }
  return values;
}

export function makeRecord(overrides: Partial<HeatmapRecord> & { imagePath: string }): HeatmapRecord {
  const width = overrides.width ?? 4;
  const height = overrides.height ?? 3;
  return {
    queryId: 'q1',
    imageId: overrides.imagePath.replace(/^.*\//, '').replace(/\.[^.]*$/, ''),
    model: 'cxr',
    classIndex: 1,
    classLabel: 'PA',
    baseProbability: 0.97,
    patchHeight: 16,
    patchWidth: 16,
    strideY: 4,
    strideX: 4,
    strategy: 'incremental',
    elapsedMs: 12.5,
    heatmap: heatmapValues(width, height, overrides.imagePath.length),
    ...overrides,
    width,
    height,
  };
}

export const CHILD_CLASSES = 3;
export const CHILD_SIZE = 56;

/** What the child process writes for image i: one row per class, values derived from (i, class). */
export function childRecords(image: number): HeatmapRecord[] {
  return Array.from({ length: CHILD_CLASSES }, (_, classIndex) =>
    makeRecord({
      queryId: 'crash',
      imagePath: `scans/${image}.png`,
      classIndex,
      width: CHILD_SIZE,
      height: CHILD_SIZE,
      heatmap: heatmapValues(CHILD_SIZE, CHILD_SIZE, image * CHILD_CLASSES + classIndex + 1),
    }),
  );
}

/** Starts store-child.js and resolves once it has printed a line matching `ready`. */
export function startChild(
  mode: 'hold' | 'insert',
  database: string,
  ready: RegExp,
): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [join(__dirname, 'store-child.js'), mode, database], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let errors = '';
  child.stderr.on('data', (data: Buffer) => (errors += data.toString()));
  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout.on('data', (data: Buffer) => {
      pending += data.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      lines.push(...complete);
      if (complete.some((line) => ready.test(line))) resolve({ child, lines });
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${errors}`)));
  });
}

/** Kills the child (SIGKILL: no chance to clean up) and waits until it is gone and its output read. */
export function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.stdout?.closed && (child.exitCode !== null || child.signalCode !== null)) return resolve();
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  });
}
