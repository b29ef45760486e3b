import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ImageFailures, open, type Krypton } from '../../src/krypton';
import { DATA } from '../support/heatmaps';
import { UIDS, grayImageElements, writeDicom } from '../image/dicom/dicom-writer';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const DICOM_DIR = join(DATA, 'images/chest-xray-hannover-dicom');
const PNG_DIR = join(DATA, 'images/chest-xray-hannover/png');
const JPEG_FILES = ['ac4f6e4e.dcm', 'fd389adb.dcm'];
const LOSSLESS = readdirSync(DICOM_DIR).filter((f) => f.endsWith('.dcm') && !JPEG_FILES.includes(f)).sort();
const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');
const OPTIONS = `CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`;
const GRID = 'WITH PATCH 32 STRIDE 48';

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-dicom-'));
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${CXR}' ${OPTIONS}`);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const list = (folder: string, names: readonly string[]) => `(${names.map((n) => `'${join(folder, n)}'`).join(', ')})`;

describe('OCCLUDE over DICOM files', () => {
  it('gives the lossless DICOM files exactly the heatmaps of their PNGs, and draws their overlays on the windowed image', async () => {
    const pngs = LOSSLESS.map((n) => n.replace('.dcm', '.png'));
    await db.query(`OCCLUDE ${list(DICOM_DIR, LOSSLESS)} USING MODEL cxr ${GRID} RENDER TO '${dir}/dicom-overlays' INTO dicom_maps`);
    await db.query(`OCCLUDE ${list(PNG_DIR, pngs)} USING MODEL cxr ${GRID} RENDER TO '${dir}/png-overlays' INTO png_maps`);
    const compared = await db.query(`
      SELECT count(*)::INTEGER AS images,
             count(*) FILTER (WHERE d.heatmap = p.heatmap AND d.base_probability = p.base_probability AND d.class_index = p.class_index)::INTEGER AS equal,
             min(len(d.heatmap))::INTEGER AS cells
      FROM dicom_maps d JOIN png_maps p USING (image_id)`);
    expect(compared.rows[0]).toEqual({ images: LOSSLESS.length, equal: LOSSLESS.length, cells: 25 });
    // The overlay shows the displayed image: windowed, MONOCHROME1 inverted (a2eba651, f64132c8).
    for (const name of ['a2eba651.png', 'bb0e626a.png', '9a9b2393.png']) {
      const fromDicom = await sharp(join(dir, 'dicom-overlays', name)).raw().toBuffer();
      const fromPng = await sharp(join(dir, 'png-overlays', name)).raw().toBuffer();
      expect(fromDicom.equals(fromPng)).toBe(true);
    }
  });

  it('reports each DICOM file it cannot show and finishes the others', async () => {
    const good = join(DICOM_DIR, LOSSLESS[0]);
    const whole = readFileSync(good);
    const truncated = join(dir, 'truncated.dcm');
    writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
    const preamble = join(dir, 'wrong-preamble.dcm');
    const wrong = Buffer.from(whole);
    wrong.write('XXXX', 128, 'latin1');
    writeFileSync(preamble, wrong);
    const jpeg2000 = join(dir, 'jpeg2000.dcm');
    writeFileSync(jpeg2000, writeDicom({ transferSyntax: UIDS.jpeg2000, elements: grayImageElements({ rows: 4, columns: 4, bitsAllocated: 8 }), pixels: { frames: [new Uint8Array(16)] } }));
    const empty = join(dir, 'no-rows.dcm');
    writeFileSync(empty, writeDicom({ transferSyntax: UIDS.explicit, elements: grayImageElements({ rows: 0, columns: 4, bitsAllocated: 8 }), pixels: { native: new Uint8Array(0) } }));
    const other = join(dir, 'other.dcm');
    copyFileSync(join(DICOM_DIR, LOSSLESS[1]), other);

    const statement = `OCCLUDE ('${good}', '${truncated}', '${preamble}', '${jpeg2000}', '${empty}', '${other}') USING MODEL cxr ${GRID} INTO hostile`;
    const error = await db.query(statement).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFailures);
    const { result } = error as ImageFailures;
    expect((error as Error).message).toMatch(/^4 of 6 images failed: truncated: DICOM file '.*truncated\.dcm' is truncated/);
    expect(result.rows.map((r) => [r.image_id, r.status])).toEqual([
      [LOSSLESS[0].replace('.dcm', ''), 'done'], ['truncated', 'failed'], ['wrong-preamble', 'failed'], ['jpeg2000', 'failed'], ['no-rows', 'failed'], ['other', 'done'],
    ]);
    const errors = Object.fromEntries((result.failures ?? []).map((f) => [f.imageId, f.error]));
    expect(errors['wrong-preamble']).toMatch(/has no DICM marker after its 128-byte preamble/);
    expect(errors.jpeg2000).toMatch(/uses the transfer syntax JPEG 2000 Image Compression \(1\.2\.840\.10008\.1\.2\.4\.91\), which Krypton cannot decode/);
    expect(errors['no-rows']).toMatch(/has no pixels \(Rows 0, Columns 4\)/);
    for (const message of Object.values(errors)) expect(message).not.toMatch(/\n/);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM hostile')).rows[0].n).toBe(2);
  });
});

describe('REGION IN IMAGE PIXELS over DICOM files', () => {
  it('reads the size from the DICOM header, as from a PNG, for a file named .dcm and one recognised by its marker', async () => {
    const name = LOSSLESS[0];
    const unnamed = join(dir, 'scan-without-extension');
    copyFileSync(join(DICOM_DIR, name), unnamed);
    const region = 'REGION (64, 64, 320, 320) IN IMAGE PIXELS';
    await db.query(`OCCLUDE ('${join(DICOM_DIR, name)}', '${unnamed}') USING MODEL cxr WITH PATCH 32 STRIDE 32 ${region} INTO dicom_region`);
    await db.query(`OCCLUDE ('${join(PNG_DIR, name.replace('.dcm', '.png'))}') USING MODEL cxr WITH PATCH 32 STRIDE 32 ${region} INTO png_region`);
    const { rows } = await db.query(`SELECT d.image_path, d.heatmap = p.heatmap AS equal, d.origin_x = p.origin_x AND d.width = p.width AS same_grid FROM dicom_region d, png_region p ORDER BY d.image_path`);
    expect(rows.map((r) => [r.equal, r.same_grid])).toEqual([[true, true], [true, true]]);
  });
});
