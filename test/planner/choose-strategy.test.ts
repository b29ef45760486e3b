import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model';
import { occlusionGrid } from '../../src/model/occlusion-grid';
import { EXACT_INCREMENTAL, NAIVE } from '../../src/operators/create-operator';
import { estimateSpec } from '../../src/planner/candidates';
import { pricingContext } from '../../src/planner/pricing';
import type { Throughput } from '../../src/planner/calibration';
import { open, type Krypton } from '../../src/krypton';
import { DATA } from '../support/heatmaps';

/** Rates in the range measured on 2-core machines; fixed so the tests do not depend on timing. */
const RATES: Throughput = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');

describe('the cost-based choice between naive and incremental', () => {
  /** The cheaper exact candidate for a patch and stride at the given rates. */
  async function cheaper(patch: number, stride: number, rates: Throughput): Promise<string> {
    const model = await loadModel(CXR);
    const grid = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: patch, height: patch }, stride: { x: stride, y: stride } });
    const pricing = pricingContext(model.graph, grid, 3 * 224 * 224, rates);
    const [naive, incremental] = [NAIVE, EXACT_INCREMENTAL].map((spec) => estimateSpec(pricing, spec).secondsPerImage);
    return naive < incremental ? 'naive' : 'incremental';
  }

  it('picks incremental for a small patch and naive when the patch covers nearly the whole image', async () => {
    expect(await cheaper(16, 4, RATES)).toBe('incremental');
    expect(await cheaper(208, 8, RATES)).toBe('naive');
  });

  it('follows the machine: when each session call costs much, naive (fewer calls) wins even for a small patch', async () => {
    expect(await cheaper(16, 4, { ...RATES, secondsPerCall: 2e-2 })).toBe('naive');
  });
});

describe('EXPLAIN', () => {
  let db: Krypton;
  beforeAll(async () => {
    // Fixed rates keep the plans independent of this machine's speed.
    db = await open(':memory:', { throughput: RATES });
    await db.query(`CREATE MODEL cxr FROM '${CXR}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`);
  });
  afterAll(() => db.close());

  const xray = join(DATA, 'images/chest-xray-hannover/png/0578e08b.png');
  const explain = async (clauses: string) => (await db.query(`EXPLAIN OCCLUDE '${xray}' USING MODEL cxr ${clauses}`)).rows.map((r) => `${r.section}: ${r.line}`);

  it('names both candidates with estimates and says why the winner won', async () => {
    const lines = await explain('WITH PATCH 16 STRIDE 4');
    expect(lines.some((l) => /^candidates: naive +est [\d.]+ m?s\/image$/.test(l))).toBe(true);
    expect(lines.some((l) => /^candidates: incremental +est [\d.]+ m?s\/image  <- chosen$/.test(l))).toBe(true);
    expect(lines.some((l) => /^candidates: why: incremental is estimated [\d.]+x cheaper than naive$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('physical plan:   IncrementalOcclusionExec threshold=1 segments='))).toBe(true);
    expect(lines.some((l) => /^logical plan:   Occlude model=cxr class=predicted patch=16x16 stride=4x4 color=gray quality=exact positions=53x53=2809$/.test(l))).toBe(true);
    expect(lines.some((l) => /^layers: \/features\/features\.0\/Conv +Conv +64x111x111 +9x9 /.test(l))).toBe(true);
    expect(lines.some((l) => /redundancy ratio R = 3\.65/.test(l))).toBe(true);
  });

  it('flips to naive when the patch is nearly the image', async () => {
    const lines = await explain('WITH PATCH 208 STRIDE 8');
    expect(lines.some((l) => /^candidates: naive +est .*<- chosen$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('physical plan:   NaiveOcclusionExec batch=auto'))).toBe(true);
  });

  it('obeys an explicit STRATEGY and says so', async () => {
    const lines = await explain('WITH PATCH 16 STRIDE 4 STRATEGY NAIVE');
    expect(lines).toContain('candidates: why: STRATEGY NAIVE was requested');
  });

  it('plans a quality target exactly when the approximate strategies are switched off, and says so', async () => {
    const lines = await explain('WITH PATCH 16 STRIDE 4 QUALITY SSIM >= 0.9 STRATEGY AUTO WITHOUT THRESHOLD, DRILLDOWN');
    expect(lines).toContain('notes: QUALITY SSIM >= 0.9: the approximate strategies are switched off, so the plan is exact');
    expect(lines).toContain('candidates: threshold    not considered: switched off (WITHOUT)');
    expect(lines).toContain('candidates: drilldown    not considered: switched off (WITHOUT)');
  });

  it('lists the approximate candidates as not considered when exact results are asked for', async () => {
    const lines = await explain('WITH PATCH 16 STRIDE 4');
    expect(lines).toContain('candidates: threshold    not considered: exact results were asked for (no QUALITY SSIM >= q below 1)');
  });

  it('draws the physical plan from its nodes, root first, at fixed rates', async () => {
    const lines = await explain("WITH PATCH 16 STRIDE 8 STRATEGY INCREMENTAL THRESHOLD 0.5 DRILLDOWN STRIDE 32 FRACTION 0.25 VERIFY 50 % RENDER TO 'out/x/' INTO fixed");
    const physical = lines.filter((l) => l.startsWith('physical plan:')).map((l) => l.replace(/query_id=\w+/, 'query_id=…'));
    expect(physical).toMatchInlineSnapshot(`
[
  "physical plan: InsertExec table=fixed query_id=… commit=per image skip=images already done est total=122.6 ms",
  "physical plan:   RenderExec dir=out/x/ file=<image_id>.png scale=absolute",
  "physical plan:     VerifyExec share=50% images=1 against=exact incremental",
  "physical plan:       DrilldownExec coarse stride=32x32 fraction=0.25 stage 1 cells=49 stage 2 cells=≤ 183 est/image=122.6 ms",
  "physical plan:         IncrementalOcclusionExec threshold=0.5 segments=11 layers in full=2 batch=auto",
  "physical plan:           ImageScanExec images=1 decode=sharp resize=224x224 stretch channels=gray scale=0-255 mean=0,0,0 std=1,1,1",
]
`);
  });

  it('EXPLAIN ANALYZE runs the query and reports measured time against the estimate', async () => {
    const { rows } = await db.query(`EXPLAIN ANALYZE OCCLUDE '${xray}' USING MODEL cxr WITH PATCH 56 STRIDE 56 INTO analyzed`);
    const lines = rows.map((r) => String(r.line));
    expect(lines.some((l) => /^images: 1 computed, 0 already done, 0 failed; total /.test(l))).toBe(true);
    expect(lines.some((l) => /^measured [\d.]+ m?s\/image vs estimated [\d.]+ m?s\/image/.test(l))).toBe(true);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM analyzed')).rows[0].n).toBe(1);
  });
});
