import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { KryptonError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import type { ModelDefinition, Store } from '../../src/store/index.js';
import { useTempDir } from './fixtures.js';

const dir = useTempDir();

const cxr: ModelDefinition = {
  name: 'cxr',
  path: 'models/cxr.onnx',
  inputWidth: 224,
  inputHeight: 224,
  channels: 'rgb',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  labelsPath: 'labels.txt',
  outputKind: 'logits',
  outputName: null,
};

const mnist: ModelDefinition = {
  ...cxr,
  name: 'Mnist',
  path: 'models/mnist.onnx',
  inputWidth: 28,
  inputHeight: 28,
  channels: 'gray',
  mean: [0.1307],
  std: [0.3081],
  labelsPath: null,
  outputKind: 'probabilities',
};

let store: Store;
beforeEach(async () => {
  store = await openStore(':memory:');
});
afterEach(() => store.close());

async function catalogError(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KryptonError);
  expect((error as KryptonError).code).toBe('catalog');
  return (error as KryptonError).message;
}

describe('model catalog', () => {
  test('a stored model reads back field for field, with its creation time', async () => {
    const before = Date.now();
    await store.putModel(cxr);
    const entry = await store.getModel('cxr');
    expect(entry).toEqual({ ...cxr, createdAt: expect.any(Date) });
    expect(entry?.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(entry?.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1);
  });

  test('MEAN and STD lists whose first value is whole keep their fractions', async () => {
    const mixed = { ...cxr, name: 'mixed', mean: [128, -0.1, 0], std: [1, 0.25, 1e-3] };
    await store.putModel(mixed);
    expect(await store.getModel('mixed')).toMatchObject({ mean: [128, -0.1, 0], std: [1, 0.25, 1e-3] });
  });

  test('names match case-insensitively and keep their spelling', async () => {
    await store.putModel(mnist);
    expect((await store.getModel('MNIST'))?.name).toBe('Mnist');
    expect(await store.getModel('other')).toBeUndefined();
  });

  test('lists models by name', async () => {
    await store.putModel(mnist);
    await store.putModel(cxr);
    expect((await store.listModels()).map((m) => m.name)).toEqual(['cxr', 'Mnist']);
  });

  test('an existing name is refused unless replacing', async () => {
    await store.putModel(cxr);
    expect(await catalogError(store.putModel({ ...cxr, name: 'CXR' }))).toBe(
      "model 'cxr' already exists; drop it first (DROP MODEL cxr)",
    );
    await store.putModel({ ...cxr, name: 'CXR', inputWidth: 256 }, { orReplace: true });
    expect((await store.listModels()).map((m) => [m.name, m.inputWidth])).toEqual([['CXR', 256]]);
    await store.putModel({ ...cxr, name: 'CXR', inputWidth: 300 }, { orReplace: true });
    expect((await store.listModels()).map((m) => [m.name, m.inputWidth])).toEqual([['CXR', 300]]);
  });

  test('dropping removes the model; a missing one is an error naming the known ones unless ifExists', async () => {
    await store.putModel(cxr);
    await store.putModel(mnist);
    expect(await store.dropModel('MNIST')).toBe(true);
    expect(await store.getModel('mnist')).toBeUndefined();
    expect(await catalogError(store.dropModel('mnist'))).toBe("model 'mnist' does not exist (known models: cxr)");
    expect(await store.dropModel('mnist', { ifExists: true })).toBe(false);
  });

  test('requireModel explains an empty catalog', async () => {
    expect(await catalogError(store.requireModel('cxr'))).toBe(
      "model 'cxr' does not exist (no models are defined yet; use CREATE MODEL)",
    );
    await store.putModel(cxr);
    expect((await store.requireModel('CXR')).path).toBe('models/cxr.onnx');
  });

  test('definitions that cannot work are refused', async () => {
    expect(await catalogError(store.putModel({ ...cxr, inputWidth: 0 }))).toMatch(/input width must be a positive whole number/);
    expect(await catalogError(store.putModel({ ...cxr, mean: [0.5, 0.5] }))).toMatch(/mean needs 1 or 3 values for rgb input, got 2/);
    expect(await catalogError(store.putModel({ ...mnist, std: [0] }))).toMatch(/std must not be 0/);
    expect(await store.listModels()).toEqual([]);
  });

  test('a sigmoid model and its named output read back', async () => {
    const lesion = { ...cxr, name: 'lesion', outputKind: 'sigmoid' as const, outputName: 'logits' };
    await store.putModel(lesion);
    expect(await store.getModel('lesion')).toEqual({ ...lesion, createdAt: expect.any(Date) });
  });

  test('a catalog written before SIGMOID and OUTPUT NAME is upgraded on opening, its models kept', async () => {
    const path = join(dir(), 'old-catalog.duckdb');
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE krypton_models (
      name VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, input_width INTEGER NOT NULL, input_height INTEGER NOT NULL,
      channels VARCHAR NOT NULL CHECK (channels IN ('rgb', 'bgr', 'gray')), scale DOUBLE NOT NULL, mean DOUBLE[] NOT NULL,
      std DOUBLE[] NOT NULL, labels_path VARCHAR,
      output_kind VARCHAR NOT NULL CHECK (output_kind IN ('logits', 'probabilities')), created_at TIMESTAMP NOT NULL)`);
    await connection.run(`INSERT INTO krypton_models VALUES ('old', 'm.onnx', 28, 28, 'gray', 1, [0.5], [0.25], NULL, 'probabilities', TIMESTAMP '2026-01-02 03:04:05')`);
    connection.closeSync();
    instance.closeSync();
    const upgraded = await openStore(path);
    try {
      expect(await upgraded.getModel('old')).toMatchObject({ path: 'm.onnx', outputKind: 'probabilities', outputName: null, mean: [0.5] });
      await upgraded.putModel({ ...cxr, name: 'lesion', outputKind: 'sigmoid' });
      expect((await upgraded.listModels()).map((m) => [m.name, m.outputKind])).toEqual([['lesion', 'sigmoid'], ['old', 'probabilities']]);
    } finally {
      await upgraded.close();
    }
  });

  test('the catalog is a plain table users can query', async () => {
    await store.putModel(cxr);
    const { rows } = await store.query('SELECT name, input_width, channels, mean FROM krypton_models');
    expect(rows).toEqual([{ name: 'cxr', input_width: 224, channels: 'rgb', mean: cxr.mean }]);
  });
});

describe('calibration', () => {
  test('values of any JSON shape are stored per key, replaced on put, and persist', async () => {
    const path = join(dir(), 'calibration.duckdb');
    const file = await openStore(path);
    expect(await file.getCalibration('conv_gflops')).toBeUndefined();
    await file.putCalibration('conv_gflops', 80.5);
    await file.putCalibration('conv_gflops', { threads: 2, gflops: 151.25 });
    await file.putCalibration('session_run_us', 40);
    await file.close();

    const reopened = await openStore(path);
    const entry = await reopened.getCalibration('conv_gflops');
    expect(entry).toEqual({ key: 'conv_gflops', value: { threads: 2, gflops: 151.25 }, measuredAt: expect.any(Date) });
    expect((await reopened.getCalibration('session_run_us'))?.value).toBe(40);
    expect((await reopened.query('SELECT count(*) AS n FROM krypton_calibration')).rows).toEqual([{ n: 2 }]);
    await reopened.close();
  });
});
