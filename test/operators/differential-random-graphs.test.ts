import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { randomCnn } from '../../src/zoo/random-cnn';
import { heatmapDifference, runBoth } from '../support/heatmaps';
import { randomInput } from '../support/random-input';

const SEEDS = 200;
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'krypton-random-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('incremental inference equals full inference on random CNN graphs', () => {
  it(`holds for ${SEEDS} seeds, with patches on every border and corner`, async () => {
    const failures: string[] = [];
    let incrementalSegments = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const cnn = randomCnn(seed);
      const file = join(dir, `random-${seed}.onnx`);
      writeFileSync(file, cnn.model);
      const model = await loadModel(file);
      const [channels, height, width] = cnn.inputShape;
      const patch = { width: 1 + ((seed * 5) % Math.min(width, 9)), height: 1 + ((seed * 7) % Math.min(height, 9)) };
      // Stride 1 visits every position, including all borders and corners; larger strides vary alignment.
      const stride = seed % 4 === 0 ? { x: 1, y: 1 } : { x: 1 + (seed % 3), y: 1 + ((seed >> 2) % 3) };
      const grid = occlusionGrid({ image: { width, height }, patch, stride });
      const task = { input: randomInput(channels * height * width, seed), patchValues: new Float32Array(channels).fill(0.25), target: 'predicted' as const };
      const { naive, incremental, plan } = await runBoth(model, grid, task);
      incrementalSegments += plan.segments.length;
      const { maxAbs, range } = heatmapDifference(naive.values, incremental.values);
      const bound = Math.min(1e-4, Math.max(1e-3 * range, 1e-7));
      if (!(maxAbs <= bound) || incremental.classIndex !== naive.classIndex) {
        failures.push(`seed ${seed}: differs by ${maxAbs} (range ${range}); ${cnn.description}`);
      }
    }
    expect(failures).toEqual([]);
    // The property only means something if the graphs really run incrementally.
    expect(incrementalSegments).toBeGreaterThan(SEEDS * 3);
  });
});
