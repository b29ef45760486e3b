import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeDicomImage } from '../../src/image/dicom';
import { DATA } from '../support/heatmaps';
import { writeMultiFrameXray } from '../image/dicom/multi-frame-xray';
import { startFixture, stopFixture, type ExplorerFixture } from './explorer-fixture';

const DICOM_ID = '7afaaccc';
let fixture: ExplorerFixture;
let dicom: string;

beforeAll(async () => {
  fixture = await startFixture();
  mkdirSync(join(fixture.images, 'dicom'));
  dicom = join(fixture.images, 'dicom', `${DICOM_ID}.dcm`);
  copyFileSync(join(DATA, `images/chest-xray-hannover-dicom/${DICOM_ID}.dcm`), dicom);
});
afterAll(() => stopFixture(fixture));

describe('DICOM files under an --images folder', () => {
  it('are listed with the other images', async () => {
    const images = (await (await fetch(`${fixture.base}/api/images`)).json()) as { path: string; name: string }[];
    expect(images).toContainEqual({ path: dicom, name: join('dicom', `${DICOM_ID}.dcm`) });
  });

  it('are served as the PNG of their displayed (windowed) image, which a browser can draw', async () => {
    const response = await fetch(`${fixture.base}/api/image?path=${encodeURIComponent(dicom)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await response.arrayBuffer());
    const served = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    const displayed = await decodeDicomImage(readFileSync(dicom), dicom);
    expect([served.info.width, served.info.height, (await sharp(png).metadata()).channels]).toEqual([displayed.width, displayed.height, 1]);
    expect(served.data.equals(displayed.data)).toBe(true);
  });

  it('are refused past the image pixel limit before their pixels are expanded, as the engine refuses them', async () => {
    process.env.KRYPTON_MAX_IMAGE_PIXELS = '1000';
    try {
      const response = await fetch(`${fixture.base}/api/image?path=${encodeURIComponent(dicom)}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/over the limit of 1,000 pixels \(set KRYPTON_MAX_IMAGE_PIXELS to allow more\)$/);
    } finally {
      delete process.env.KRYPTON_MAX_IMAGE_PIXELS;
    }
  });

  it('are occluded over a REGION in their own pixels, and the row is stored', async () => {
    const { width, height } = await decodeDicomImage(readFileSync(dicom), dicom);
    const region = { x: 0, y: 0, width: Math.floor(width / 2), height: Math.floor(height / 2) };
    const response = await fetch(`${fixture.base}/api/occlude`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cxr', images: [dicom], patch: 56, stride: 56, region, into: 'dicom_asked' }),
    });
    const events = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(events[events.length - 1]).toMatchObject({ type: 'done', rows: [expect.objectContaining({ status: 'done' })] });
    const stored = (await fixture.db.query('SELECT image_path, origin_x, origin_y FROM dicom_asked')).rows;
    expect(stored).toEqual([{ image_path: dicom, origin_x: 0, origin_y: 0 }]);
  });

  it('refuses a REGION outside the DICOM image with its size', async () => {
    const response = await fetch(`${fixture.base}/api/plan`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cxr', images: [dicom], patch: 16, region: { x: 0, y: 0, width: 5000, height: 10 } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^region \(0, 0, 5000, 10\) lies outside the \d+x\d+ image/);
  });
});

describe('a DICOM upload', () => {
  it('is kept as a .dcm (application/dicom or octet-stream) and shown like one under a folder', async () => {
    const bytes = readFileSync(join(DATA, `images/chest-xray-hannover-dicom/${DICOM_ID}.dcm`));
    const { width, height } = await decodeDicomImage(bytes, DICOM_ID);
    for (const type of ['application/dicom', 'application/octet-stream']) {
      const response = await fetch(`${fixture.base}/api/uploads?name=${DICOM_ID}.dcm`, { method: 'POST', headers: { 'content-type': type }, body: bytes });
      const uploaded = (await response.json()) as { path: string; width: number; height: number };
      expect(response.status).toBe(200);
      expect(uploaded).toMatchObject({ path: expect.stringMatching(new RegExp(`${DICOM_ID}-[0-9a-f]+\\.dcm$`)), width, height });
      const image = await fetch(`${fixture.base}/api/image?path=${encodeURIComponent(uploaded.path)}`);
      expect(image.headers.get('content-type')).toBe('image/png');
    }
  });
});

