/**
 * OCCLUDE through the Redis queue against OCCLUDE on this machine, with a redis-server of its own:
 *
 *   npm run bench:distributed                   # 3 runs of each, medians
 *   npm run bench:distributed -- --runs 1
 *
 * 1. Images per minute over 8 X-rays (the cxr SqueezeNet, patch 56 stride 28, exact incremental):
 *    locally (in this process), and on `krypton worker` processes: 1 worker × 1 job at a time,
 *    1 worker × 2 (--concurrency 2), 2 workers × 1. Workers are started and warmed (model loaded)
 *    before the timed statement; the local run's model is loaded by its CREATE MODEL.
 * 2. Queue overhead per job: a worker in this process that answers every job at once with a
 *    precomputed ResNet18 stride-4 heatmap (53×53 values), one job in the queue at a time
 *    (KRYPTON_QUEUE_WINDOW=1): the whole round trip (read and hash the image, enqueue, a worker
 *    takes it, the result comes back and is committed) per image, none of it hidden by overlap.
 * 3. The coordinator's ingestion rate: the same instant worker, the jobs enqueued as usual (256 in
 *    the queue at once), heatmap rows committed per second.
 * 4. What one ResNet18 stride-4 job costs here: ms per position on a centred 12×12 grid (144
 *    positions, exact incremental), times the 2,809 positions of the whole 224-px heatmap.
 *
 * Writes bench/results/distributed.json.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { encodeValues, JOB_FORMAT, OCCLUSION_QUEUE, type OcclusionJobData, type OcclusionJobResult } from '../src/distributed/occlusion-job.js';
import { redisConnection } from '../src/distributed/occlusion-queue.js';
import { formatTable } from '../src/format/text-table.js';
import { open } from '../src/krypton.js';
import { ZOO_DEFAULT_INPUT } from '../src/zoo/build-zoo-model.js';
import { startCli, waitForOutput } from '../test/cli/helpers.js';
import { startRedis } from '../test/support/redis-server.js';
import { BENCH_MODELS, median, zooModelFile } from './bench-support.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'krypton.js');
const RESULTS = join(ROOT, 'bench', 'results');
const XRAYS = join(ROOT, 'data', 'images', 'chest-xray-hannover', 'png');
const PHOTO = join(ROOT, 'data', 'images', 'natural-skimage', 'astronaut.png');
const CREATE_CXR = `CREATE MODEL cxr FROM '${join(ROOT, 'data/models/cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(ROOT, 'data/models/cxr-appa-labels.txt')}'`;
const XRAY_IDS = ['00870a9c', '0578e08b', '073a8f93', '09258248', '0957ce54', '0ac7580d', '0cea09eb', '1479fa94'];
const RESNET_POSITIONS = 53 * 53;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const list = (paths: readonly string[]) => `(${paths.map((p) => `'${p}'`).join(', ')})`;

function resnet18(): { file: string; label: string } {
  const exported = join(BENCH_MODELS, `torchvision-resnet18-${ZOO_DEFAULT_INPUT.resnet18}.onnx`);
  return existsSync(exported) ? { file: exported, label: 'torchvision resnet18' } : { file: zooModelFile('resnet18'), label: 'zoo resnet18' };
}

/** `krypton worker` processes, ready and with the cxr model loaded by a first job. */
async function startWorkers(url: string, count: number, concurrency: number, scratch: string): Promise<() => Promise<void>> {
  const workers = Array.from({ length: count }, () => startCli(['worker', '--redis', url, '--concurrency', String(concurrency), '--quiet'], {}, CLI));
  await Promise.all(workers.map((w) => waitForOutput(w, /ready on/, 'stderr')));
  const db = await open(join(scratch, `warm-${Date.now()}.duckdb`), { workers: url });
  const warm = XRAY_IDS.slice(0, count * concurrency).map((id) => join(XRAYS, `${id}.png`));
  await db.execute(`${CREATE_CXR}; OCCLUDE ${list(warm)} USING MODEL cxr WITH PATCH 112 STRIDE 112 STRATEGY INCREMENTAL INTO warm`);
  await db.close();
  return async () => {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
  };
}

