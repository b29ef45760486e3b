import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { DATA } from '../support/heatmaps';
import { writeMultiFrameXray } from '../image/dicom/multi-frame-xray';
import { buildClient, launchChromium } from './browser';
import { startFixture, stopFixture, XRAY_IDS, type ExplorerFixture } from './explorer-fixture';

let fixture: ExplorerFixture;
let browser: { context: BrowserContext; close: () => Promise<void> };
let page: Page;
/** Errors in the browser's console (a failed request among them) while the page loads its first view. */
const failedAtLoad: string[] = [];

beforeAll(async () => {
  buildClient();
  [fixture, browser] = await Promise.all([startFixture(), launchChromium()]);
  page = await browser.context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') failedAtLoad.push(`${message.text()} ${message.location().url}`);
  });
  await page.goto(fixture.explorer.url);
  await page.waitForSelector('body[data-ready="true"]');
});
afterAll(async () => {
  await browser?.close();
  await stopFixture(fixture);
});

const count = async (sql: string) => (await fixture.db.query(sql)).rows[0].n as number;

describe('the gallery', () => {
  it('draws the stored heatmaps over their images at the images\' own resolution, with class, probability, patch, stride and scale', async () => {
    await page.waitForSelector('.card canvas');
    await page.waitForFunction(() => document.querySelectorAll('.card canvas').length === 2);
    // Not even the icon the browser asks for on its own.
    expect(failedAtLoad).toEqual([]);
    const cards = await page.$$eval('.card', (elements) => elements.map((card) => ({
      id: (card as HTMLElement).dataset.imageId,
      width: card.querySelector('canvas')!.width,
      height: card.querySelector('canvas')!.height,
      caption: card.querySelector('.caption')!.textContent,
    })));
    expect(cards.map((c) => c.id).sort()).toEqual([XRAY_IDS[0], XRAY_IDS[1]].sort());
    for (const card of cards) {
      expect([card.width, card.height]).toEqual([640, 524]);
      expect(card.caption).toMatch(/: (ap|pa) p=0\.\d{3}, largest drop 0\.\d{3} \(cxr\)/);
      expect(card.caption).toContain('patch 56×56, stride 28×28');
      expect(card.caption).toContain('fixed scale: drop 0–1');
    }
    await page.selectOption('#gallery-scale', 'image');
    expect(await page.textContent('.card .caption')).toMatch(/per-image scale: drop 0–0\.\d{3}/);
    await page.selectOption('#gallery-scale', 'shared');
    const largest = (await fixture.db.query('SELECT max(max_drop) AS top FROM heatmaps')).rows[0].top as number;
    expect(await page.$$eval('.card .caption', (captions) => captions.map((c) => /shared scale: drop 0–([\d.]+)/.exec(c.textContent ?? '')?.[1]))).toEqual([largest.toFixed(3), largest.toFixed(3)]);
    await page.selectOption('#gallery-scale', 'fixed');
  });

  it('shows a cell\'s probability and patch position under the mouse', async () => {
    const canvas = page.locator('.card canvas').first();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tooltip = page.locator('.card .tooltip:visible');
    await tooltip.waitFor();
    // The centre of a 640-pixel-wide image is model pixel 112: the patch at 84 (cell 3) covers it.
    expect(await tooltip.textContent()).toMatch(/^p = 0\.\d{4} \(drop -?\d\.\d{4}\) · cell \(3, 3\) · patch at \(84, 84\)$/);
  });

  it('refuses to show an image whose stored path lies outside the --images folders', async () => {
    await fixture.db.query(`OCCLUDE '${join(DATA, 'images/natural-winml/fish.png')}' USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO outside_maps`);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#gallery-table', 'outside_maps');
    const problem = page.locator('.card .error');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/fish\.png' is outside the --images folders; only files under them can be read$/);
    const direct = await page.evaluate(async () => {
      const response = await fetch(`/api/image?path=${encodeURIComponent('/etc/passwd')}`);
      return { status: response.status, body: await response.json() };
    });
    expect(direct).toEqual({ status: 403, body: { error: "'/etc/passwd' is outside the --images folders; only files under them can be read" } });
  });
});

describe('a gallery filter in error', () => {
  it('shows the one-line error and no longer the heatmaps of the filter before', async () => {
    await page.selectOption('#gallery-table', 'heatmaps');
    await page.waitForFunction(() => document.querySelectorAll('.card canvas').length > 0);
    await page.fill('#gallery-where', 'h.nosuch = 1');
    await page.click('#gallery-apply');
    await page.waitForFunction(() => (document.querySelector('#gallery-error')!.textContent ?? '') !== '');
    expect(await page.textContent('#gallery-error')).toMatch(/^Binder Error: .*nosuch/);
    expect(await page.locator('.card').count()).toBe(0);
    expect(await page.textContent('#gallery-count')).toBe('');
    await page.fill('#gallery-where', '');
    await page.click('#gallery-apply');
    await page.waitForFunction(() => document.querySelectorAll('.card canvas').length > 0);
  });
});

