import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startExplorer, type Explorer } from '../../src/web/server';
import { DATA } from '../support/heatmaps';
import { startFixture, stopFixture, XRAY_IDS, type ExplorerFixture } from './explorer-fixture';

let fixture: ExplorerFixture;
beforeAll(async () => {
  fixture = await startFixture({ bodyLimitBytes: 64 * 1024, uploadLimitBytes: 256 * 1024 });
});
afterAll(() => stopFixture(fixture));

async function call(path: string, init: RequestInit = {}, base = fixture.base): Promise<{ status: number; body: any; type: string }> {
  const response = await fetch(base + path, init);
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
  return { status: response.status, body, type };
}

const post = (path: string, body: unknown) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const imagePath = (path: string) => `/api/image?path=${encodeURIComponent(path)}`;
const storedRows = async () => (await fixture.db.query('SELECT count(*)::INTEGER AS n FROM heatmaps')).rows[0].n;

/** A bad request's answer: its status, and one line naming the problem. */
function expectProblem(answer: { status: number; body: any }, status: number, pattern: RegExp): void {
  expect(answer.status).toBe(status);
  expect(typeof answer.body.error).toBe('string');
  expect(answer.body.error).not.toMatch(/\n|\bat .*\.(js|ts):\d+/);
  expect(answer.body.error).toMatch(pattern);
}

describe('the explorer API reads what the engine stored', () => {
  it('lists results tables and their rows, and serves a heatmap\'s stored values', async () => {
    const tables = await call('/api/tables');
    expect(tables.body.results).toEqual([{ name: 'heatmaps', rows: 2 }]);
    const gallery = await call('/api/gallery?table=heatmaps&limit=many');
    expect(gallery.body.models).toEqual(['cxr']);
    expect(gallery.body.rows).toHaveLength(2);
    // More matches than are shown: the page says how many it left out.
    const first = await call('/api/gallery?table=heatmaps&limit=1');
    expect([first.body.rows.length, first.body.matched]).toEqual([1, 2]);
    const row = gallery.body.rows.find((r: any) => r.image_id === XRAY_IDS[0]);
    expect(row).toMatchObject({ model: 'cxr', patch_w: 56, stride_x: 28, image_path: fixture.xray(XRAY_IDS[0]) });
    expect(['ap', 'pa']).toContain(row.class_label);
    expect(row.max_drop).toBeGreaterThanOrEqual(0);
    const query = new URLSearchParams({ table: 'heatmaps', query_id: row.query_id, image_path: row.image_path });
    const heatmap = await call(`/api/heatmap?${query}`);
    const stored = (await fixture.db.query(`SELECT heatmap FROM heatmaps WHERE image_id = '${XRAY_IDS[0]}'`)).rows[0].heatmap as number[];
    expect(heatmap.body).toMatchObject({ width: 7, height: 7, model_width: 224, model_height: 224 });
    expect(heatmap.body.heatmap).toHaveLength(49);
    heatmap.body.heatmap.forEach((v: number, i: number) => expect(v).toBeCloseTo(stored[i], 6));
  });

  it('filters the gallery by a WHERE over the results joined with another table', async () => {
    await fixture.db.query(`CREATE TABLE metadata AS SELECT * FROM (VALUES ('${XRAY_IDS[0]}', 'F', 64), ('${XRAY_IDS[1]}', 'M', 40)) t(image_id, sex, age)`);
    const query = new URLSearchParams({ table: 'heatmaps', join: 'JOIN metadata m USING (image_id)', where: "m.sex = 'F' AND m.age > 60" });
    const gallery = await call(`/api/gallery?${query}`);
    expect(gallery.body.rows.map((r: any) => r.image_id)).toEqual([XRAY_IDS[0]]);
    // Closes the condition, writes, and reopens one: three statements, of which one writes.
    const sneaky = new URLSearchParams({ table: 'heatmaps', where: '1 = 1) LIMIT 1; DROP TABLE metadata; SELECT * FROM heatmaps h WHERE (1 = 1' });
    expectProblem(await call(`/api/gallery?${sneaky}`), 403, /read-only/);
    expect((await fixture.db.query('SELECT count(*)::INTEGER AS n FROM metadata')).rows[0].n).toBe(2);
  });

  it('lists the catalog\'s models with their labels', async () => {
    expect((await call('/api/models')).body).toEqual([{ name: 'cxr', inputWidth: 224, inputHeight: 224, channels: 'gray', labels: ['ap', 'pa'] }]);
  });
});

