// OCCLUDE on `krypton worker` processes through a Redis of the test's own: a worker killed
// mid-job, the coordinator killed and rerun, Redis unreachable, an image no worker can decode.
// Workers run the built CLI (dist/, which `npm ci` builds; run `npx tsc -p tsconfig.json` after a change).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFailures, open, type Krypton, type StatementResult } from '../../src/krypton';
import { CREATE_CXR, ROOT, XRAYS, expectOneLineError, runCli, sqlList, startCli, useTempDir, waitForOutput } from '../cli/helpers';
import { writeMultiFrameXray } from '../image/dicom/multi-frame-xray';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';

const BUILT_CLI = join(ROOT, 'bin/krypton.js');
const IMAGES = ['00870a9c', '0578e08b', '073a8f93', '09258248', '0957ce54', '0ac7580d'].map((id) => join(XRAYS, `${id}.png`));
// A fixed strategy: no machine calibration in each fresh database.
const OCCLUDE = (images: readonly string[], table = 'maps') => `OCCLUDE ${sqlList(images)} USING MODEL cxr WITH PATCH 112 STRIDE 56 STRATEGY INCREMENTAL INTO ${table}`;
// A killed worker's job goes back to the queue once its lock lapses and a stalled check runs.
const WORKER_ENV = { KRYPTON_WORKER_LOCK_MS: '2500', KRYPTON_WORKER_STALLED_MS: '500' };

const dir = useTempDir();
let redis: TestRedis;
type Worker = ReturnType<typeof startCli>;
const workers: Worker[] = [];

function startWorker(): Worker {
  const worker = startCli(['worker', '--redis', redis.url], WORKER_ENV, BUILT_CLI);
  workers.push(worker);
  return worker;
}

const alive = () => workers.filter((w) => w.exitCode === null && w.signalCode === null);
const doneLines = (worker: Worker, from = 0) => worker.output().stderr.slice(from).match(/^done .*$/gm) ?? [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('the workers run the built CLI: run npx tsc -p tsconfig.json first');
  for (const image of IMAGES) if (!existsSync(image)) throw new Error(`missing test image ${image}`);
  redis = await startRedis();
  for (let i = 0; i < 3; i++) startWorker();
  await Promise.all(workers.map((w) => waitForOutput(w, /ready on redis:/, 'stderr')));
});

afterAll(async () => {
  for (const worker of alive()) worker.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
  await redis?.stop();
});

async function heatmapsOf(db: Krypton, table = 'maps'): Promise<Map<string, number[]>> {
  const { rows } = await db.query(`SELECT image_path, heatmap FROM ${table} ORDER BY image_path`);
  return new Map(rows.map((r) => [String(r.image_path), (r.heatmap as number[]).map(Number)]));
}

let localRun: Promise<Map<string, number[]>> | undefined;

/** The same OCCLUDE on this machine, computed once for the file's tests. */
async function localHeatmaps(images: readonly string[]): Promise<Map<string, number[]>> {
  localRun ??= (async () => {
    const db = await open(':memory:');
    try {
      await db.execute(`${CREATE_CXR}; ${OCCLUDE(IMAGES)}`);
      return await heatmapsOf(db);
    } finally {
      await db.close();
    }
  })();
  const all = await localRun;
  return new Map([...all].filter(([path]) => images.includes(path)));
}

function expectSameHeatmaps(actual: Map<string, number[]>, expected: Map<string, number[]>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [path, values] of expected) {
    const got = actual.get(path)!;
    expect(got).toHaveLength(values.length);
    const worst = Math.max(...values.map((v, i) => Math.abs(v - got[i])));
    expect({ path, worst: worst <= 1e-6 }).toEqual({ path, worst: true });
  }
}

