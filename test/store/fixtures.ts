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
