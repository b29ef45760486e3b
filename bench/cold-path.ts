/**
 * Speed as a user meets it: every run is a fresh `krypton` process with default options, timed
 * whole (start-up, model loading, sessions, the heatmap, the database) and by the operator's own
 * elapsed time, naive and exact alternating, median of several.
 *
 *   npm run bench:cold                          # every case, 3 runs each
 *   npm run bench:cold -- --case resnet18-s8 --runs 5
 *
 * Models: the zoo VGG16, and torchvision's own ResNet18 and InceptionV3 exports when
 * `/usr/bin/python3 bench/export-torchvision.py` has written them to bench/models/ (the zoo's
 * otherwise). Writes bench/results/cold-path.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable } from '../src/format/text-table.js';
import { ZOO_DEFAULT_INPUT } from '../src/zoo/build-zoo-model.js';
import { BENCH_MODELS, median, zooModelFile } from './bench-support.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'krypton.js');
const RESULTS = join(ROOT, 'bench', 'results');
const PHOTO = join(ROOT, 'data', 'images', 'natural-skimage', 'astronaut.png');
const XRAYS = join(ROOT, 'data', 'images', 'chest-xray-hannover', 'png');
const CXR = join(ROOT, 'data', 'models', 'cxr-appa-squeezenet1.1.onnx');

/** torchvision's export when there is one, the zoo's model of the same architecture otherwise. */
function realisticModel(arch: 'resnet18' | 'inception_v3'): { file: string; label: string } {
  const exported = join(BENCH_MODELS, `torchvision-${arch}-${ZOO_DEFAULT_INPUT[arch]}.onnx`);
  return existsSync(exported) ? { file: exported, label: `torchvision ${arch}` } : { file: zooModelFile(arch), label: `zoo ${arch}` };
}

interface Measurement {
  wallSeconds: number;
  /** The operator's own time (one image), or the statement's images per minute. */
  elapsedSeconds: number;
}

interface Case {
  readonly name: string;
  readonly describe: () => string;
  readonly run: (mode: 'naive' | 'exact', scratch: string) => Measurement;
}

function spawnTimed(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const start = performance.now();
  const out = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  const seconds = (performance.now() - start) / 1000;
  if (out.status !== 0) throw new Error(`krypton ${args.join(' ')} failed (${out.status}): ${out.stderr}`);
  return seconds;
}

/** One `krypton heatmap` process: the CLI a user runs on one image. */
function heatmapCase(name: string, model: () => { file: string; label: string }, stride: number, region?: string): Case {
  return {
    name,
    describe: () => `${model().label}, heatmap CLI, patch 16 stride ${stride}${region ? `, region ${region}` : ', whole grid'}`,
    run: (mode, scratch) => {
      const json = join(scratch, `${name}-${mode}.json`);
      const args = ['heatmap', '--model', model().file, '--image', PHOTO, '--patch', '16', '--stride', String(stride), '--mode', mode, '--quiet', '--json', json];
      if (region) args.push('--region', region);
      const wallSeconds = spawnTimed(args);
      return { wallSeconds, elapsedSeconds: JSON.parse(readFileSync(json, 'utf8')).elapsedMs / 1000 };
    },
  };
}

/** One `krypton -c` process with an OCCLUDE over `images` X-rays: the statement a user types. */
function occludeCase(name: string, images: number, env: NodeJS.ProcessEnv = {}, label = ''): Case {
  return {
    name,
    describe: () => `cxr SqueezeNet 1.1, ${images}-image OCCLUDE, patch 16 stride 4${label}`,
    run: (mode, scratch) => {
      const list = readdirSync(XRAYS).filter((f) => f.endsWith('.png')).sort().slice(0, images);
      const db = join(scratch, `${name}-${mode}-${Date.now()}.duckdb`);
      const sources = list.map((f) => `'${join(XRAYS, f)}'`).join(', ');
      const statement = `CREATE MODEL cxr FROM '${CXR}' CHANNELS GRAY SCALE 255 NORMALIZE NONE; OCCLUDE (${sources}) USING MODEL cxr WITH PATCH 16 STRIDE 4 STRATEGY ${mode === 'naive' ? 'NAIVE' : 'INCREMENTAL'} INTO h;`;
      const wallSeconds = spawnTimed(['--db', db, '-c', statement], env);
      const out = spawnSync(process.execPath, [CLI, '--db', db, '--json', '-c', 'SELECT sum(elapsed_ms) AS ms, count(*) AS n FROM h'], { encoding: 'utf8' });
      const row = JSON.parse(out.stdout.trim().split('\n').pop()!);
      rmSync(db, { force: true });
      if (Number(row.n) !== list.length) throw new Error(`${name}: ${row.n} of ${list.length} images stored`);
      return { wallSeconds, elapsedSeconds: Number(row.ms) / 1000 };
    },
  };
}

