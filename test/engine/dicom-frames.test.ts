import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { assignImageIds } from '../../src/executor/image-source';
import { ImageFailures, open, type Krypton } from '../../src/krypton';
import { KryptonError } from '../../src/errors';
import { DATA } from '../support/heatmaps';
import { writeMultiFrameXray, type MultiFrameXray } from '../image/dicom/multi-frame-xray';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');
const OPTIONS = `CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`;
const GRID = 'WITH PATCH 32 STRIDE 48';

let dir: string;
let db: Krypton;
let series: MultiFrameXray;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-dicom-frames-'));
  series = await writeMultiFrameXray(dir);
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
  await db.query(`CREATE MODEL cxr FROM '${CXR}' ${OPTIONS}`);
  await db.query(`LOAD DICOM ('${series.path}') INTO scans`);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('OCCLUDE over the frames of a multi-frame file', () => {
  it('LOAD DICOM records the number of frames', async () => {
    expect((await db.query('SELECT NumberOfFrames FROM scans')).rows).toEqual([{ NumberOfFrames: 3 }]);
  });

  it('stores each named frame as its own row, equal to the heatmap of its PNG, joined back by path and frame', async () => {
    const frames = await db.query(`OCCLUDE (SELECT path, unnest(range(1, NumberOfFrames + 1)) AS frame FROM scans WHERE Modality = 'DX')
      USING MODEL cxr ${GRID} RENDER TO '${dir}/overlays' INTO frame_maps`);
    expect(frames.rows.map((r) => [r.image_id, r.frame, r.status])).toEqual([
      ['series#frame=1', 1, 'done'], ['series#frame=2', 2, 'done'], ['series#frame=3', 3, 'done'],
    ]);
    await db.query(`OCCLUDE (${series.pngs.map((p) => `'${p}'`).join(', ')}) USING MODEL cxr ${GRID} INTO png_maps`);
    const sources = series.pngs.map((p, i) => `(${i + 1}, '${p}')`).join(', ');
    const { rows } = await db.query(`
      SELECT f.frame, f.image_id, s.NumberOfFrames, f.heatmap = p.heatmap AND f.base_probability = p.base_probability AS equal
      FROM frame_maps f JOIN scans s ON f.image_path = s.path
      JOIN (VALUES ${sources}) source(frame, png) ON source.frame = f.frame
      JOIN png_maps p ON p.image_path = source.png
      ORDER BY f.frame`);
    expect(rows).toEqual([
      { frame: 1, image_id: 'series#frame=1', NumberOfFrames: 3, equal: true },
      { frame: 2, image_id: 'series#frame=2', NumberOfFrames: 3, equal: true },
      { frame: 3, image_id: 'series#frame=3', NumberOfFrames: 3, equal: true },
    ]);
    // The frames differ, so equal heatmaps say each row holds its own frame.
    const distinct = await db.query('SELECT count(DISTINCT heatmap)::INTEGER AS n FROM frame_maps');
    expect(distinct.rows[0].n).toBe(3);
    for (const frame of [1, 2, 3]) expect(existsSync(join(dir, 'overlays', `series_frame_${frame}.png`))).toBe(true);
  });

  it('a rerun finds every frame done; frame 2 alone keeps its own id and the row already stored', async () => {
    // An overlay removed since is drawn again from the stored heatmap, on its own frame.
    const overlay = join(dir, 'overlays', 'series_frame_3.png');
    const drawn = await sharp(overlay).raw().toBuffer();
    rmSync(overlay);
    const again = await db.query(`OCCLUDE (SELECT path, unnest(range(1, NumberOfFrames + 1)) AS frame FROM scans) USING MODEL cxr ${GRID} RENDER TO '${dir}/overlays' INTO frame_maps`);
    expect(again.rows.map((r) => r.status)).toEqual(['already done', 'already done', 'already done']);
    expect((await sharp(overlay).raw().toBuffer()).equals(drawn)).toBe(true);
    const second = await db.query(`OCCLUDE (SELECT path, 2 AS frame FROM scans) USING MODEL cxr ${GRID} INTO frame_maps`);
    expect(second.rows.map((r) => [r.image_id, r.frame, r.status])).toEqual([['series#frame=2', 2, 'already done']]);
    // A frame not named is the first: the PNG-like single image the path alone stands for.
    const first = await db.query(`OCCLUDE ('${series.path}') USING MODEL cxr ${GRID} INTO frame_maps`);
    expect(first.rows.map((r) => [r.image_id, r.frame, r.status])).toEqual([['series', 1, 'already done']]);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM frame_maps')).rows[0].n).toBe(3);
  });

  it('a frame beyond the file is that image\'s error, naming the file and its count; the others finish', async () => {
    const error = await db.query(`OCCLUDE (SELECT path, frame FROM scans, (VALUES (2), (5)) t(frame)) USING MODEL cxr ${GRID} INTO beyond`)
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFailures);
    const { result } = error as ImageFailures;
    expect(result.rows.map((r) => [r.image_id, r.status])).toEqual([['series#frame=2', 'done'], ['series#frame=5', 'failed']]);
    expect(result.failures?.[0].error).toBe(`DICOM file '${series.path}' has 3 frames: frame 5 does not exist (frames count from 1)`);
  });

  it('a frame that is not a whole number from 1 is refused before anything runs', async () => {
    for (const [value, shown] of [['0', '0'], ['1.5', '1.5'], ["'x'", '"x"']]) {
      const error = await db.query(`OCCLUDE (SELECT path, ${value} AS frame FROM scans) USING MODEL cxr ${GRID} INTO refused`).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(KryptonError);
      expect((error as Error).message).toBe(`line 1, column 9: the image query's 'frame' column gives ${series.path} the frame ${shown}; frames are whole numbers counted from 1`);
    }
  });
});