async function rowCounts(db: Krypton, table = 'maps'): Promise<Record<string, number>> {
  const { rows } = await db.query(`SELECT image_path, count(*)::INTEGER AS n FROM ${table} GROUP BY ALL ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [String(r.image_path), Number(r.n)]));
}

const once = (images: readonly string[]) => Object.fromEntries([...images].sort().map((p) => [p, 1]));

test('three workers, one killed with SIGKILL mid-job: its job is retried elsewhere, every image stored once, heatmaps equal to a local run', async () => {
  const expected = await localHeatmaps(IMAGES);
  const db = await open(join(dir(), 'killed-worker.duckdb'), { workers: redis.url });
  try {
    await db.execute(CREATE_CXR);
    const progress: number[] = [];
    const running = db.execute(OCCLUDE(IMAGES), { onProgress: (p) => progress.push(p.imagesDone) });
    let victim: Worker | undefined;
    const started = Date.now();
    while (!victim && Date.now() - started < 60_000) {
      victim = workers.find((w) => /^started /m.test(w.output().stderr));
      if (!victim) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(victim).toBeDefined();
    victim!.kill('SIGKILL');
    const killedImage = /^started (.*)$/m.exec(victim!.output().stderr)![1];
    const [occlusion] = await running;
    expect(occlusion.message).toMatch(/^occluded 6 images into maps .* on the workers of redis:\/\/127\.0\.0\.1:\d+ /);
    await victim!.done;
    expect(doneLines(victim!)).toEqual([]);
    // The image the killed worker had was computed by another, and no image was computed twice.
    const survivors = alive();
    expect(survivors).toHaveLength(2);
    const computed = survivors.flatMap((w) => doneLines(w)).map((line) => /^done (.*) in /.exec(line)![1]).sort();
    expect(computed).toEqual([...IMAGES].sort());
    expect(computed).toContain(killedImage);
    expect(await rowCounts(db)).toEqual(once(IMAGES));
    expectSameHeatmaps(await heatmapsOf(db), expected);
    // Progress counts the images finished on any worker, one by one.
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(IMAGES.length);
  } finally {
    await db.close();
  }
});

test('the coordinator killed with SIGKILL, then rerun: what the workers computed is stored, nothing is computed twice, nothing lost', async () => {
  expect(alive().length).toBeGreaterThanOrEqual(1);
  const images = IMAGES.slice(0, 5);
  const database = join(dir(), 'killed-coordinator.duckdb');
  const from = new Map(alive().map((w) => [w, w.output().stderr.length]));
  expect((await runCli(['--db', database, '-c', CREATE_CXR])).code).toBe(0);
  const coordinator = startCli(['--db', database, '--redis', redis.url, '--progress', '-c', OCCLUDE(images)], {}, BUILT_CLI);
  // Killed once it has stored an image and before it stores them all.
  await waitForOutput(coordinator, /occluding image 2 of 5/, 'stderr');
  coordinator.kill('SIGKILL');
  expect((await coordinator.done).signal).toBe('SIGKILL');

  const db = await open(database, { workers: redis.url });
  try {
    const before = Object.keys(await rowCounts(db)).length;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThan(5);
    const rerun = await db.query(OCCLUDE(images));
    const statuses = rerun.rows.map((r) => r.status);
    expect(statuses.filter((s) => s === 'already done')).toHaveLength(before);
    expect(statuses.filter((s) => s === 'done')).toHaveLength(5 - before);
    expect(await rowCounts(db)).toEqual(once(images));
    const computed = [...from].flatMap(([w, offset]) => doneLines(w, offset)).map((line) => /^done (.*) in /.exec(line)![1]).sort();
    expect(computed).toEqual([...images].sort());
    expectSameHeatmaps(await heatmapsOf(db), await localHeatmaps(images));
  } finally {
    await db.close();
  }
});

test('Redis unreachable: a one-line error within seconds, and the database is as it was', async () => {
  const database = join(dir(), 'unreachable.duckdb');
  expect((await runCli(['--db', database, '-c', CREATE_CXR])).code).toBe(0);
  const snapshot = async () => {
    const db = await open(database);
    try {
      const tables = (await db.listTables()).sort();
      const counts = await Promise.all(tables.map(async (t) => [t, Number((await db.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n)]));
      return Object.fromEntries(counts);
    } finally {
      await db.close();
    }
  };
  const before = await snapshot();
  const port = await freePort();
  const started = Date.now();
  const run = await runCli(['--db', database, '-c', `SET VARIABLE krypton_workers = 'redis://127.0.0.1:${port}'; ${OCCLUDE(IMAGES.slice(0, 2))}`]);
  expect(Date.now() - started).toBeLessThan(10_000);
  expectOneLineError(run, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  expect(await snapshot()).toEqual(before);
});

test('an image no worker can decode is failed and reported as a local run reports it; the others are stored', async () => {
  const broken = join(dir(), 'broken.png');
  writeFileSync(broken, Buffer.from('not a PNG at all, only text'));
  const images = [IMAGES[0], broken, IMAGES[1]];
  const local = await open(':memory:');
  let localRows: StatementResult['rows'];
  try {
    await local.execute(CREATE_CXR);
    localRows = (await local.query(OCCLUDE(images), { keepGoing: true })).rows;
  } finally {
    await local.close();
  }
  const db = await open(join(dir(), 'broken.duckdb'));
  try {
    await db.execute(`${CREATE_CXR}; SET VARIABLE krypton_workers = '${redis.url}'`);
    const failure = await db.query(OCCLUDE(images)).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ImageFailures);
    const { result } = failure as ImageFailures;
    expect((failure as ImageFailures).message).toMatch(/^1 of 3 images failed: broken: /);
    expect(result.rows.map((r) => [r.image_path, r.status, r.error])).toEqual(localRows.map((r) => [r.image_path, r.status, r.error]));
    expect(await rowCounts(db)).toEqual(once([IMAGES[0], IMAGES[1]]));
  } finally {
    await db.close();
  }
});

test("an overlay the coordinator cannot draw fails its image loudly; the heatmap computed on a worker is stored", async () => {
  const overlays = join(dir(), 'undrawn');
  const db = await open(join(dir(), 'undrawn.duckdb'));
  // The workers decode the image; only this process, which draws overlays, refuses its size.
  process.env.KRYPTON_MAX_IMAGE_PIXELS = '1000';
  try {
    await db.execute(`${CREATE_CXR}; SET VARIABLE krypton_workers = '${redis.url}'`);
    const failure = await db.query(`${OCCLUDE([IMAGES[0]])} RENDER TO '${overlays}'`).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ImageFailures);
    expect((failure as ImageFailures).message).toMatch(/^1 of 1 images? failed: 00870a9c: heatmap stored, overlay not written: .*over the limit of 1,000 pixels/);
    expect(await rowCounts(db)).toEqual(once([IMAGES[0]]));
  } finally {
    delete process.env.KRYPTON_MAX_IMAGE_PIXELS;
    await db.close();
  }
});

test('a worker whose Redis cannot be reached, and a workers URL that is not redis://, are one-line errors', async () => {
  const port = await freePort();
  expectOneLineError(await runCli(['worker', '--redis', `redis://127.0.0.1:${port}`]), new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  const database = join(dir(), 'bad-url.duckdb');
  expect((await runCli(['--db', database, '-c', CREATE_CXR])).code).toBe(0);
  expectOneLineError(await runCli(['--db', database, '--redis', 'http://127.0.0.1:1', '-c', OCCLUDE(IMAGES.slice(0, 1))]), /workers: 'http:\/\/127\.0\.0\.1:1' is not a redis:\/\/ URL/);
});

