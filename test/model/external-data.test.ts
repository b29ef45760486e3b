import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open } from '../../src/krypton';
import { loadModel } from '../../src/model/load-model';
import { ModelCache } from '../../src/planner/bind-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { temporaryFolder, encodePng } from '../image/image-fixtures';
import { expectSameHeatmap, runBoth } from '../support/heatmaps';
import { tinyClassifier, withExternalData } from '../support/tiny-models';
import { oneLineRejection } from '../support/one-line-rejection';

const folder = temporaryFolder('external');
afterAll(() => folder.remove());

/** The tiny classifier written as `name` with its weights in `location`, inside `under`. */
function writeExternal(under: string, name: string, location: string, dataPath = resolve(under, location)): string {
  mkdirSync(under, { recursive: true });
  const { model, data } = withExternalData(tinyClassifier({ classes: 3 }), location);
  writeFileSync(join(under, name), model);
  writeFileSync(dataPath, data);
  return join(under, name);
}

describe('models whose weights are in an external-data file beside them', () => {
  it('load from any current folder, and give the same heatmaps as the model with its weights inside', async () => {
    // The test runs in the repository's folder, not the model's: the data file is found beside the model.
    const path = writeExternal(join(folder.path, 'models'), 'tiny.onnx', 'tiny.onnx.data');
    expect(process.cwd()).not.toBe(join(folder.path, 'models'));
    const external = await loadModel(path);
    const inline = join(folder.path, 'inline.onnx');
    writeFileSync(inline, tinyClassifier({ classes: 3 }));
    const embedded = await loadModel(inline);
    const grid = occlusionGrid({ image: { width: 16, height: 16 }, patch: { width: 4, height: 4 }, stride: { x: 2, y: 2 } });
    const input = new Float32Array(3 * 16 * 16).map((_, i) => Math.cos(i / 5));
    const task = { input, patchValues: new Float32Array(3), target: 'predicted' as const };
    const fromExternal = await runBoth(external, grid, task);
    const fromInline = await runBoth(embedded, grid, task);
    expectSameHeatmap(fromInline.naive.values, fromExternal.naive.values, 'external naive');
    expectSameHeatmap(fromInline.naive.values, fromExternal.incremental.values, 'external incremental');
  });

  it('load in a subfolder of the model folder', async () => {
    mkdirSync(join(folder.path, 'nested', 'weights'), { recursive: true });
    const path = writeExternal(join(folder.path, 'nested'), 'tiny.onnx', 'weights/tiny.bin');
    expect((await loadModel(path)).output.classes).toBe(3);
  });

  it('run through CREATE MODEL and OCCLUDE', async () => {
    const path = writeExternal(join(folder.path, 'engine'), 'tiny.onnx', 'tiny.onnx.data');
    const image = join(folder.path, 'image.png');
    writeFileSync(image, await encodePng(new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256), 16, 16, 3));
    const db = await open(':memory:');
    try {
      await db.query(`CREATE MODEL tiny FROM '${path}' NORMALIZE NONE`);
      const result = await db.query(`OCCLUDE ('${image}') USING MODEL tiny WITH PATCH 4 STRIDE 4 STRATEGY INCREMENTAL`);
      expect(result.rows.map((r) => r.status)).toEqual(['done']);
      const { rows } = await db.query('SELECT width, height FROM heatmaps');
      expect(rows).toEqual([{ width: 4, height: 4 }]);
    } finally {
      await db.close();
    }
  });

  it('are part of the content hash tuned configurations are keyed by', async () => {
    const under = join(folder.path, 'hashed');
    const path = writeExternal(under, 'tiny.onnx', 'tiny.onnx.data');
    const cache = new ModelCache();
    const model = await loadModel(path);
    expect(model.externalData).toEqual([join(under, 'tiny.onnx.data')]);
    const before = await cache.modelHash(model);
    // Retrained weights: the same .onnx file, another data file.
    const retrained = withExternalData(tinyClassifier({ classes: 3, bias: 1 }), 'tiny.onnx.data');
    expect(Buffer.from(retrained.model).equals(readFileSync(path))).toBe(true);
    writeFileSync(join(under, 'tiny.onnx.data'), retrained.data);
    expect(await cache.modelHash(model)).not.toBe(before);
    expect(await cache.modelHash(model)).not.toBe(await cache.fileHash(path));
  });

  it('are refused with a clear error when the data file is missing or its location leaves the model folder', async () => {
    const missing = writeExternal(join(folder.path, 'missing'), 'tiny.onnx', 'tiny.onnx.data', join(folder.path, 'elsewhere.data'));
    expect(await oneLineRejection(loadModel(missing))).toBe(
      `cannot load model ${missing}: its external data file tiny.onnx.data (for initializer 'w1') is not in ${join(folder.path, 'missing')}`,
    );
    const escaping = writeExternal(join(folder.path, 'escape', 'models'), 'tiny.onnx', '../x.data');
    expect(await oneLineRejection(loadModel(escaping))).toBe(
      `cannot load model ${escaping}: the external data location '../x.data' (initializer 'w1') lies outside the model's folder; onnxruntime reads external data only from the model's folder and below`,
    );
    const absolute = writeExternal(join(folder.path, 'absolute'), 'tiny.onnx', join(folder.path, 'absolute', 'tiny.data'));
    expect(await oneLineRejection(loadModel(absolute))).toMatch(/external data location '.*tiny\.data' \(initializer 'w1'\) is an absolute path/);
  });
});
