/**
 * Approximate inference tuned to an SSIM target against naive full inference, on chest X-rays,
 * as a user runs it: patch 16, stride 4, whole heatmaps, QUALITY SSIM >= 0.9.
 *
 *   npm run bench:approx                          # cxr SqueezeNet, VGG16, ResNet18, InceptionV3 (long)
 *   npm run bench:approx -- --arch resnet18 --held-out 4 --target 0.9
 *   npm run bench:approx -- --full-naive          # naive whole heatmaps for every held-out image (very long)
 *   npm run bench:approx -- --arch vgg16_cxr      # VGG16 trained on X-rays (bench/train-cxr.py); also resnet18_cxr, inception_v3_cxr
 *
 * Per model, in one process:
 *  1. tuning: EXPLAIN OCCLUDE over 3 X-rays with QUALITY SSIM >= q RETUNE (the tuner's sample is
 *     those 3); its time and choice come from the catalog entry it writes;
 *  2. approximate: OCCLUDE over held-out X-rays with the same QUALITY, reusing that tuning, as a user
 *     would run it; seconds per image are the rows' elapsed_ms (one image's whole heatmap, clean
 *     pass included), median over the held-out images;
 *  3. exact: the same OCCLUDE with STRATEGY INCREMENTAL, whose heatmaps the approximate ones are
 *     compared with in SQL (krypton_ssim): the SSIM reached on held-out images;
 *  4. naive: per-position seconds of batched full inference, timed on 8 batches of positions spread
 *     over the grid of each held-out image and scaled to the grid (every position costs the same);
 *     for the cxr model and ResNet18, also one whole-heatmap OCCLUDE STRATEGY NAIVE, to show the
 *     scaling holds. Speedup = naive seconds per image / approximate seconds per image.
 * Results: a table on stdout and bench/results/approximate-vs-naive.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Krypton } from '../src/krypton.js';
import { ZOO_DEFAULT_INPUT, type ZooArchitecture } from '../src/zoo/build-zoo-model.js';
import { loadModel } from '../src/model/load-model.js';
import { occlusionGrid, cellCount } from '../src/model/occlusion-grid.js';
import { NaiveOcclusion } from '../src/operators/naive-inference.js';
import { prepareImage } from '../src/image/prepare-image.js';
import { patchValues } from '../src/image/patch-color.js';
import { imagenetInputSpec, type InputSpec } from '../src/image/input-spec.js';
import { formatTable } from '../src/format/text-table.js';
import { BENCH_MODELS, median, zooModelFile } from './bench-support.js';

type BenchArchitecture = Extract<ZooArchitecture, 'vgg16' | 'resnet18' | 'inception_v3'>;
/** The zoo's seeded models, and the same architectures trained on X-rays by bench/train-cxr.py. */
type BenchModel = 'cxr' | BenchArchitecture | `${BenchArchitecture}_cxr`;
const MODELS: BenchModel[] = ['cxr', 'vgg16', 'resnet18', 'inception_v3'];
const TRAINED: BenchModel[] = ['resnet18_cxr', 'vgg16_cxr', 'inception_v3_cxr'];
const ROOT = join(__dirname, '..', '..');
const DATA = join(ROOT, 'data');
const XRAYS = join(DATA, 'images/chest-xray-hannover/png');
const RESULTS = join(ROOT, 'bench', 'results');
const PATCH = 16;
const STRIDE = 4;
const TUNING_IMAGES = 3;
const NAIVE_BATCHES = 8;

interface Options {
  models: BenchModel[];
  heldOut: number;
  target: number;
  fullNaive: boolean;
}

function parseOptions(args: string[]): Options {
  const value = (flag: string) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined; };
  const arch = value('--arch');
  if (arch && ![...MODELS, ...TRAINED].includes(arch as BenchModel)) throw new Error(`--arch must be one of ${[...MODELS, ...TRAINED].join(', ')}`);
  return {
    models: arch ? [arch as BenchModel] : MODELS,
    heldOut: Number(value('--held-out') ?? 4),
    target: Number(value('--target') ?? 0.9),
    fullNaive: args.includes('--full-naive'),
  };
}