test('an approximate configuration travels in the job: heatmaps, VERIFY SSIM and RENDER TO overlays as a local run gives them', async () => {
  const images = IMAGES.slice(0, 2);
  const statement = (renderTo: string) => `OCCLUDE ${sqlList(images)} USING MODEL cxr WITH PATCH 56 STRIDE 56
    STRATEGY INCREMENTAL THRESHOLD 0.6 DRILLDOWN STRIDE 112 FRACTION 0.5 VERIFY 50% RENDER TO '${renderTo}' INTO maps`;
  const results = async (db: Krypton) => (await db.query('SELECT image_path, strategy, tau, drill_fraction, ssim, heatmap FROM maps ORDER BY image_path')).rows
    .map((r) => ({ ...r, ssim: r.ssim === null ? null : Number(r.ssim).toFixed(6), heatmap: (r.heatmap as number[]).map((v) => Number(v).toFixed(6)) }));
  const local = await open(':memory:');
  let expected;
  try {
    await local.execute(`${CREATE_CXR}; ${statement(join(dir(), 'overlays-local'))}`);
    expected = await results(local);
  } finally {
    await local.close();
  }
  const db = await open(join(dir(), 'approximate.duckdb'), { workers: redis.url });
  try {
    await db.execute(`${CREATE_CXR}; ${statement(join(dir(), 'overlays'))}`);
    const got = await results(db);
    expect(got.filter((r) => r.ssim !== null)).toHaveLength(1);
    expect(got).toEqual(expected);
    expect(readdirSync(join(dir(), 'overlays')).sort()).toEqual(readdirSync(join(dir(), 'overlays-local')).sort());
    for (const file of readdirSync(join(dir(), 'overlays'))) {
      expect(readFileSync(join(dir(), 'overlays', file)).equals(readFileSync(join(dir(), 'overlays-local', file)))).toBe(true);
    }
  } finally {
    await db.close();
  }
});

