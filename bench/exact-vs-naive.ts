/**
 * Exact incremental inference against naive batched full inference, on the zoo architectures at
 * their usual input sizes: patch 16, stride 4, over a centred 12x12 grid of positions (144), or the
 * whole heatmap with --full.
 *
 *   npm run bench                       # all three, 3 runs each, report + bench/results/exact-vs-naive.json
 *   npm run bench -- --arch resnet18 --runs 5
 *   npm run bench -- --full --runs 1 --no-memory   # the whole heatmap (53x53 positions at 224): long
 *   npm run bench -- --warm-only        # without the cold figures of bench/cold-path.ts that follow
 *
 * Timing: both operators live in one process and their runs alternate (naive, exact, naive, …)
 * after a warm-up each, so a slower or faster spell of this shared machine hits both alike. A run
 * is a whole heatmap computation: the clean pass (materialisation) counts in. Speedup = median
 * naive seconds / median exact seconds, both at the same batch size.
 * Memory: each mode runs once more in a process of its own, whose peak RSS is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/model/load-model.js';
import { occlusionGrid, type OcclusionGrid } from '../src/model/occlusion-grid.js';
import { costModel } from '../src/model/cost-model.js';
import { createOperator, EXACT_INCREMENTAL, NAIVE } from '../src/operators/create-operator.js';

type Strategy = 'naive' | 'incremental';
const SPECS = { naive: NAIVE, incremental: EXACT_INCREMENTAL } as const;
import { ZOO_DEFAULT_INPUT, type ZooArchitecture } from '../src/zoo/build-zoo-model.js';
import { formatTable } from '../src/format/text-table.js';
import { median, zooModelFile } from './bench-support.js';

const ARCHITECTURES: ZooArchitecture[] = ['vgg16', 'resnet18', 'inception_v3'];
const PATCH = 16;
const STRIDE = 4;
const GRID_SIDE = 12;
const BATCH = 16;
const RESULTS = join(__dirname, '..', '..', 'bench', 'results');

interface Timing {
  positions: number;
  /** Seconds of each measured run, naive and exact alternating. */
  naive: number[];
  exact: number[];
}

function benchGrid(input: number, full: boolean): OcclusionGrid {
  if (full) return occlusionGrid({ image: { width: input, height: input }, patch: { width: PATCH, height: PATCH }, stride: { x: STRIDE, y: STRIDE } });
  const side = PATCH + (GRID_SIDE - 1) * STRIDE;
  const start = Math.floor((input - side) / 2);
  return occlusionGrid({ image: { width: input, height: input }, patch: { width: PATCH, height: PATCH }, stride: { x: STRIDE, y: STRIDE }, region: { x: start, y: start, width: side, height: side } });
}

/** Deterministic natural-looking input: smooth gradients plus texture, ImageNet-normalised range. */
function syntheticInput(size: number): Float32Array {
  const input = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        input[(c * size + y) * size + x] = Math.sin((x + 17 * c) / 23) * Math.cos(y / 31) + 0.3 * Math.sin((x * y) / 97);
      }
    }
  }
  return input;
}

function task(input: number) {
  return { input: syntheticInput(input), patchValues: new Float32Array(3), target: 'predicted' as const, batchSize: BATCH };
}

async function time(arch: ZooArchitecture, runs: number, full: boolean): Promise<Timing> {
  const input = ZOO_DEFAULT_INPUT[arch];
  const model = await loadModel(zooModelFile(arch));
  const grid = benchGrid(input, full);
  const work = task(input);
  const naive = await createOperator(NAIVE, model, grid);
  const exact = await createOperator(EXACT_INCREMENTAL, model, grid);
  const seconds = async (operator: typeof naive) => {
    const start = performance.now();
    await operator.run(work);
    return (performance.now() - start) / 1000;
  };
  // Warm-up: sessions allocate their arenas on first use (negligible against a whole heatmap).
  if (!full) {
    await seconds(naive);
    await seconds(exact);
  }
  const timing: Timing = { positions: grid.columns * grid.rows, naive: [], exact: [] };
  for (let run = 0; run < runs; run++) {
    timing.naive.push(await seconds(naive));
    timing.exact.push(await seconds(exact));
  }
  await naive.release();
  await exact.release();
  return timing;
}