function architectureOf(model: Exclude<BenchModel, 'cxr'>): BenchArchitecture {
  return model.replace(/_cxr$/, '') as BenchArchitecture;
}

function modelFile(model: BenchModel): string {
  if (model === 'cxr') return join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');
  if (!model.endsWith('_cxr')) return zooModelFile(model as BenchArchitecture);
  const arch = architectureOf(model);
  const file = join(BENCH_MODELS, `trained-cxr-${arch}-${ZOO_DEFAULT_INPUT[arch]}.onnx`);
  if (!existsSync(file)) throw new Error(`${file} is missing: train it with /usr/bin/python3 bench/train-cxr.py ${arch}`);
  return file;
}

function inputSize(model: BenchModel): number {
  return model === 'cxr' ? 224 : ZOO_DEFAULT_INPUT[architectureOf(model)];
}

function createModel(model: BenchModel): string {
  const file = modelFile(model).replace(/'/g, "''");
  return model === 'cxr'
    ? `CREATE OR REPLACE MODEL ${model} FROM '${file}' CHANNELS GRAY SCALE 255 NORMALIZE NONE`
    : `CREATE OR REPLACE MODEL ${model} FROM '${file}'`;
}

function inputSpecOf(model: BenchModel): InputSpec {
  if (model === 'cxr') return imagenetInputSpec({ width: 224, height: 224, channelCount: 3, channels: 'gray', scale: 255, mean: [0, 0, 0], std: [1, 1, 1] });
  const size = inputSize(model);
  return imagenetInputSpec({ width: size, height: size });
}

const list = (paths: string[]) => `(${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')})`;

/** Naive seconds per image from NAIVE_BATCHES batches spread over the grid, after one warm-up batch. */
async function sampledNaiveSeconds(model: BenchModel, images: string[]): Promise<number[]> {
  const loaded = await loadModel(modelFile(model));
  const spec = inputSpecOf(model);
  const grid = occlusionGrid({ image: { width: spec.width, height: spec.height }, patch: { width: PATCH, height: PATCH }, stride: { x: STRIDE, y: STRIDE } });
  const operator = await NaiveOcclusion.create(loaded, grid);
  const total = cellCount(grid);
  const seconds: number[] = [];
  try {
    for (const path of images) {
      const image = await prepareImage(path, spec);
      const run = await operator.prepare({ input: image.tensor, patchValues: patchValues({ kind: 'gray' }, image, spec), target: 'predicted', batchSize: 16 });
      const values = new Float32Array(total);
      const batch = run.batchSize;
      const cells = (k: number) => Int32Array.from({ length: batch }, (_, i) => Math.floor(((k * batch + i) * total) / ((NAIVE_BATCHES + 1) * batch)));
      await run.evaluate(cells(0), values);
      const start = performance.now();
      for (let k = 1; k <= NAIVE_BATCHES; k++) await run.evaluate(cells(k), values);
      const perCell = (performance.now() - start) / 1000 / (NAIVE_BATCHES * batch);
      seconds.push(perCell * (total + 1));
    }
  } finally {
    await operator.release();
  }
  return seconds;
}

interface ModelResult {
  model: BenchModel;
  input: number;
  positions: number;
  tuned: string;
  tau: number | null;
  coarseStride: number | null;
  fraction: number | null;
  tuningSsimMin: number;
  tuningSeconds: number;
  approximateSeconds: number[];
  exactSeconds: number[];
  naiveSampledSeconds: number[];
  naiveFullSeconds: number[];
  heldOutSsim: number[];
  speedupVsNaive: number;
  speedupVsExact: number;
  /** Wall seconds of a fresh CLI process occluding one more image with the cached tuning. */
  coldProcessSeconds?: number;
  coldSpeedupVsNaive?: number;
}

/** One more X-ray, occluded by a fresh `krypton` process as a user would. */
function coldRun(database: string, model: BenchModel, image: string, target: number): number {
  const statement = `OCCLUDE ${list([image])} USING MODEL ${model} WITH PATCH ${PATCH} STRIDE ${STRIDE} QUALITY SSIM >= ${target} INTO bench_cold_${model}`;
  const start = performance.now();
  const child = spawnSync(process.execPath, [join(ROOT, 'bin', 'krypton.js'), '--db', database, '--quiet', '-c', statement], { encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  if (child.status !== 0) throw new Error(`cold run of ${model} failed: ${child.stderr}`);
  process.stdout.write(`${model}: cold process: ${child.stdout.trim().split('\n').pop()} (${seconds.toFixed(1)} s wall)\n`);
  return seconds;
}

async function benchModel(db: Krypton, model: BenchModel, images: string[], options: Options): Promise<ModelResult> {
  const tuning = images.slice(0, TUNING_IMAGES);
  const heldOut = images.slice(TUNING_IMAGES, TUNING_IMAGES + options.heldOut);
  const base = `USING MODEL ${model} WITH PATCH ${PATCH} STRIDE ${STRIDE}`;
  const quality = `QUALITY SSIM >= ${options.target}`;
  await db.query(createModel(model));
  const log = (text: string) => process.stdout.write(`${model}: ${text}\n`);

  log(`tuning on ${tuning.length} images`);
  const explained = await db.query(`EXPLAIN OCCLUDE ${list(tuning)} ${base} ${quality} RETUNE`, {
    onProgress: (p) => p.tuning && log(`  ${p.tuning}`),
  });
  for (const row of explained.rows) if (row.section === 'tuning' && !String(row.line).startsWith('  ')) log(`  ${row.line}`);
  const entry = (await db.query('SELECT value::VARCHAR AS v FROM krypton_tuning ORDER BY tuned_at DESC LIMIT 1')).rows[0];
  const tuned = JSON.parse(String(entry.v)) as { spec: { kind: string; threshold?: number; shape?: { factorX: number; fraction: number }; inner?: { kind: string; threshold?: number } }; ssimMin: number; tuningSeconds: number };

  const table = (kind: string) => `bench_${kind}_${model}`;
  log(`approximate OCCLUDE over ${heldOut.length} held-out images`);
  const approx = await db.query(`OCCLUDE ${list(heldOut)} ${base} ${quality} INTO ${table('approx')}`);
  log(`  ${approx.message}`);
  log(`exact OCCLUDE over the same images`);
  const exact = await db.query(`OCCLUDE ${list(heldOut)} ${base} STRATEGY INCREMENTAL INTO ${table('exact')}`);
  log(`  ${exact.message}`);
  const joined = (await db.query(`SELECT a.elapsed_ms AS approx_ms, e.elapsed_ms AS exact_ms, krypton_ssim(e.heatmap, a.heatmap, a.width, a.height) AS ssim
    FROM ${table('approx')} a JOIN ${table('exact')} e USING (image_path) ORDER BY image_path`)).rows;
  log('naive, timed on batches of positions');
  const naiveSampledSeconds = await sampledNaiveSeconds(model, heldOut);
  const naiveFullSeconds: number[] = [];
  const full = options.fullNaive ? heldOut : model === 'cxr' || model.startsWith('resnet18') ? heldOut.slice(0, 1) : [];
  if (full.length) {
    log(`naive whole-heatmap OCCLUDE over ${full.length} image${full.length === 1 ? '' : 's'}`);
    await db.query(`OCCLUDE ${list(full)} ${base} STRATEGY NAIVE INTO ${table('naive')}`);
    for (const row of (await db.query(`SELECT elapsed_ms FROM ${table('naive')} ORDER BY image_path`)).rows) naiveFullSeconds.push(Number(row.elapsed_ms) / 1000);
  }
  const approximateSeconds = joined.map((r) => Number(r.approx_ms) / 1000);
  const exactSeconds = joined.map((r) => Number(r.exact_ms) / 1000);
  const spec = tuned.spec;
  const cell = spec.kind === 'drilldown' ? spec.inner! : spec;
  const input = inputSize(model);
  return {
    model,
    input,
    positions: cellCount(occlusionGrid({ image: { width: input, height: input }, patch: { width: PATCH, height: PATCH }, stride: { x: STRIDE, y: STRIDE } })),
    tuned: String(explained.rows.find((r) => String(r.line).startsWith('chosen: '))?.line ?? spec.kind).replace(/^chosen: /, ''),
    tau: cell.kind === 'incremental' ? cell.threshold ?? 1 : null,
    coarseStride: spec.kind === 'drilldown' ? spec.shape!.factorX * STRIDE : null,
    fraction: spec.kind === 'drilldown' ? spec.shape!.fraction : null,
    tuningSsimMin: tuned.ssimMin,
    tuningSeconds: tuned.tuningSeconds,
    approximateSeconds,
    exactSeconds,
    naiveSampledSeconds,
    naiveFullSeconds,
    heldOutSsim: joined.map((r) => Number(r.ssim)),
    speedupVsNaive: median(naiveSampledSeconds) / median(approximateSeconds),
    speedupVsExact: median(exactSeconds) / median(approximateSeconds),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const images = readdirSync(XRAYS).filter((f) => f.endsWith('.png')).sort().map((f) => join(XRAYS, f));
  if (images.length < TUNING_IMAGES + options.heldOut + 1) throw new Error(`need ${TUNING_IMAGES + options.heldOut + 1} X-rays, found ${images.length}`);
  mkdirSync(RESULTS, { recursive: true });
  const database = join(RESULTS, 'approximate.duckdb');
  rmSync(database, { force: true });
  rmSync(`${database}.wal`, { force: true });
  const db = await open(database);
  const results: ModelResult[] = [];
  try {
    for (const model of options.models) results.push(await benchModel(db, model, images, options));
  } finally {
    await db.close();
  }
  const coldImage = images[TUNING_IMAGES + options.heldOut];
  for (const result of results) {
    if (!coldImage) break;
    result.coldProcessSeconds = coldRun(database, result.model, coldImage, options.target);
    result.coldSpeedupVsNaive = median(result.naiveSampledSeconds) / result.coldProcessSeconds;
  }
  const rows = results.map((r) => [
    r.model, `${r.input}`, r.positions, r.tuned, r.tuningSsimMin.toFixed(3),
    `${Math.min(...r.heldOutSsim).toFixed(3)} / ${median(r.heldOutSsim).toFixed(3)}`,
    median(r.naiveSampledSeconds), r.naiveFullSeconds.length ? median(r.naiveFullSeconds) : '',
    median(r.exactSeconds), median(r.approximateSeconds), `${r.speedupVsNaive.toFixed(1)}x`, `${r.speedupVsExact.toFixed(1)}x`,
    r.coldProcessSeconds ?? '', r.coldSpeedupVsNaive ? `${r.coldSpeedupVsNaive.toFixed(1)}x` : '', r.tuningSeconds,
  ]);
  process.stdout.write(`\nSSIM target ${options.target}, patch ${PATCH}, stride ${STRIDE}, whole heatmaps; seconds per image, medians over ${options.heldOut} held-out X-rays\n\n`);
  process.stdout.write(formatTable(['model', 'input', 'positions', 'tuned', 'tuning SSIM min', 'held-out SSIM min / median', 'naive s', 'naive s (whole)', 'exact s', 'approx s', 'vs naive', 'vs exact', 'cold process s', 'cold vs naive', 'tuning s'], rows) + '\n');
  const file = join(RESULTS, 'approximate-vs-naive.json');
  writeFileSync(file, JSON.stringify({ measuredAt: new Date().toISOString(), patch: PATCH, stride: STRIDE, target: options.target, results }, null, 2) + '\n');
  process.stdout.write(`\nwrote ${file}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
