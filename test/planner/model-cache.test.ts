import { join } from 'node:path';
import { ModelCache } from '../../src/planner/bind-model.js';

const MNIST = join(__dirname, '..', '..', 'data', 'models', 'mnist.onnx');

describe('the session model cache', () => {
  test('a model loaded with open options is the one later asked for with the options it settled', async () => {
    const cache = new ModelCache();
    const first = await cache.load(MNIST, undefined, undefined);
    const settled = await cache.load(MNIST, { width: first.input.width, height: first.input.height }, { kind: first.output.kind });
    expect(settled).toBe(first);
  });

  test('other options load the file again', async () => {
    const cache = new ModelCache();
    const logits = await cache.load(MNIST, undefined, undefined);
    const other = await cache.load(MNIST, undefined, { kind: 'sigmoid' });
    expect(other).not.toBe(logits);
    expect(other.output.activation).not.toBe(logits.output.activation);
  });
});