/** Peak memory of one mode alone: this process loads, plans and runs it once. */
async function memory(arch: ZooArchitecture, mode: Strategy, full: boolean): Promise<number> {
  const input = ZOO_DEFAULT_INPUT[arch];
  const model = await loadModel(zooModelFile(arch));
  const operator = await createOperator(SPECS[mode], model, benchGrid(input, full));
  await operator.run(task(input));
  await operator.release();
  return process.resourceUsage().maxRSS / 1024;
}

function peakRss(arch: ZooArchitecture, mode: Strategy, full: boolean): number {
  const out = spawnSync(process.execPath, [__filename, '--memory', arch, mode, full ? 'full' : 'centre'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (out.status !== 0) throw new Error(`${arch} ${mode} failed: ${out.stderr}`);
  return Number(out.stdout.trim().split('\n').pop());
}

async function parent(archs: ZooArchitecture[], runs: number, full: boolean, memory: boolean): Promise<void> {
  const rows: (string | number)[][] = [];
  const report: unknown[] = [];
  for (const arch of archs) {
    zooModelFile(arch);
    const model = await loadModel(zooModelFile(arch));
    const redundancy = costModel(model.graph, { width: PATCH, height: PATCH }).redundancyRatio;
    const naiveMb = memory ? peakRss(arch, 'naive', full) : NaN;
    const exactMb = memory ? peakRss(arch, 'incremental', full) : NaN;
    const timing = await time(arch, runs, full);
    const naiveSec = median(timing.naive) / timing.positions;
    const exactSec = median(timing.exact) / timing.positions;
    const speedup = naiveSec / exactSec;
    rows.push([arch, ZOO_DEFAULT_INPUT[arch], timing.positions, naiveSec * 1000, exactSec * 1000, speedup, redundancy, speedup / redundancy, naiveMb, exactMb]);
    report.push({
      arch, input: ZOO_DEFAULT_INPUT[arch], patch: PATCH, stride: STRIDE, positions: timing.positions, batch: BATCH, runs,
      naiveSecondsPerPosition: naiveSec, exactSecondsPerPosition: exactSec, speedup, redundancyRatio: redundancy, speedupOverR: speedup / redundancy,
      naivePeakRssMb: naiveMb, exactPeakRssMb: exactMb, naiveRunSeconds: timing.naive, exactRunSeconds: timing.exact,
    });
    process.stdout.write(`${arch}: naive ${(naiveSec * 1000).toFixed(1)} ms/position, exact ${(exactSec * 1000).toFixed(1)} ms/position, speedup ${speedup.toFixed(2)}x (R ${redundancy.toFixed(2)})\n`);
  }
  process.stdout.write('\n' + formatTable(['model', 'input', 'positions', 'naive ms/pos', 'exact ms/pos', 'speedup', 'R', 'speedup/R', 'naive MB', 'exact MB'], rows) + '\n');
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, 'exact-vs-naive.json');
  writeFileSync(file, JSON.stringify({ measuredAt: new Date().toISOString(), results: report }, null, 2) + '\n');
  process.stdout.write(`\nwrote ${file}\n`);
}

async function entry(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--memory') {
    process.stdout.write(`${await memory(args[1] as ZooArchitecture, args[2] as Strategy, args[3] === 'full')}\n`);
    return;
  }
  const archIndex = args.indexOf('--arch');
  const runsIndex = args.indexOf('--runs');
  const archs = archIndex >= 0 ? [args[archIndex + 1] as ZooArchitecture] : ARCHITECTURES;
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 3;
  await parent(archs, runs, args.includes('--full'), !args.includes('--no-memory'));
  // The figures a user gets come beside the warm ones: fresh processes, default options.
  if (!args.includes('--warm-only')) {
    process.stdout.write('\ncold, one process per run (npm run bench:cold):\n');
    const cold = spawnSync(process.execPath, [join(__dirname, 'cold-path.js'), '--runs', String(runs)], { stdio: 'inherit' });
    if (cold.status !== 0) throw new Error('the cold-path benchmark failed');
  }
}

entry().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
