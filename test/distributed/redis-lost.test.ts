// Redis going away in the middle of a distributed OCCLUDE: the coordinator says so in one line and
// keeps what it stored; the worker waits for Redis to come back, and the rerun finishes the rest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/krypton';
import { CREATE_CXR, ROOT, SOME_XRAYS, XRAYS, sqlList, startCli, useTempDir, waitForOutput } from '../cli/helpers';
import { startRedis, type TestRedis } from '../support/redis-server';

const BUILT_CLI = join(ROOT, 'bin/krypton.js');
const IMAGES = [...SOME_XRAYS, ...['09258248', '0957ce54', '0ac7580d'].map((id) => join(XRAYS, `${id}.png`))];
const OCCLUDE = `OCCLUDE ${sqlList(IMAGES)} USING MODEL cxr WITH PATCH 112 STRIDE 56 STRATEGY INCREMENTAL INTO maps`;
const dir = useTempDir();
let redis: TestRedis | undefined;
let worker: ReturnType<typeof startCli> | undefined;

afterAll(async () => {
  worker?.kill('SIGKILL');
  await worker?.done;
  await redis?.stop();
});

test('Redis stopped mid-run: one line from the coordinator, finished images kept; Redis back, the worker carries on and the rerun completes', async () => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('the worker runs the built CLI: run npx tsc -p tsconfig.json first');
  redis = await startRedis();
  const { port, url } = redis;
  worker = startCli(['worker', '--redis', url], {}, BUILT_CLI);
  await waitForOutput(worker, /ready on redis:/, 'stderr');
  const db = await open(join(dir(), 'lost.duckdb'), { workers: url });
  try {
    await db.execute(CREATE_CXR);
    let stopped: Promise<void> | undefined;
    let stoppedAt = 0;
    const failure = await db.query(OCCLUDE, {
      onProgress: (p) => {
        if (p.imagesDone >= 1 && !stopped) {
          stoppedAt = Date.now();
          stopped = redis!.stop();
        }
      },
    }).then(() => undefined, (error: unknown) => error as Error);
    await stopped;
    expect(failure?.message).toMatch(new RegExp(`^lost the connection to Redis at redis://127\\.0\\.0\\.1:${port}; \\d+ images? finished in this run (is|are) kept in maps, run the statement again to do the rest$`));
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    const kept = Number((await db.query('SELECT count(*) AS n FROM maps')).rows[0].n);
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(IMAGES.length);

    redis = await startRedis(port);
    const rerun = await db.query(OCCLUDE);
    expect(rerun.rows.filter((r) => r.status === 'already done')).toHaveLength(kept);
    const { rows } = await db.query('SELECT image_path, count(*)::INTEGER AS n FROM maps GROUP BY ALL ORDER BY 1');
    expect(rows).toEqual([...IMAGES].sort().map((path) => ({ image_path: path, n: 1 })));
    expect(worker.exitCode).toBeNull();
  } finally {
    await db.close();
  }
});