describe('only images under --images folders are read', () => {
  it('serves a file under a folder, and refuses files outside, traversals and links that lead out', async () => {
    const inside = await call(imagePath(fixture.xray(XRAY_IDS[2])));
    expect(inside.status).toBe(200);
    expect(inside.type).toBe('image/png');
    symlinkSync(join(DATA, 'models/cxr-appa-labels.txt'), join(fixture.images, 'labels.png'));
    for (const outside of [join(DATA, 'models/cxr-appa-labels.txt'), '/etc/passwd', join(fixture.images, '../explorer.duckdb'), join(fixture.images, 'labels.png'), fixture.images, '/no/such/file.png']) {
      expectProblem(await call(imagePath(outside)), 403, /outside the --images folders/);
    }
    expectProblem(await call(imagePath(join(fixture.images, 'missing.png'))), 404, /does not exist/);
    expectProblem(await post('/api/occlude', { model: 'cxr', images: [join(DATA, 'images/natural-winml/fish.png')], patch: 32 }), 403, /outside the --images folders/);
  });

  it('takes an upload (size-capped, an image) into a folder that then counts as allowed', async () => {
    const upload = (body: Buffer, type = 'image/png') => call('/api/uploads?name=scan.png', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });
    expectProblem(await upload(Buffer.from('not an image at all')), 400, /not an image/);
    expectProblem(await upload(Buffer.alloc(300 * 1024, 1)), 413, /^the upload is too large: at most 256 KB \(krypton serve --upload-limit\)$/);
    const { readFileSync } = await import('node:fs');
    const stored = await upload(readFileSync(join(DATA, 'images/natural-winml/mnist_28.png')));
    expect(stored.status).toBe(200);
    expect(stored.body.path.startsWith(fixture.explorer.uploads)).toBe(true);
    expect((await call(imagePath(stored.body.path))).status).toBe(200);
  });
});

describe('bad requests get one clear line and a 4xx, and change nothing', () => {
  it('refuses malformed JSON, oversized bodies, unknown models, regions outside the image, patches larger than the region and SQL errors', async () => {
    const before = await storedRows();
    const image = fixture.xray(XRAY_IDS[2]);
    expectProblem(await post('/api/plan', '{"model": "cxr",'), 400, /malformed JSON/);
    expectProblem(await post('/api/sql', { sql: `SELECT '${'x'.repeat(70 * 1024)}'` }), 413, /too large/);
    expectProblem(await post('/api/occlude', { model: 'nosuch', images: [image], patch: 16 }), 404, /unknown model 'nosuch' \(models: cxr\)/);
    expectProblem(await post('/api/occlude', { model: 'cxr', images: [image], patch: 16, region: { x: 600, y: 0, width: 100, height: 100 } }), 400, /region \(600, 0, 100, 100\) lies outside the 640x524 image/);
    expectProblem(await post('/api/occlude', { model: 'cxr', images: [image], patch: 64, region: { x: 0, y: 0, width: 100, height: 100 } }), 400, /patch/i);
    expectProblem(await post('/api/occlude', { model: 'cxr', images: [image], patch: 0 }), 400, /'patch' must be a positive integer/);
    expectProblem(await post('/api/occlude', { model: 'cxr', images: [image], patch: 16, targetClass: 'lateral' }), 400, /lateral/);
    expectProblem(await post('/api/sql', { sql: 'SELECT nosuch FROM heatmaps' }), 400, /Binder Error: .*nosuch/);
    expectProblem(await post('/api/sql', { sql: 'SELEC 1' }), 400, /syntax error/);
    // In a script of several, the failing statement's line, as the CLI says it.
    expectProblem(await post('/api/sql', { sql: 'SELECT 1;\n\nSELECT nosuch FROM heatmaps;' }), 400, /^line 3: Binder Error: .*nosuch/);
    expectProblem(await call('/api/nothing'), 404, /no such page or endpoint: GET \/api\/nothing/);
    expectProblem(await post('/api/runs/nope/cancel', {}), 404, /no run nope/);
    expect(await storedRows()).toBe(before);
    expect((await call('/api/tables')).status).toBe(200);
  });

  it('refuses an INTO table that exists but holds no heatmaps when planning, before a run starts', async () => {
    await fixture.db.query("CREATE TABLE remarks AS SELECT 'keep' AS note");
    const ask = { model: 'cxr', images: [fixture.xray(XRAY_IDS[2])], patch: 112, stride: 112, into: 'Remarks' };
    for (const endpoint of ['/api/plan', '/api/occlude']) {
      expectProblem(await post(endpoint, ask), 400, /^table 'Remarks' exists but is not a Krypton results table; choose another table to store into$/);
    }
    expect((await fixture.db.query('SELECT note FROM remarks')).rows).toEqual([{ note: 'keep' }]);
  });

  it('keeps the SQL box read-only: writes, several statements with a write, and EXPLAIN ANALYZE are refused before anything runs', async () => {
    const before = await storedRows();
    for (const sql of ['DROP TABLE heatmaps', 'DELETE FROM heatmaps', "COPY heatmaps TO '/tmp/out.csv'", 'SELECT 1; DROP TABLE heatmaps', "ATTACH '/tmp/other.duckdb'",
      `EXPLAIN ANALYZE OCCLUDE '${fixture.xray(XRAY_IDS[3])}' USING MODEL cxr WITH PATCH 112 STRIDE 112`, 'DROP MODEL cxr']) {
      expectProblem(await post('/api/sql', { sql }), 403, /read-only/);
    }
    expect(await storedRows()).toBe(before);
    expect((await fixture.db.listModels())).toEqual(['cxr']);
    // DuckDB itself reads files only under the image folders.
    expectProblem(await post('/api/sql', { sql: "SELECT * FROM read_csv('/etc/passwd')" }), 403, /^Permission Error: Cannot access file "\/etc\/passwd"/);
    writeFileSync(join(fixture.dir, 'secret.csv'), 'a,b\n1,2\n');
    symlinkSync(join(fixture.dir, 'secret.csv'), join(fixture.images, 'secret-link.csv'));
    for (const path of [`${fixture.images}/../secret.csv`, join(fixture.images, 'secret-link.csv')]) {
      expectProblem(await post('/api/sql', { sql: `SELECT * FROM read_csv('${path}')` }), 403, /^Permission Error: Cannot access file/);
    }
    writeFileSync(join(fixture.images, 'metadata.csv'), 'image_id,sex\na,f\n');
    expect((await post('/api/sql', { sql: `SELECT count(*)::INTEGER AS n FROM read_csv('${join(fixture.images, 'metadata.csv')}')` })).body.rows).toEqual([{ n: 1 }]);
    const read = await post('/api/sql', { sql: "WITH t AS (SELECT image_id FROM heatmaps) SELECT count(*)::INTEGER AS n FROM t" });
    expect(read.body.rows).toEqual([{ n: before }]);
    const explained = await post('/api/sql', { sql: `EXPLAIN OCCLUDE '${fixture.xray(XRAY_IDS[3])}' USING MODEL cxr WITH PATCH 112 STRIDE 112` });
    expect(explained.body.plan).toMatch(/<- chosen/);
  });

  it('with --allow-write runs statements that change the database', async () => {
    const writable: Explorer = await startExplorer({ db: fixture.db, images: [fixture.images], port: 0, allowWrite: true });
    try {
      const answer = await call('/api/sql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'CREATE TABLE notes (t VARCHAR); INSERT INTO notes VALUES (\'x\')' }) }, new URL(writable.url).origin);
      expect(answer.status).toBe(200);
      expect((await fixture.db.query('SELECT count(*)::INTEGER AS n FROM notes')).rows[0].n).toBe(1);
    } finally {
      await writable.close();
    }
  });
});