describe('image ids of frames', () => {
  it('a file named with one frame other than the first, or several frames, gets #frame=N; ids and frames given twice are refused', () => {
    const ids = (named: Parameters<typeof assignImageIds>[0]) => assignImageIds(named).images.map((i) => `${i.imageId}@${i.frame}`);
    expect(ids([{ path: '/a/s.dcm' }, { path: '/b/x.dcm', frame: 3 }])).toEqual(['s@1', 'x#frame=3@3']);
    expect(ids([{ path: '/a/s.dcm', frame: 1 }, { path: '/a/s.dcm', frame: 2 }, { path: '/a/s.dcm', frame: 1 }])).toEqual(['s#frame=1@1', 's#frame=2@2']);
    expect(ids([{ path: '/p1/s.dcm', frame: 2 }, { path: '/p2/s.dcm', frame: 2 }])).toEqual(['p1/s#frame=2@2', 'p2/s#frame=2@2']);
    expect(assignImageIds([{ path: '/a/s.dcm', frame: 2 }, { path: '/a/s.dcm', frame: 2 }]).repeated).toEqual([{ path: '/a/s.dcm', frame: 2, times: 2 }]);
    expect(() => assignImageIds([{ path: '/a/s.dcm', frame: 1, imageId: 'x' }, { path: '/a/s.dcm', frame: 2, imageId: 'x' }]))
      .toThrow("image_id 'x' would name two frames, /a/s.dcm and /a/s.dcm (frame 2); image ids must be unique within a query");
    expect(() => assignImageIds([{ path: '/a/s.dcm', frame: 2, imageId: 'x' }, { path: '/a/s.dcm', frame: 2, imageId: 'y' }]))
      .toThrow("the image query gives /a/s.dcm (frame 2) two image_ids, 'x' and 'y'");
  });
});

describe('LOAD DICOM from a source that names frames', () => {
  it('loads each file once, whatever frames the source names', async () => {
    const loaded = await db.query(`LOAD DICOM (SELECT path, frame FROM scans, range(1, 4) t(frame)) INTO frame_tags`);
    expect(loaded.rows.map((r) => [r.path, r.status])).toEqual([[series.path, 'loaded']]);
    expect((await db.query('SELECT path, NumberOfFrames FROM frame_tags')).rows).toEqual([{ path: series.path, NumberOfFrames: 3 }]);
  });

  it('a tags table from before NumberOfFrames gets the column, NULL in its old rows', async () => {
    await db.query(`LOAD DICOM ('${series.path}') INTO older_tags`);
    await db.query('ALTER TABLE older_tags DROP COLUMN NumberOfFrames');
    const again = await db.query(`LOAD DICOM ('${series.path}') INTO older_tags`);
    expect(again.rows.map((r) => r.status)).toEqual(['already loaded']);
    expect((await db.query('SELECT path, NumberOfFrames FROM older_tags')).rows).toEqual([{ path: series.path, NumberOfFrames: null }]);
  });
});
