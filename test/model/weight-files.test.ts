import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/krypton';
import { loadModel, loadModelBytes } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { readFloats } from '../../src/model/onnx-tensors';
import { checkMappedFile, fileExtentOf, LARGE_WEIGHT_BYTES, mappedFiles } from '../../src/model/weight-files';
import { createOperator, EXACT_INCREMENTAL } from '../../src/operators/create-operator';
import { IncrementalOcclusion } from '../../src/operators/incremental-inference';
import { NaiveOcclusion } from '../../src/operators/naive-inference';
import type { OcclusionOperator, OcclusionTask } from '../../src/operators/occlusion-task';
import { encodePng, temporaryFolder } from '../image/image-fixtures';
import { DATA, expectSameHeatmap } from '../support/heatmaps';

const CXR = join(DATA, 'models', 'cxr-appa-squeezenet1.1.onnx');
const folder = temporaryFolder('weight-files');
afterAll(() => folder.remove());

const grid = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 56, height: 56 }, stride: { x: 56, y: 56 } });
const task: OcclusionTask = {
  input: new Float32Array(3 * 224 * 224).map((_, i) => 128 + 100 * Math.sin(i / 997)),
  patchValues: new Float32Array(3).fill(128),
  target: 'predicted',
};

/** The heatmap of the model's bytes as read, from sessions that copy them (a model from memory maps nothing). */
let reference: Float32Array;
beforeAll(async () => {
  const inMemory = await loadModelBytes(readFileSync(CXR), 'cxr in memory');
  const naive = await NaiveOcclusion.create(inMemory, grid);
  try {
    reference = (await naive.run(task)).values;
  } finally {
    await naive.release();
  }
  expect(mappedFiles()).toEqual([]);
});

function copyOfModel(name: string): string {
  const path = join(folder.path, name);
  copyFileSync(CXR, path);
  return path;
}

async function heatmapWith(operator: OcclusionOperator): Promise<Float32Array> {
  try {
    return (await operator.run(task)).values;
  } finally {
    await operator.release();
  }
}

describe('weights mapped from the model file', () => {
  it('are mapped while sessions live, and give the heatmap the bytes in memory give', async () => {
    const path = copyOfModel('mapped.onnx');
    const model = await loadModel(path);
    const naive = await NaiveOcclusion.create(model, grid);
    const incremental = await IncrementalOcclusion.create(model, grid);
    expect(mappedFiles()).toEqual([path]);
    expectSameHeatmap(reference, await heatmapWith(naive), 'naive');
    expectSameHeatmap(reference, await heatmapWith(incremental), 'incremental');
    expect(mappedFiles()).toEqual([]);
  });

  it('are mapped by worker threads too, and the file counts as mapped while their operator lives', async () => {
    const path = copyOfModel('pooled.onnx');
    const model = await loadModel(path);
    const pooled = await createOperator(EXACT_INCREMENTAL, model, grid, { workers: 2 });
    expect(mappedFiles()).toEqual([path]);
    expectSameHeatmap(reference, await heatmapWith(pooled), 'exact on two workers');
    expect(mappedFiles()).toEqual([]);
  });

  it('are not read at loading, and a file changed since is refused by name rather than used', async () => {
    const path = copyOfModel('changed.onnx');
    const model = await loadModel(path);
    // Same size, other weights: only the file's identity tells.
    const bytes = readFileSync(path);
    for (let i = bytes.length - 4000; i < bytes.length - 1000; i++) bytes[i] ^= 0x5a;
    writeFileSync(path, bytes);
    await expect(NaiveOcclusion.create(model, grid)).rejects.toThrow(`model file ${path} changed on disk since it was read`);
    expect(mappedFiles()).toEqual([]);
  });

  it('left unread at loading are read when their values are needed, as the file holds them', async () => {
    const path = copyOfModel('values.onnx');
    const model = await loadModel(path);
    const file = readFileSync(path);
    const large = (model.graph.model.graph!.initializer ?? []).filter((t) => (t.rawData?.length ?? 0) >= LARGE_WEIGHT_BYTES);
    expect(large.length).toBeGreaterThan(0);
    for (const tensor of large) {
      const raw = tensor.rawData!;
      const offset = fileExtentOf(raw)!.offset;
      const inFile = file.subarray(offset, offset + raw.length);
      expect(inFile.some((byte) => byte !== 0)).toBe(true);
      expect(raw.every((byte) => byte === 0)).toBe(true);
      const values = readFloats(tensor);
      expect(Buffer.from(values.buffer, values.byteOffset, values.byteLength).equals(inFile)).toBe(true);
      expect(Buffer.from(raw).equals(inFile)).toBe(true);
    }
  });

  it('changed on disk while mapped are reported, for that file only', async () => {
    const path = copyOfModel('touched.onnx');
    const other = copyOfModel('other.onnx');
    const model = await loadModel(path);
    const naive = await NaiveOcclusion.create(model, grid);
    try {
      checkMappedFile(path);
      const later = new Date(Date.now() + 5000);
      utimesSync(path, later, later);
      expect(() => checkMappedFile(path)).toThrow(`model file ${path} changed on disk while its weights were in use`);
      expect(() => checkMappedFile(other)).not.toThrow();
    } finally {
      await naive.release();
    }
    // Released, nothing maps it any more.
    expect(() => checkMappedFile(path)).not.toThrow();
  });

  it('of a model file rewritten between statements: the next statements load it again, without a false alarm', async () => {
    const path = copyOfModel('between.onnx');
    const image = join(folder.path, 'image.png');
    writeFileSync(image, await encodePng(new Uint8Array(64 * 64).map((_, i) => (i * 37) % 256), 64, 64, 1));
    const db = await open(':memory:');
    try {
      await db.query(`CREATE MODEL cxr FROM '${path}'`);
      const occlude = (patch: number) => `OCCLUDE ('${image}') USING MODEL cxr WITH PATCH ${patch} STRIDE ${patch} STRATEGY INCREMENTAL`;
      expect((await db.query(occlude(112))).rows.map((r) => r.status)).toEqual(['done']);
      expect(mappedFiles()).toEqual([path]);
      // The same bytes written again: a new file to the model cache, the same model to the results.
      writeFileSync(path, readFileSync(CXR));
      expect((await db.query(occlude(112))).rows.map((r) => r.status)).toEqual(['already done']);
      expect((await db.query(occlude(56))).rows.map((r) => r.status)).toEqual(['done']);
      expect(mappedFiles()).toEqual([path]);
    } finally {
      await db.close();
    }
    expect(mappedFiles()).toEqual([]);
  });
});