describe('a multi-frame DICOM file stored frame by frame', () => {
  it("gives each frame's row its own heatmap and its own image", async () => {
    const folder = join(fixture.images, 'frames');
    mkdirSync(folder);
    const { path } = await writeMultiFrameXray(folder);
    await fixture.db.query(`OCCLUDE (SELECT '${path}' AS path, unnest([1, 2, 3]) AS frame) USING MODEL cxr WITH PATCH 112 STRIDE 56 INTO framed`);
    const rows = (await (await fetch(`${fixture.base}/api/gallery?table=framed`)).json()) as { rows: { query_id: string; image_path: string; frame: number }[] };
    expect(rows.rows.map((r) => r.frame).sort()).toEqual([1, 2, 3]);
    const bytes = readFileSync(path);
    for (const row of rows.rows) {
      const stored = (await fixture.db.query(`SELECT heatmap FROM framed WHERE frame = ${row.frame}`)).rows[0].heatmap as number[];
      const params = new URLSearchParams({ table: 'framed', query_id: row.query_id, image_path: row.image_path, frame: String(row.frame) });
      const served = (await (await fetch(`${fixture.base}/api/heatmap?${params}`)).json()) as { frame: number; heatmap: number[] };
      expect([served.frame, served.heatmap]).toEqual([row.frame, stored]);
      const image = await fetch(`${fixture.base}/api/image?${new URLSearchParams({ path, frame: String(row.frame) })}`);
      const shown = await sharp(Buffer.from(await image.arrayBuffer())).toColourspace('b-w').raw().toBuffer();
      expect(shown.equals((await decodeDicomImage(bytes, path, Infinity, '', row.frame)).data)).toBe(true);
    }
    const outOfRange = await fetch(`${fixture.base}/api/image?${new URLSearchParams({ path, frame: '4' })}`);
    expect([outOfRange.status, ((await outOfRange.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(/has 3 frames: frame 4 does not exist/)]);
    const badFrame = await fetch(`${fixture.base}/api/image?${new URLSearchParams({ path, frame: 'x' })}`);
    expect(badFrame.status).toBe(400);
  });

  it('are asked frame by frame: the Ask request names a frame, and its row holds that frame\'s heatmap', async () => {
    const folder = join(fixture.images, 'asked-frames');
    mkdirSync(folder);
    const { path } = await writeMultiFrameXray(folder);
    const response = await fetch(`${fixture.base}/api/occlude`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cxr', images: [path], frame: 2, patch: 112, stride: 56, into: 'asked_frame' }),
    });
    const events = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(events[events.length - 1]).toMatchObject({ type: 'done', rows: [expect.objectContaining({ status: 'done' })] });
    await fixture.db.query(`OCCLUDE (SELECT '${path}' AS path, 2 AS frame) USING MODEL cxr WITH PATCH 112 STRIDE 56 INTO direct_frame`);
    const asked = (await fixture.db.query('SELECT frame, heatmap FROM asked_frame')).rows;
    const direct = (await fixture.db.query('SELECT frame, heatmap FROM direct_frame')).rows;
    expect(asked).toEqual(direct);
    expect(asked[0].frame).toBe(2);
    for (const frame of [0, 1.5, 'two']) {
      const refused = await fetch(`${fixture.base}/api/plan`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cxr', images: [path], frame, patch: 112 }),
      });
      expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(/^'frame' must be a positive integer/)]);
    }
  });
});