async function timedOcclude(database: string, workers: string | undefined, images: readonly string[]): Promise<number> {
  const db = await open(database, workers ? { workers } : {});
  try {
    await db.execute(CREATE_CXR);
    const started = performance.now();
    await db.execute(`OCCLUDE ${list(images)} USING MODEL cxr WITH PATCH 56 STRIDE 28 STRATEGY INCREMENTAL INTO maps`);
    return (performance.now() - started) / 1000;
  } finally {
    await db.close();
  }
}

/** A worker that answers every job at once with the same heatmap: what is left is the queue's own cost. */
function instantWorker(url: string, values: string): Worker {
  const worker = new Worker<OcclusionJobData, OcclusionJobResult>(OCCLUSION_QUEUE, async (job) => ({
    format: JOB_FORMAT, classIndex: 0, baseProbability: 0.5, values, batchSize: 1, elapsedMs: 0,
    imageSha256: job.data.image.sha256, modelSha256: job.data.model.sha256, worker: 'bench',
  }), { connection: redisConnection(url), concurrency: 8 });
  worker.on('error', () => {});
  return worker;
}

/** Seconds between the first and the last image committed, per image after the first. */
async function ingestionSeconds(database: string, url: string, model: string, images: readonly string[]): Promise<number> {
  const db = await open(database, { workers: url });
  try {
    await db.execute(`CREATE MODEL r18 FROM '${model}'`);
    const times: number[] = [];
    await db.execute(`OCCLUDE ${list(images)} USING MODEL r18 WITH PATCH 16 STRIDE 4 STRATEGY INCREMENTAL INTO maps`, {
      onProgress: (p) => { if (p.imagesDone > times.length) times.push(performance.now()); },
    });
    if (times.length !== images.length) throw new Error(`${times.length} of ${images.length} images were stored`);
    return (times[times.length - 1] - times[0]) / 1000 / (times.length - 1);
  } finally {
    await db.close();
  }
}

