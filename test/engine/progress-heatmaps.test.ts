import { join } from 'node:path';
import { open, type HeatmapSoFar } from '../../src/krypton';
import { DATA } from '../support/heatmaps';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };

describe('progress of an OCCLUDE carries the heatmap as it fills in', () => {
  it('reports the current image\'s values after each batch, the last report being what is stored', async () => {
    const db = await open(':memory:', { throughput: RATES });
    try {
      await db.query(`CREATE MODEL mnist FROM '${join(DATA, 'models/mnist.onnx')}' SCALE 255 NORMALIZE NONE`);
      const seen: HeatmapSoFar[] = [];
      await db.query(`OCCLUDE '${join(DATA, 'images/natural-winml/mnist_28.png')}' USING MODEL mnist WITH PATCH 6 STRIDE 2 INTO maps`, {
        batchSize: 16,
        onProgress: (p) => { if (p.heatmap) seen.push({ ...p.heatmap, values: Float32Array.from(p.heatmap.values) }); },
      });
      const stored = (await db.query('SELECT heatmap, width, height FROM maps')).rows[0];
      expect(seen.length).toBe(Math.ceil((12 * 12) / 16));
      expect(seen[0]).toMatchObject({ stage: 'all', columns: stored.width, rows: stored.height });
      expect(seen[0].values.filter((v) => Number.isNaN(v)).length).toBe(12 * 12 - 16);
      const last = Array.from(seen[seen.length - 1].values);
      (stored.heatmap as number[]).forEach((value, i) => expect(last[i]).toBeCloseTo(value, 6));
    } finally {
      await db.close();
    }
  });

  it('drills down coarse stage first, then the fine stage, and the last report is what is stored', async () => {
    const db = await open(':memory:', { throughput: RATES });
    try {
      await db.query(`CREATE MODEL mnist FROM '${join(DATA, 'models/mnist.onnx')}' SCALE 255 NORMALIZE NONE`);
      const stages: string[] = [];
      let last: Float32Array | undefined;
      await db.query(`OCCLUDE '${join(DATA, 'images/natural-winml/mnist_28.png')}' USING MODEL mnist WITH PATCH 4 STRIDE 1
        STRATEGY INCREMENTAL DRILLDOWN STRIDE 3 FRACTION 0.3 INTO drilled`, {
        batchSize: 8,
        onProgress: (p) => {
          if (!p.heatmap) return;
          stages.push(p.heatmap.stage);
          last = Float32Array.from(p.heatmap.values);
        },
      });
      expect(stages[0]).toBe('coarse');
      expect(stages.indexOf('fine')).toBeGreaterThan(0);
      expect(stages.slice(stages.indexOf('fine')).every((stage) => stage === 'fine')).toBe(true);
      const stored = (await db.query('SELECT heatmap FROM drilled')).rows[0].heatmap as number[];
      stored.forEach((value, i) => expect(last![i]).toBeCloseTo(value, 6));
    } finally {
      await db.close();
    }
  });
});
