import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodedModel, loadModel, type LoadedModel } from '../../src/model/load-model';
import { probeCacheFolder } from '../../src/model/probe-cache';
import { sessionsCreated } from '../../src/model/session';
import { DATA } from '../support/heatmaps';

const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');
const MNIST = join(DATA, 'models/mnist.onnx');

const configured = process.env.KRYPTON_CACHE_DIR;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-probe-cache-'));
  process.env.KRYPTON_CACHE_DIR = join(dir, 'cache');
});
afterEach(() => {
  if (configured === undefined) delete process.env.KRYPTON_CACHE_DIR;
  else process.env.KRYPTON_CACHE_DIR = configured;
  rmSync(dir, { recursive: true, force: true });
});

async function counted(path: string): Promise<{ model: LoadedModel; sessions: number }> {
  const before = sessionsCreated();
  const model = await loadModel(path);
  return { model, sessions: sessionsCreated() - before };
}

function entries(): string[] {
  try {
    return readdirSync(probeCacheFolder()!).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
}

/** What loading learnt, comparable with toEqual. */
function facts(model: LoadedModel) {
  return { shapes: [...model.graph.shapes], input: model.input, output: model.output, batchable: model.batchable, nodes: model.graph.nodes.length };
}

describe('the probe is kept between processes, by the model file\'s hash', () => {
  it('a second load runs no session and learns the same', async () => {
    const first = await counted(CXR);
    expect(first.sessions).toBe(1);
    expect(entries()).toHaveLength(1);
    const second = await counted(CXR);
    expect(second.sessions).toBe(0);
    expect(facts(second.model)).toEqual(facts(first.model));
  });

  it('a model loaded from the cache still holds its weights once, in the bytes of its whole-model session', async () => {
    await loadModel(CXR);
    const { model, sessions } = await counted(CXR);
    expect(sessions).toBe(0);
    const bytes = encodedModel(model.graph);
    const weights = [...model.graph.initializers.values()].filter((t) => (t.rawData?.length ?? 0) > 0);
    expect(weights.length).toBeGreaterThan(10);
    for (const tensor of weights) expect(tensor.rawData!.buffer).toBe(bytes.buffer);
  });

  it('a model that needs its Reshapes rewritten to batch loads from the cache as it loaded from the probe', async () => {
    const first = await counted(MNIST);
    const second = await counted(MNIST);
    expect(second.sessions).toBe(0);
    expect(facts(second.model)).toEqual(facts(first.model));
    expect(first.sessions).toBe(first.model.batchable ? 2 : 1);
  });

  it('another file at the same path is probed again', async () => {
    const copy = join(dir, 'model.onnx');
    copyFileSync(CXR, copy);
    await loadModel(copy);
    copyFileSync(MNIST, copy);
    const { model, sessions } = await counted(copy);
    expect(sessions).toBeGreaterThan(0);
    expect(model.input.height).toBe(28);
    expect(entries()).toHaveLength(2);
  });

  it('a damaged or foreign entry is ignored and replaced', async () => {
    await loadModel(CXR);
    const [name] = entries();
    const file = join(probeCacheFolder()!, name);
    const intact = readFileSync(file, 'utf8');
    for (const damage of ['{"key": "trunc', JSON.stringify({ ...JSON.parse(intact), key: 'another' }), JSON.stringify({ ...JSON.parse(intact), shapes: [['x', [1]]] })]) {
      writeFileSync(file, damage);
      const { model, sessions } = await counted(CXR);
      expect(sessions).toBe(1);
      expect(model.output.classes).toBe(2);
      expect(readFileSync(file, 'utf8')).toBe(intact);
    }
  });

  it('KRYPTON_CACHE_DIR=off keeps nothing, and a cache that cannot be written costs nothing but the probe', async () => {
    process.env.KRYPTON_CACHE_DIR = 'off';
    expect((await counted(CXR)).sessions).toBe(1);
    expect((await counted(CXR)).sessions).toBe(1);
    // A file where the cache folder would be.
    writeFileSync(join(dir, 'blocked'), 'not a folder');
    process.env.KRYPTON_CACHE_DIR = join(dir, 'blocked');
    expect((await counted(CXR)).model.output.classes).toBe(2);
    expect((await counted(CXR)).sessions).toBe(1);
  });
});