describe('asking a new question', () => {
  it('plans, then runs over a dragged REGION, fills the heatmap in, and stores a row with that REGION', async () => {
    await page.click('#tab-ask');
    await page.selectOption('#ask-images', fixture.xray(XRAY_IDS[2]));
    await page.fill('#ask-patch', '32');
    await page.fill('#ask-stride', '16');
    const canvas = page.locator('#ask-stage canvas');
    await canvas.waitFor();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.75, { steps: 5 });
    await page.mouse.up();
    const regionText = (await page.textContent('#ask-region'))!;
    const [x, y, width, height] = /REGION \((\d+), (\d+), (\d+), (\d+)\) in image pixels/.exec(regionText)!.slice(1).map(Number);
    expect(Math.abs(x - 160)).toBeLessThanOrEqual(2);
    expect(Math.abs(width - 320)).toBeLessThanOrEqual(3);
    await page.click('#ask-plan');
    await page.locator('#ask-estimate').waitFor();
    expect(await page.textContent('#ask-estimate')).toMatch(/^Planner's choice: (incremental|naive) est [\d.]+ m?s\/image — estimated [\d.]+ m?s in all$/);
    await page.click('#ask-run');
    await page.waitForSelector('#ask-progress[data-state="done"]', { timeout: 30000 });
    expect(await page.textContent('#ask-progress')).toMatch(/^occluded 1 image into heatmaps/);
    const caption = await page.textContent('#ask-stage .caption');
    expect(caption).toMatch(new RegExp(`^${XRAY_IDS[2]}: (ap|pa) p=0\\.\\d{3}, largest drop -?0\\.\\d{3} \\(cxr\\)`));
    expect(caption).toContain('patch 32×32, stride 16×16');
    const stored = (await fixture.db.query(`SELECT origin_x, origin_y, width, height, patch_w, stride_x FROM heatmaps WHERE image_id = '${XRAY_IDS[2]}'`)).rows;
    // REGION in image pixels becomes model pixels: the 640x524 X-ray is stretched to 224x224.
    const left = Math.round((x * 224) / 640);
    const top = Math.round((y * 224) / 524);
    const columns = Math.floor((Math.round(((x + width) * 224) / 640) - left - 32) / 16) + 1;
    const rows = Math.floor((Math.round(((y + height) * 224) / 524) - top - 32) / 16) + 1;
    expect(stored).toEqual([{ origin_x: left, origin_y: top, width: columns, height: rows, patch_w: 32, stride_x: 16 }]);
    // The gallery knows the new row at once.
    await page.click('#tab-gallery');
    await page.waitForFunction((id) => document.querySelector(`.card[data-image-id="${id}"] canvas`) !== null, XRAY_IDS[2]);
  });

  it('cancels between batches and keeps the images finished before', async () => {
    await page.click('#tab-ask');
    await page.click('#ask-clear-region');
    await page.selectOption('#ask-images', XRAY_IDS.map((id) => fixture.xray(id)));
    await page.fill('#ask-patch', '16');
    await page.fill('#ask-stride', '8');
    await page.fill('#ask-batch', '8');
    await page.fill('#ask-into', 'cancelled_maps');
    await page.click('#ask-run');
    await page.waitForFunction(() => /\(1 done\)/.test(document.querySelector('#ask-progress')!.textContent ?? ''), undefined, { timeout: 30000 });
    await page.click('#ask-cancel');
    await page.waitForSelector('#ask-progress[data-state="cancelled"]', { timeout: 30000 });
    expect(await page.textContent('#ask-progress')).toMatch(/^interrupted: \d images? finished in this run (is|are) kept in cancelled_maps/);
    const kept = await count('SELECT count(*)::INTEGER AS n FROM cancelled_maps');
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(4);
  });
});

