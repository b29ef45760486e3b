import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Krypton } from '../../src/krypton';
import { startExplorer, type Explorer, type ExplorerOptions } from '../../src/web/server';
import { DATA } from '../support/heatmaps';

/** Fixed machine rates, so plans do not wait for a calibration. */
export const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
export const XRAY_IDS = ['00870a9c', '0578e08b', '073a8f93', '09258248'];
export const CREATE_CXR = `CREATE MODEL cxr FROM '${join(DATA, 'models/cxr-appa-squeezenet1.1.onnx')}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`;

export interface ExplorerFixture {
  readonly dir: string;
  /** The --images folder: copies of four X-rays. */
  readonly images: string;
  readonly xray: (id: string) => string;
  readonly db: Krypton;
  readonly explorer: Explorer;
  /** The server's root, without the token. */
  readonly base: string;
}

/**
 * A database with the X-ray model, two of the X-rays occluded into `heatmaps`, and the explorer
 * serving it on a free loopback port.
 */
export async function startFixture(options: Partial<ExplorerOptions> = {}): Promise<ExplorerFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'krypton-web-'));
  const images = join(dir, 'images');
  mkdirSync(images);
  for (const id of XRAY_IDS) copyFileSync(join(DATA, `images/chest-xray-hannover/png/${id}.png`), join(images, `${id}.png`));
  const xray = (id: string) => join(images, `${id}.png`);
  const db = await open(join(dir, 'explorer.duckdb'), { throughput: RATES });
  await db.query(CREATE_CXR);
  await db.query(`OCCLUDE ('${xray(XRAY_IDS[0])}', '${xray(XRAY_IDS[1])}') USING MODEL cxr WITH PATCH 56 STRIDE 28 INTO heatmaps`);
  const explorer = await startExplorer({ db, images: [images], port: 0, ...options });
  return { dir, images, xray, db, explorer, base: new URL(explorer.url).origin };
}

export async function stopFixture(fixture: ExplorerFixture | undefined): Promise<void> {
  if (!fixture) return;
  await fixture.explorer.close();
  await fixture.db.close();
  rmSync(fixture.dir, { recursive: true, force: true });
}
