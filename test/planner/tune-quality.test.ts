import { join } from 'node:path';
import { open, type Krypton } from '../../src/krypton';
import type { Throughput } from '../../src/planner/calibration';
import { chooseSample, lowestPassing, tuningKey, verdictNote, type ThresholdVerdict, type Trial } from '../../src/planner/tune-quality';
import { DATA } from '../support/heatmaps';

/** Fixed rates: plans must not depend on this machine's speed where the test compares them. */
const RATES: Throughput = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const PNG = join(DATA, 'images/chest-xray-hannover/png');
const IMAGES = ['00870a9c', '0578e08b', '073a8f93', '09258248'].map((id) => `'${join(PNG, `${id}.png`)}'`).join(', ');
/** A small grid keeps tuning to a few seconds: 13 x 13 cells. */
const QUERY = `OCCLUDE (${IMAGES}) USING MODEL cxr WITH PATCH 32 STRIDE 16`;

let db: Krypton;
beforeAll(async () => {
  db = await open(':memory:', { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${join(DATA, 'models/cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`);
  // The exact heatmaps every approximate one is judged against.
  await db.query(`${QUERY} STRATEGY INCREMENTAL INTO exact`);
});
afterAll(() => db.close());

const rowsOf = async (sql: string) => (await db.query(sql)).rows;

describe('QUALITY SSIM >= q tunes an approximate plan on a sample of the query', () => {
  let message: string;
  beforeAll(async () => {
    const steps: string[] = [];
    const result = await db.query(`${QUERY} QUALITY SSIM >= 0.9 INTO tuned`, { onProgress: (p) => p.tuning && steps.push(p.tuning) });
    message = result.message!;
    expect(steps[0]).toBe('exact heatmap on sample image 1 of 3');
  });

  it('says what it tuned and how close it came', () => {
    expect(message).toMatch(/^occluded 4 images into tuned \(.+\) in [\d.]+ s, tuned on 3 images in [\d.]+ s: .+ reached SSIM >= 0\.9 on every sample image \(min 0\.9\d+/);
  });

  it('stores the sample images with the SSIM they reached, equal to krypton_ssim against the exact heatmaps', async () => {
    const rows = await rowsOf(`SELECT t.image_id, t.ssim, krypton_ssim(e.heatmap, t.heatmap, t.width, t.height) AS recomputed, t.strategy, t.tau
      FROM tuned t JOIN exact e USING (image_path) ORDER BY t.image_id`);
    expect(rows).toHaveLength(4);
    const sampled = rows.filter((r) => r.ssim !== null);
    expect(sampled).toHaveLength(3);
    for (const row of sampled) {
      expect(row.ssim as number).toBeGreaterThanOrEqual(0.9);
      expect(row.ssim as number).toBeCloseTo(row.recomputed as number, 6);
    }
    // One configuration for the whole query, recorded in every row.
    expect(new Set(rows.map((r) => `${r.strategy} ${r.tau}`)).size).toBe(1);
    expect(rows[0].strategy).not.toBe('incremental');
  });

  it('records the configuration in the catalog, and EXPLAIN reuses it with its measured SSIM', async () => {
    expect(await rowsOf('SELECT count(*)::INTEGER AS n FROM krypton_tuning')).toEqual([{ n: 1 }]);
    const lines = (await db.query(`EXPLAIN ${QUERY} QUALITY SSIM >= 0.9 INTO tuned`)).rows.map((r) => `${r.section}: ${r.line}`);
    expect(lines.some((l) => /^tuning: target SSIM >= 0\.9 on every one of 3 sample images; reused from the catalog/.test(l))).toBe(true);
    expect(lines.some((l) => /^tuning: chosen: .+ \(τ=(?:[\d.]+|n\/a \(naive\)), S1=.+, r=.+\), SSIM min (?:0\.9\d+|1\.000) median/.test(l))).toBe(true);
    expect(lines.some((l) => /^tuning: estimated speedup: [\d.]+x vs naive/.test(l))).toBe(true);
    expect(lines.some((l) => /^candidates: \w+ +est .+<- chosen$/.test(l))).toBe(true);
  });

  it('a rerun finds every image done under the same query id, without tuning again', async () => {
    const steps: string[] = [];
    const result = await db.query(`${QUERY} QUALITY SSIM >= 0.9 INTO tuned`, { onProgress: (p) => p.tuning && steps.push(p.tuning) });
    expect(steps).toEqual([]);
    expect(result.message).toMatch(/occluded 0 images .*tuning reused .*4 already done/);
    expect(await rowsOf('SELECT count(*)::INTEGER AS n FROM tuned')).toEqual([{ n: 4 }]);
  });

  it('RETUNE tunes again', async () => {
    const steps: string[] = [];
    await db.query(`EXPLAIN ${QUERY} QUALITY SSIM >= 0.9 RETUNE INTO tuned`, { onProgress: (p) => p.tuning && steps.push(p.tuning) });
    expect(steps.length).toBeGreaterThan(3);
  });

  it('VERIFY gives the other images exact heatmaps and stores their SSIM too', async () => {
    const result = await db.query(`${QUERY} QUALITY SSIM >= 0.9 VERIFY 100 % INTO verified`);
    expect(result.message).toMatch(/SSIM measured on 4: min 0\.\d+, median 0\.\d+/);
    const rows = await rowsOf(`SELECT v.ssim, krypton_ssim(e.heatmap, v.heatmap, v.width, v.height) AS recomputed FROM verified v JOIN exact e USING (image_path)`);
    expect(rows.every((r) => r.ssim !== null && Math.abs((r.ssim as number) - (r.recomputed as number)) < 1e-6)).toBe(true);
  });
});

describe('what tuning can and cannot promise', () => {
  it('falls back to exact when no configuration reaches the target, and says so', async () => {
    const { rows } = await db.query(`EXPLAIN ${QUERY} QUALITY SSIM >= 0.99999`);
    const lines = rows.map((r) => `${r.section}: ${r.line}`);
    expect(lines.some((l) => /^notes: no approximate configuration reached SSIM >= 0\.99999 on every sample image \(best: .+\); the plan falls back to exact (incremental|naive)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^physical plan: {3}(IncrementalOcclusionExec threshold=1|NaiveOcclusionExec)/.test(l))).toBe(true);
  });

  it('WITHOUT keeps a strategy out of the choice, and the session variable does so for every query', async () => {
    const without = (await db.query(`EXPLAIN ${QUERY} QUALITY SSIM >= 0.9 STRATEGY AUTO WITHOUT DRILLDOWN`)).rows.map((r) => String(r.line));
    expect(without).toContain('drilldown    not considered: switched off (WITHOUT)');
    expect(without.some((l) => l.includes('DrilldownExec'))).toBe(false);
    await db.query("SET VARIABLE krypton_disabled_strategies = 'threshold, drilldown'");
    try {
      const session = (await db.query(`EXPLAIN ${QUERY} QUALITY SSIM >= 0.9`)).rows.map((r) => String(r.line));
      expect(session).toContain('threshold    not considered: switched off (krypton_disabled_strategies)');
      expect(session).toContain('QUALITY SSIM >= 0.9: the approximate strategies are switched off, so the plan is exact');
      await db.query("SET VARIABLE krypton_disabled_strategies = 'drilldown, nonsense'");
      await expect(db.query(`EXPLAIN ${QUERY} QUALITY SSIM >= 0.9`)).rejects.toThrow("krypton_disabled_strategies: unknown strategy 'nonsense' (known: naive, incremental, threshold, drilldown)");
    } finally {
      await db.query('RESET VARIABLE krypton_disabled_strategies');
    }
  });

  it('refuses to plan with no strategy left, pointing at STRATEGY', async () => {
    await expect(db.query(`${QUERY} STRATEGY AUTO WITHOUT NAIVE, INCREMENTAL`)).rejects.toThrow(/^line 1, column \d+: no strategy is left to choose from: naive, incremental are switched off and exact results need naive or incremental$/);
  });

  it('refuses a tuning sample larger than the query, pointing at TUNE ON', async () => {
    await expect(db.query(`${QUERY}\n  QUALITY SSIM >= 0.9 TUNE ON 9 IMAGES`)).rejects.toThrow('line 2, column 23: TUNE ON 9 IMAGES but the query has 4 images');
  });

  it('a fixed approximate strategy is recorded in every row, and VERIFY measures it', async () => {
    const result = await db.query(`${QUERY} STRATEGY INCREMENTAL THRESHOLD 0.6 DRILLDOWN STRIDE 32 FRACTION 0.3 VERIFY 50% INTO fixed`);
    expect(result.message).toMatch(/\(drilldown 32x32 r=0\.3 over threshold τ=0\.6\)/);
    const rows = await rowsOf('SELECT strategy, tau, coarse_stride_x, coarse_stride_y, drill_fraction, ssim FROM fixed ORDER BY image_path');
    expect(rows.map(({ ssim: _, ...r }) => r)).toEqual(Array(4).fill({ strategy: 'drilldown+threshold', tau: 0.6, coarse_stride_x: 32, coarse_stride_y: 32, drill_fraction: 0.3 }));
    expect(rows.filter((r) => r.ssim !== null)).toHaveLength(2);
  });

  it('gives tuned and exact plans different query ids, so neither mistakes the other\'s heatmaps', async () => {
    const ids = await rowsOf("SELECT DISTINCT query_id FROM (SELECT query_id FROM exact UNION ALL SELECT query_id FROM tuned UNION ALL SELECT query_id FROM fixed)");
    expect(ids).toHaveLength(3);
  });
});

describe('the threshold search', () => {
  const THRESHOLDS = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
  /** An oracle: per sample, the lowest τ that passes, and the highest that still runs faster than exact. */
  function search(lowestPasses: number[], slowerAbove = 1) {
    const tested: string[] = [];
    const result = lowestPassing(THRESHOLDS, lowestPasses.length, async (tau, sample): Promise<ThresholdVerdict> => {
      tested.push(`${tau}@${sample}`);
      if (tau > slowerAbove) return 'slower';
      return tau >= lowestPasses[sample] - 1e-9 ? 'passes' : 'fails';
    });
    return { result, tested };
  }

  it('finds the lowest τ that passes on every sample, trying few', async () => {
    const { result, tested } = search([0.5, 0.5, 0.6]);
    expect(await result).toBe(0.6);
    // Six thresholds on three samples would be 18 runs.
    expect(new Set(tested).size).toBeLessThanOrEqual(8);
  });

  it('passes over thresholds that run slower than exact, and finds none when only they would pass', async () => {
    expect(await search([0.7, 0.7], 0.75).result).toBe(0.7);
    expect(await search([0.8, 0.9], 0.75).result).toBeUndefined();
    expect(await search([0.3, 0.3]).result).toBe(0.4);
    expect(await search([0.95]).result).toBeUndefined();
  });
});

describe('tuning keys and samples', () => {
  it('a changed model file, target or set of allowed strategies is a different key', () => {
    const logical = { model: { spec: {}, model: { output: { activation: 'softmax', name: 'y', outputs: ['y'] } } }, grid: {}, color: { kind: 'gray' }, target: 'predicted' } as never;
    const base = { logical, target: 0.9, disabled: new Set<never>(), modelHash: 'a' };
    const key = tuningKey(base);
    expect(tuningKey({ ...base })).toBe(key);
    expect(tuningKey({ ...base, modelHash: 'b' })).not.toBe(key);
    expect(tuningKey({ ...base, target: 0.95 })).not.toBe(key);
    expect(tuningKey({ ...base, disabled: new Set(['drilldown'] as never[]) })).not.toBe(key);
  });

  it('samples evenly across the images', () => {
    const images = Array.from({ length: 10 }, (_, i) => ({ path: `${i}.png`, frame: 1, imageId: String(i) }));
    expect(chooseSample(images, 3).map((i) => i.path)).toEqual(['1.png', '5.png', '8.png']);
    expect(chooseSample(images.slice(0, 2), 2).map((i) => i.path)).toEqual(['0.png', '1.png']);
  });
});

describe('the note of a tuning that falls back to exact', () => {
  const trial = (label: string, secondsPerImage: number, ssimMin: number, how: Trial['how'], verdict: Trial['verdict']): Trial => ({
    label, spec: { kind: 'incremental', threshold: 1 }, secondsPerImage, basis: 'measured at tuning', ssimMin, ssimMedian: ssimMin, how, verdict,
  });
  it('names the best approximate configuration, and of equal SSIM the cheaper', () => {
    const exact = trial('incremental', 167, 1, 'exact', 'chosen');
    const trials = [
      trial('naive', 407, 1, 'exact', 'not needed'), exact,
      trial('threshold τ=0.8', 186, 0.743, 'measured', 'below the target'),
      // Drill-down composes the same heatmaps over either inner operator.
      trial('drilldown 8x8 r=0.5 over naive', 256, 0.795, 'simulated', 'below the target'),
      trial('drilldown 8x8 r=0.5 over incremental', 105, 0.795, 'simulated', 'below the target'),
      trial('drilldown 8x8 r=0.4 over incremental', 93, 0.762, 'simulated', 'below the target'),
    ];
    expect(verdictNote(trials, exact, 0.9)).toEqual({
      fellBack: true,
      note: 'no approximate configuration reached SSIM >= 0.9 on every sample image (best: drilldown 8x8 r=0.5 over incremental, min 0.795); the plan falls back to exact incremental',
    });
  });
});