const CASES: Case[] = [
  heatmapCase('vgg16-centre', () => ({ file: zooModelFile('vgg16'), label: 'zoo vgg16' }), 4, '82,82,60,60'),
  heatmapCase('resnet18-s8', () => realisticModel('resnet18'), 8),
  heatmapCase('resnet18-s4', () => realisticModel('resnet18'), 4),
  heatmapCase('inception-s8', () => realisticModel('inception_v3'), 8),
  occludeCase('occlude-1', 1),
  occludeCase('occlude-12', 12),
  occludeCase('occlude-12-one-thread', 12, { KRYPTON_WORKERS: '0' }, ', no worker pool'),
];

function main(): void {
  const args = process.argv.slice(2);
  const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
  const only = args.flatMap((a, i) => (a === '--case' ? [args[i + 1]] : []));
  const unknown = only.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length) throw new Error(`no case ${unknown.map((n) => `'${n}'`).join(', ')}; the cases are ${CASES.map((c) => c.name).join(', ')}`);
  const cases = only.length ? CASES.filter((c) => only.includes(c.name)) : CASES;
  const scratch = mkdtempSync(join(tmpdir(), 'krypton-cold-'));
  // What loading learns is kept between processes (src/model/probe-cache.ts): the bench keeps its
  // own, and times each mode once with it empty, as on a model file never loaded before.
  const cache = join(scratch, 'cache');
  process.env.KRYPTON_CACHE_DIR = cache;
  const rows: (string | number)[][] = [];
  const firstRows: (string | number)[][] = [];
  const report: unknown[] = [];
  try {
    for (const c of cases) {
      const naive: Measurement[] = [];
      const exact: Measurement[] = [];
      const first: Record<'naive' | 'exact', Measurement> = { naive: { wallSeconds: NaN, elapsedSeconds: NaN }, exact: { wallSeconds: NaN, elapsedSeconds: NaN } };
      for (const mode of ['naive', 'exact'] as const) {
        rmSync(cache, { recursive: true, force: true });
        first[mode] = c.run(mode, scratch);
        process.stdout.write(`${c.name} ${mode}, first load of the model file: ${first[mode].wallSeconds.toFixed(1)} s wall (${first[mode].elapsedSeconds.toFixed(1)} s operator)\n`);
      }
      firstRows.push([c.describe(), first.naive.wallSeconds, first.exact.wallSeconds, first.naive.wallSeconds / first.exact.wallSeconds]);
      for (let run = 0; run < runs; run++) {
        naive.push(c.run('naive', scratch));
        exact.push(c.run('exact', scratch));
        process.stdout.write(`${c.name} run ${run + 1}: naive ${naive[run].wallSeconds.toFixed(1)} s wall (${naive[run].elapsedSeconds.toFixed(1)} s operator), exact ${exact[run].wallSeconds.toFixed(1)} s wall (${exact[run].elapsedSeconds.toFixed(1)} s operator)\n`);
      }
      const m = (list: Measurement[], key: keyof Measurement) => median(list.map((x) => x[key]));
      const result = {
        case: c.name, what: c.describe(), runs,
        naiveWall: m(naive, 'wallSeconds'), exactWall: m(exact, 'wallSeconds'),
        naiveOperator: m(naive, 'elapsedSeconds'), exactOperator: m(exact, 'elapsedSeconds'),
        naive, exact, firstLoad: first,
      };
      report.push(result);
      rows.push([c.describe(), result.naiveWall, result.exactWall, result.naiveWall / result.exactWall, result.naiveOperator, result.exactOperator, result.naiveOperator / result.exactOperator]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write('\n' + formatTable(['case', 'naive wall s', 'exact wall s', 'wall ratio', 'naive operator s', 'exact operator s', 'operator ratio'], rows) + '\n');
  process.stdout.write('\nFirst process on the model file (nothing kept from loading it before), one run each:\n');
  process.stdout.write(formatTable(['case', 'naive wall s', 'exact wall s', 'wall ratio'], firstRows) + '\n');
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, 'cold-path.json');
  writeFileSync(file, JSON.stringify({ measuredAt: new Date().toISOString(), results: report }, null, 2) + '\n');
  process.stdout.write(`\nwrote ${file}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