async function resnetJobSeconds(model: string): Promise<number> {
  const db = await open(':memory:');
  try {
    await db.execute(`CREATE MODEL r18 FROM '${model}'`);
    const { rows } = await db.query(`OCCLUDE '${PHOTO}' USING MODEL r18 WITH PATCH 16 STRIDE 4 REGION (66, 66, 60, 60) STRATEGY INCREMENTAL`);
    const positions = 12 * 12;
    return (Number(rows[0].elapsed_ms) / 1000 / positions) * RESNET_POSITIONS;
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const runs = argument('--runs', 3);
  const scratch = mkdtempSync(join(tmpdir(), 'krypton-distributed-'));
  const redis = await startRedis();
  const images = XRAY_IDS.map((id) => join(XRAYS, `${id}.png`));
  const { file: r18, label: r18Label } = resnet18();
  try {
    const perMinute = (seconds: number) => (images.length / seconds) * 60;
    const setups: { name: string; workers: number; concurrency: number }[] = [
      { name: '1 worker x 1', workers: 1, concurrency: 1 },
      { name: '1 worker x 2 (--concurrency 2)', workers: 1, concurrency: 2 },
      { name: '2 workers x 1', workers: 2, concurrency: 1 },
    ];
    const throughput: Record<string, number[]> = { local: [] };
    for (const setup of setups) throughput[setup.name] = [];
    for (let run = 0; run < runs; run++) {
      throughput.local.push(await timedOcclude(join(scratch, `local-${run}.duckdb`), undefined, images));
      process.stdout.write(`run ${run + 1}: local ${throughput.local.at(-1)!.toFixed(1)} s\n`);
      for (const setup of setups) {
        const stop = await startWorkers(redis.url, setup.workers, setup.concurrency, scratch);
        try {
          throughput[setup.name].push(await timedOcclude(join(scratch, `${setup.workers}x${setup.concurrency}-${run}.duckdb`), redis.url, images));
        } finally {
          await stop();
        }
        process.stdout.write(`run ${run + 1}: ${setup.name} ${throughput[setup.name].at(-1)!.toFixed(1)} s\n`);
      }
    }

    // Many files, one image's bytes: a job per path, as a backlog of scans makes them.
    const copies = (count: number, folder: string) => {
      mkdirSync(join(scratch, folder));
      return Array.from({ length: count }, (_, i) => {
        const file = join(scratch, folder, `scan-${String(i).padStart(4, '0')}.png`);
        copyFileSync(images[0], file);
        return file;
      });
    };
    const values = encodeValues(Float32Array.from({ length: RESNET_POSITIONS }, (_, i) => 0.5 + 0.4 * Math.sin(i)));
    const instant = instantWorker(redis.url, values);
    const overheadMs: number[] = [];
    const rowsPerSecond: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        process.env.KRYPTON_QUEUE_WINDOW = '1';
        overheadMs.push(1000 * await ingestionSeconds(join(scratch, `overhead-${run}.duckdb`), redis.url, r18, copies(40, `overhead-${run}`)));
        delete process.env.KRYPTON_QUEUE_WINDOW;
        rowsPerSecond.push(1 / await ingestionSeconds(join(scratch, `ingest-${run}.duckdb`), redis.url, r18, copies(300, `ingest-${run}`)));
        process.stdout.write(`run ${run + 1}: overhead ${overheadMs.at(-1)!.toFixed(1)} ms/job, ingestion ${rowsPerSecond.at(-1)!.toFixed(0)} rows/s\n`);
      }
    } finally {
      await instant.close();
    }
    const jobSeconds: number[] = [];
    for (let run = 0; run < runs; run++) jobSeconds.push(await resnetJobSeconds(r18));

    const localSeconds = median(throughput.local);
    const overhead = median(overheadMs);
    const job = median(jobSeconds);
    const ingestion = median(rowsPerSecond);
    const report = {
      measuredAt: new Date().toISOString(),
      runs,
      throughput: {
        workload: `${images.length} chest X-rays, cxr SqueezeNet 1.1 (224 px), patch 56 stride 28 (49 positions), exact incremental`,
        imagesPerMinute: Object.fromEntries(Object.entries(throughput).map(([name, seconds]) => [name, +perMinute(median(seconds)).toFixed(1)])),
        secondsPerStatement: Object.fromEntries(Object.entries(throughput).map(([name, seconds]) => [name, seconds.map((s) => +s.toFixed(2))])),
      },
      queueOverheadMsPerJob: +overhead.toFixed(2),
      queueOverheadRunsMs: overheadMs.map((v) => +v.toFixed(2)),
      resnet18Stride4JobSeconds: +job.toFixed(2),
      resnet18Model: r18Label,
      overheadShareOfResnet18Job: +(overhead / 1000 / job).toFixed(5),
      ingestionRowsPerSecond: +ingestion.toFixed(1),
      ingestionRuns: rowsPerSecond.map((v) => +v.toFixed(1)),
      workersOneCoordinatorFeeds: Math.floor(ingestion * job),
    };
    const rows = Object.entries(report.throughput.imagesPerMinute).map(([name, rate]) => [name, rate, `${(rate / perMinute(localSeconds)).toFixed(2)}x`]);
    process.stdout.write(`${formatTable(['setup', 'images/min', 'vs local'], rows)}\n`);
    process.stdout.write(`queue overhead ${overhead.toFixed(1)} ms/job = ${(100 * report.overheadShareOfResnet18Job).toFixed(3)}% of a ${r18Label} stride-4 job (${job.toFixed(1)} s); ingestion ${ingestion.toFixed(0)} rows/s, enough for ${report.workersOneCoordinatorFeeds} such workers\n`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'distributed.json'), JSON.stringify(report, null, 2) + '\n');
  } finally {
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