describe('a run streams its progress and partial heatmaps, and stores its row', () => {
  it('sends started, heatmaps filling in (null where not yet computed), then done with the REGION stored', async () => {
    const response = await fetch(`${fixture.base}/api/occlude`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cxr', images: [fixture.xray(XRAY_IDS[3])], patch: 32, stride: 16, batchSize: 4, region: { x: 320, y: 262, width: 320, height: 262 }, into: 'asked' }),
    });
    expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const events = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: 'started', chosen: expect.stringMatching(/est/), estimate: expect.stringMatching(/s$/) });
    const heatmaps = events.filter((e) => e.type === 'heatmap');
    expect(heatmaps.length).toBeGreaterThan(1);
    expect(heatmaps[0].values).toContain(null);
    expect(heatmaps[heatmaps.length - 1].values).not.toContain(null);
    expect(heatmaps[0]).toMatchObject({ stage: 'all', originX: 112, originY: 112, patchWidth: 32, strideX: 16 });
    expect(events[events.length - 1]).toMatchObject({ type: 'done', rows: [expect.objectContaining({ status: 'done' })] });
    const stored = (await fixture.db.query('SELECT origin_x, origin_y, patch_w, stride_x FROM asked')).rows;
    expect(stored).toEqual([{ origin_x: 112, origin_y: 112, patch_w: 32, stride_x: 16 }]);
  });
});

describe('listening beyond loopback needs the token', () => {
  it('answers 401 without the token, and serves with it in the header or the query', async () => {
    const guarded = await startExplorer({ db: fixture.db, images: [fixture.images], port: 0, requireToken: true });
    try {
      const origin = new URL(guarded.url).origin;
      expect(guarded.url).toMatch(/\?token=[0-9a-f]{48}$/);
      expectProblem(await call('/api/tables', {}, origin), 401, /token/);
      expectProblem(await call('/api/tables', { headers: { 'x-krypton-token': 'wrong' } }, origin), 401, /token/);
      expect((await call('/api/tables', { headers: { 'x-krypton-token': guarded.token! } }, origin)).status).toBe(200);
      expect((await call(`/api/tables?token=${guarded.token}`, {}, origin)).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