test('the frames of a multi-frame file go to workers each as its own job: rows and overlays as a local run gives them', async () => {
  const series = await writeMultiFrameXray(dir());
  const statement = (renderTo: string) => `LOAD DICOM ('${series.path}') INTO scans;
    OCCLUDE (SELECT path, unnest(range(1, NumberOfFrames + 1)) AS frame FROM scans) USING MODEL cxr
    WITH PATCH 112 STRIDE 56 STRATEGY INCREMENTAL RENDER TO '${renderTo}' INTO frame_maps`;
  const results = async (db: Krypton) => (await db.query('SELECT frame, image_id, class_index, base_probability, heatmap FROM frame_maps ORDER BY frame')).rows
    .map((r) => ({ frame: Number(r.frame), image_id: r.image_id, class_index: r.class_index, base_probability: Number(r.base_probability).toFixed(6), heatmap: (r.heatmap as number[]).map((v) => Number(v).toFixed(6)) }));
  const local = await open(':memory:');
  let expected;
  try {
    await local.execute(`${CREATE_CXR}; ${statement(join(dir(), 'frames-local'))}`);
    expected = await results(local);
  } finally {
    await local.close();
  }
  const db = await open(join(dir(), 'frames.duckdb'), { workers: redis.url });
  try {
    await db.execute(`${CREATE_CXR}; ${statement(join(dir(), 'frames'))}`);
    const got = await results(db);
    expect(got.map((r) => r.frame)).toEqual([1, 2, 3]);
    expect(new Set(got.map((r) => r.heatmap.join())).size).toBe(3);
    expect(got).toEqual(expected);
    expect(readdirSync(join(dir(), 'frames')).sort()).toEqual(readdirSync(join(dir(), 'frames-local')).sort());
    for (const file of readdirSync(join(dir(), 'frames'))) {
      expect(readFileSync(join(dir(), 'frames', file)).equals(readFileSync(join(dir(), 'frames-local', file)))).toBe(true);
    }
  } finally {
    await db.close();
  }
});

test('Ctrl-C (the signal aborted) stops enqueueing and keeps what is stored; the rerun does the rest, each image once', async () => {
  const db = await open(join(dir(), 'aborted.duckdb'), { workers: redis.url });
  const from = new Map(alive().map((w) => [w, w.output().stderr.length]));
  const computed = () => [...from].flatMap(([w, offset]) => doneLines(w, offset)).length;
  process.env.KRYPTON_QUEUE_WINDOW = '1';
  try {
    await db.execute(CREATE_CXR);
    const controller = new AbortController();
    const stopped = await db.query(OCCLUDE(IMAGES), { signal: controller.signal, onProgress: (p) => { if (p.imagesDone >= 1) controller.abort(); } })
      .then(() => undefined, (error: unknown) => error);
    expect((stopped as Error).message).toMatch(/^interrupted: 1 image finished in this run is kept in maps; run the statement again/);
    expect(Object.keys(await rowCounts(db))).toHaveLength(1);
    expect(computed()).toBe(1);
    delete process.env.KRYPTON_QUEUE_WINDOW;
    const rerun = await db.query(OCCLUDE(IMAGES));
    expect(rerun.message).toMatch(/^occluded 5 images into maps .*, 1 already done/);
    expect(await rowCounts(db)).toEqual(once(IMAGES));
    expect(computed()).toBe(IMAGES.length);
  } finally {
    delete process.env.KRYPTON_QUEUE_WINDOW;
    await db.close();
  }
});

test('SIGTERM stops a worker once its jobs are done, with status 0', async () => {
  const running = alive();
  expect(running.length).toBeGreaterThanOrEqual(1);
  for (const worker of running) worker.kill('SIGTERM');
  for (const ended of await Promise.all(running.map((w) => w.done))) {
    expect({ code: ended.code, stopped: /^worker stopped$/m.test(ended.stderr) }).toEqual({ code: 0, stopped: true });
  }
});
