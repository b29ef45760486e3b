/**
 * Screenshots of the web explorer's main views for the README, taken in Debian's chromium over a
 * fresh database: eight X-rays occluded with the AP/PA classifier and their metadata loaded.
 *
 *   npm run build && npm run screenshots
 *
 * Writes docs/web-gallery.png, docs/web-ask.png and docs/web-sql.png.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { open } from '../src/krypton.js';
import { startExplorer } from '../src/web/server.js';

const ROOT = join(__dirname, '..', '..');
const XRAYS = join(ROOT, 'data', 'images', 'chest-xray-hannover', 'png');
const METADATA = join(ROOT, 'data', 'images', 'chest-xray-hannover', 'metadata.csv');
const MODELS = join(ROOT, 'data', 'models');
const DOCS = join(ROOT, 'docs');

/** A screenshot as a palette PNG: a third of the size, no visible difference for a page of flat colours and X-rays. */
async function shoot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot();
  await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toFile(join(DOCS, name));
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'krypton-screenshots-'));
  const profile = mkdtempSync(join(tmpdir(), 'krypton-chromium-'));
  const db = await open(join(work, 'explorer.duckdb'));
  const images = readdirSync(XRAYS).filter((f) => f.endsWith('.png')).sort().slice(0, 8).map((f) => join(XRAYS, f));
  await db.execute(`
    CREATE MODEL cxr FROM '${join(MODELS, 'cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(MODELS, 'cxr-appa-labels.txt')}';
    OCCLUDE (${images.map((p) => `'${p}'`).join(', ')}) USING MODEL cxr WITH PATCH 32 STRIDE 8 INTO heatmaps;
    CREATE TABLE metadata AS SELECT * FROM read_csv('${METADATA}');`);
  const explorer = await startExplorer({ db, images: [XRAYS], port: 0 });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    mkdirSync(DOCS, { recursive: true });
    const page = await context.newPage();
    await page.goto(explorer.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => document.querySelectorAll('.card canvas').length === 8);
    const canvas = page.locator('.card canvas').nth(1);
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.55);
    await shoot(page, 'web-gallery.png');

    await page.click('#tab-ask');
    await page.selectOption('#ask-images', images[6]);
    await page.fill('#ask-patch', '24');
    await page.fill('#ask-stride', '6');
    const stage = page.locator('#ask-stage canvas');
    await stage.waitFor();
    const area = (await stage.boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.2, area.y + area.height * 0.25);
    await page.mouse.down();
    await page.mouse.move(area.x + area.width * 0.7, area.y + area.height * 0.8, { steps: 8 });
    await page.mouse.up();
    await page.click('#ask-run');
    await page.waitForSelector('#ask-progress[data-state="done"]', { timeout: 120_000 });
    await shoot(page, 'web-ask.png');

    await page.click('#tab-sql');
    await page.fill('#sql-text', `SELECT m.projection, m.sex, count(*) AS images, round(avg(h.max_drop), 3) AS mean_max_drop
FROM heatmaps h JOIN metadata m USING (image_id) GROUP BY ALL ORDER BY 1, 2`);
    await page.click('#sql-run');
    await page.locator('#sql-result table').waitFor();
    await shoot(page, 'web-sql.png');
    console.log(`wrote ${['web-gallery.png', 'web-ask.png', 'web-sql.png'].map((f) => join('docs', f)).join(', ')}`);
  } finally {
    await context.close();
    await explorer.close();
    await db.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