describe('the SQL box', () => {
  it('is read-only by default: a write gets the one-line refusal and changes nothing; a query shows its table', async () => {
    const before = await count('SELECT count(*)::INTEGER AS n FROM heatmaps');
    await page.click('#tab-sql');
    await page.fill('#sql-text', 'DROP TABLE heatmaps');
    await page.click('#sql-run');
    await page.waitForFunction(() => (document.querySelector('#sql-error')!.textContent ?? '') !== '');
    expect(await page.textContent('#sql-error')).toBe('the database is read-only here (start krypton serve with --allow-write to change it): DROP TABLE heatmaps');
    expect(await count('SELECT count(*)::INTEGER AS n FROM heatmaps')).toBe(before);
    await page.fill('#sql-text', 'SELECT count(*)::INTEGER AS n FROM heatmaps');
    await page.click('#sql-run');
    await page.locator('#sql-result table').waitFor();
    expect(await page.textContent('#sql-result td')).toBe(String(before));
    expect(await page.textContent('#sql-error')).toBe('');
    await page.fill('#sql-text', 'SELECT nosuch FROM heatmaps');
    await page.click('#sql-run');
    await page.waitForFunction(() => /Binder Error/.test(document.querySelector('#sql-error')!.textContent ?? ''));
  });
});

describe('bad input on the page', () => {
  it('shows the one-line refusal of a patch larger than the REGION, and stores nothing', async () => {
    const before = await count('SELECT count(*)::INTEGER AS n FROM heatmaps');
    await page.click('#tab-ask');
    await page.selectOption('#ask-images', fixture.xray(XRAY_IDS[3]));
    await page.fill('#ask-batch', '');
    await page.fill('#ask-into', 'heatmaps');
    await page.fill('#ask-patch', '200');
    const canvas = page.locator('#ask-stage canvas');
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 4 });
    await page.mouse.up();
    await page.click('#ask-run');
    await page.waitForFunction(() => (document.querySelector('#ask-error')!.textContent ?? '') !== '');
    const problem = (await page.textContent('#ask-error'))!;
    expect(problem).toMatch(/patch/i);
    expect(problem).not.toContain('\n');
    expect(await count('SELECT count(*)::INTEGER AS n FROM heatmaps')).toBe(before);
  });
});

describe('a narrow window', () => {
  it('stacks the Ask form over the image, and no view is wider than the window, even with long class labels', async () => {
    await fixture.db.query(`CREATE MODEL long_labels FROM '${join(DATA, 'models/squeezenet1.1-imagenet-fp16.onnx')}' CHANNELS BGR SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/imagenet-labels.txt')}' OUTPUT PROBABILITIES`);
    await page.setViewportSize({ width: 400, height: 800 });
    try {
      const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      await page.click('#tab-ask');
      await page.selectOption('#ask-model', 'long_labels');
      expect(await fits()).toBe(true);
      const box = (await page.locator('#ask-stage canvas').boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(400);
      expect(box.width).toBeGreaterThan(300);
      expect(await fits()).toBe(true);
      await page.click('#tab-gallery');
      expect(await fits()).toBe(true);
      // A value shown under the mouse near the right edge stays inside the window.
      const card = (await page.locator('.card canvas').first().boundingBox())!;
      await page.mouse.move(card.x + card.width * 0.85, card.y + card.height / 2);
      const tooltip = page.locator('.card .tooltip:visible');
      await tooltip.waitFor();
      const tip = (await tooltip.boundingBox())!;
      expect(tip.x).toBeGreaterThanOrEqual(0);
      expect(tip.x + tip.width).toBeLessThanOrEqual(400);
      expect(await fits()).toBe(true);
      await page.mouse.move(0, 0);
      await page.click('#tab-sql');
      await page.fill('#sql-text', 'SELECT * FROM heatmaps');
      await page.click('#sql-run');
      await page.locator('#sql-result table').waitFor();
      expect(await fits()).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});

// Last: it reloads the page and leaves the form on another table and frame.
describe('a multi-frame DICOM file', () => {
  it('shows and occludes the frame the form names, of a multi-frame DICOM file', async () => {
    const { path } = await writeMultiFrameXray(fixture.images, 'series.dcm');
    await page.reload();
    await page.click('#tab-ask');
    await page.locator(`#ask-images option[value="${path}"]`).waitFor({ state: 'attached' });
    await page.selectOption('#ask-images', path);
    await page.locator('#ask-stage canvas').waitFor();
    const shown = page.waitForResponse((response) => response.url().includes('/api/image?') && response.url().includes('frame=2'));
    await page.fill('#ask-frame', '2');
    await page.dispatchEvent('#ask-frame', 'change');
    expect((await shown).status()).toBe(200);
    await page.fill('#ask-patch', '112');
    await page.fill('#ask-stride', '112');
    await page.fill('#ask-into', 'framed_ask');
    await page.click('#ask-run');
    await page.waitForSelector('#ask-progress[data-state="done"]', { timeout: 30000 });
    expect((await fixture.db.query('SELECT frame FROM framed_ask')).rows).toEqual([{ frame: 2 }]);
  });
});
