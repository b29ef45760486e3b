// Kill -9 at random moments of an OCCLUDE over the forty bundled X-rays with RENDER TO, then rerun
// to the end: every image is stored exactly once, every overlay is a whole PNG, no temporary file
// is left behind, and the database opens. KRYPTON_FAULT_RUNS sets how many killed runs (3 in CI;
// 20 for the long mode).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom } from '../../src/zoo/seeded-random';
import { CREATE_CXR, XRAYS, runChild, runCli, startCli, useTempDir } from './helpers.js';

const RUNS = Number(process.env.KRYPTON_FAULT_RUNS ?? 3);
const dir = useTempDir();

async function isWholePng(file: string): Promise<boolean> {
  try {
    const image = sharp(file, { failOn: 'truncated' });
    return (await image.metadata()).format === 'png' && (await image.raw().toBuffer()).length > 0;
  } catch {
    return false;
  }
}

test(`${RUNS} OCCLUDEs killed at random moments, then a rerun: every image once, every overlay whole`, async () => {
  const images = readdirSync(XRAYS).filter((f) => f.endsWith('.png')).sort();
  expect(images.length).toBeGreaterThanOrEqual(40);
  const database = join(dir(), 'faults.duckdb');
  const overlays = join(dir(), 'overlays');
  const occlude = `OCCLUDE '${XRAYS}/*.png' USING MODEL cxr WITH PATCH 112 STRIDE 112 RENDER TO '${overlays}' INTO maps`;
  expect((await runCli(['--db', database, '-c', CREATE_CXR])).code).toBe(0);
  const random = new SeededRandom(20261201);
  const kills: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const child = startCli(['--db', database, '--progress', '-c', occlude]);
    // Wait for a random image to start (or the run to end), then a random few milliseconds more.
    const target = 1 + Math.floor(random.next() * 6);
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      const lines = child.output().stderr.match(/occluding image \d+/g)?.length ?? 0;
      if (lines >= target || child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.floor(random.next() * 150)));
    child.kill('SIGKILL');
    const ended = await child.done;
    kills.push(`${ended.signal ?? `exit ${ended.code}`} after image ${target}`);
  }
  // Its own process, as a user reruns it; pixel loops in jest's realm run many times slower than in Node's.
  const rerun = await runChild(['--db', database, '--json', '-c', occlude]);
  expect({ code: rerun.code, stderr: rerun.stderr, kills }).toMatchObject({ code: 0, stderr: expect.stringMatching(/^occluded \d+ images? into maps/) });

  const counts = await runCli(['--db', database, '--json', '-c', 'SELECT image_path, count(*)::INTEGER AS n FROM maps GROUP BY ALL ORDER BY 1']);
  expect(counts.code).toBe(0);
  const rows = counts.stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(rows).toEqual(images.map((name) => ({ image_path: join(XRAYS, name), n: 1 })));
  const files = readdirSync(overlays).sort();
  expect(files).toEqual(images);
  for (const file of files) expect([file, await isWholePng(join(overlays, file))]).toEqual([file, true]);
});

/** A small tmpfs for the disk-full cases; undefined where this process may not mount one (not root). */
function smallDisk(name: string, size = '1m'): { path: string; release(): void } | undefined {
  const path = join(dir(), name);
  mkdirSync(path);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]).status !== 0) return undefined;
  return { path, release: () => void spawnSync('umount', [path]) };
}

test('a database on a disk that fills up: a one-line error, nothing half-written, a rerun with room finishes', async () => {
  const disk = smallDisk('db-disk', '4m');
  if (!disk) {
    console.warn('disk-full case not run: mounting a tmpfs needs root');
    return;
  }
  try {
    const database = join(disk.path, 'full.duckdb');
    const images = readdirSync(XRAYS).filter((f) => f.endsWith('.png')).sort().slice(0, 5).map((f) => `'${join(XRAYS, f)}'`);
    const occlude = `OCCLUDE (${images.join(', ')}) USING MODEL cxr WITH PATCH 112 STRIDE 56 INTO maps`;
    expect((await runCli(['--db', database, '-c', CREATE_CXR])).code).toBe(0);
    // Fill what is left of the disk.
    spawnSync('dd', ['if=/dev/zero', `of=${join(disk.path, 'filler')}`, 'bs=64k']);
    const full = await runCli(['--db', database, '-c', occlude]);
    expect(full.code).toBe(1);
    expect(full.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^krypton: .*No space left on device/)]);
    spawnSync('rm', [join(disk.path, 'filler')]);
    // Room again: the database opens, holds only whole heatmaps, and the rerun completes the rest.
    const kept = await runCli(['--db', database, '--json', '-c', `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE len(heatmap) <> width * height)::INTEGER AS broken FROM maps`]);
    if (kept.code === 0) expect(JSON.parse(kept.stdout)).toMatchObject({ broken: 0 });
    else expect(kept.stderr).toMatch(/Table with name maps does not exist/);
    const rerun = await runCli(['--db', database, '--json', '-c', `${occlude}; SELECT count(DISTINCT image_path)::INTEGER AS n FROM maps`]);
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout.trim().split('\n').at(-1)!)).toEqual({ n: images.length });
  } finally {
    disk.release();
  }
});

test('RENDER TO a disk that fills up: a loud failure, every overlay there whole, no temporary left, a rerun finishes', async () => {
  const disk = smallDisk('small-disk');
  if (!disk) {
    console.warn('disk-full case not run: mounting a tmpfs needs root');
    return;
  }
  try {
    const database = join(dir(), 'full.duckdb');
    const images = readdirSync(XRAYS).filter((f) => f.endsWith('.png')).sort().slice(0, 30).map((f) => `'${join(XRAYS, f)}'`);
    const occlude = `OCCLUDE (${images.join(', ')}) USING MODEL cxr WITH PATCH 112 STRIDE 112 RENDER TO '${disk.path}' INTO maps`;
    // Own processes, as for the killed runs: each draws up to thirty overlays at the X-rays' size.
    const full = await runChild(['--db', database, '-c', `${CREATE_CXR}; ${occlude}`]);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/images failed: .*heatmap stored, overlay not written: .*(no space|ENOSPC)/i);
    const written = readdirSync(disk.path);
    expect(written.length).toBeLessThan(images.length);
    for (const file of written) expect([file, file.endsWith('.png') && await isWholePng(join(disk.path, file))]).toEqual([file, true]);
    // Every heatmap is stored although its overlay was not; room made, the rerun draws the rest.
    const stored = await runCli(['--db', database, '--json', '-c', 'SELECT count(*)::INTEGER AS n FROM maps']);
    expect(JSON.parse(stored.stdout).n).toBe(images.length);
    // Thirty overlays of 640 px wide X-rays at their own size, about half a megabyte each.
    spawnSync('mount', ['-o', 'remount,size=32m', disk.path]);
    const rerun = await runChild(['--db', database, '--json', '-c', occlude]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(new RegExp(`occluded 0 images into maps .*, ${images.length} already done`));
    expect(readdirSync(disk.path).length).toBe(images.length);
  } finally {
    disk.release();
  }
});
