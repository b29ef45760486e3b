// The CLI's heatmap command on DICOM files, as its own process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CXR_MODEL, data, expectOneLineError, runChild, useTempDir } from './helpers.js';
import sharp from 'sharp';
import { UIDS, grayImageElements, writeDicom } from '../image/dicom/dicom-writer.js';
import { writeMultiFrameXray } from '../image/dicom/multi-frame-xray.js';

const dir = useTempDir();
const CXR_INPUT = ['--channels', 'gray', '--scale', '255', '--normalize', 'none', '--quiet', '--patch', '56', '--stride', '56'];
const heatmap = (image: string, ...extra: string[]) => runChild(['heatmap', '--model', CXR_MODEL, '--image', image, ...CXR_INPUT, ...extra]);

test('heatmap of an RLE Lossless DICOM is the heatmap of its PNG', async () => {
  const [fromDicom, fromPng] = await Promise.all([
    heatmap(data('images/chest-xray-hannover-dicom/bb0e626a.dcm'), '--json', join(dir(), 'dicom.json')),
    heatmap(data('images/chest-xray-hannover/png/bb0e626a.png'), '--json', join(dir(), 'png.json')),
  ]);
  expect(fromDicom).toMatchObject({ code: 0, stderr: '' });
  expect(fromPng).toMatchObject({ code: 0, stderr: '' });
  const a = JSON.parse(readFileSync(join(dir(), 'dicom.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(dir(), 'png.json'), 'utf8'));
  expect(a.values).toHaveLength(16);
  expect(a.values).toEqual(b.values);
  expect(a.baseProbability).toBe(b.baseProbability);
});

test('heatmap of a DICOM file in a transfer syntax it cannot decode is a one-line error', async () => {
  const path = join(dir(), 'jpeg-ls.dcm');
  writeFileSync(path, writeDicom({ transferSyntax: UIDS.jpegLs, elements: grayImageElements({ rows: 4, columns: 4, bitsAllocated: 8 }), pixels: { frames: [new Uint8Array(16)] } }));
  expectOneLineError(await heatmap(path), /jpeg-ls\.dcm' uses the transfer syntax JPEG-LS Lossless \(1\.2\.840\.10008\.1\.2\.4\.80\), which Krypton cannot decode/);
});

test('--frame picks a frame of a multi-frame file: its heatmap and overlay are those of its PNG; a frame past the last is a one-line error', async () => {
  const series = await writeMultiFrameXray(dir());
  const [fromFrame, fromPng] = await Promise.all([
    heatmap(series.path, '--frame', '2', '--json', join(dir(), 'frame.json'), '--png', join(dir(), 'frame.png')),
    heatmap(series.pngs[1], '--json', join(dir(), 'frame-png.json'), '--png', join(dir(), 'frame-png.png')),
  ]);
  expect(fromFrame).toMatchObject({ code: 0, stderr: '' });
  expect(fromPng).toMatchObject({ code: 0, stderr: '' });
  const a = JSON.parse(readFileSync(join(dir(), 'frame.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(dir(), 'frame-png.json'), 'utf8'));
  expect(a.frame).toBe(2);
  expect(a.values).toEqual(b.values);
  const [overlay, pngOverlay] = await Promise.all([join(dir(), 'frame.png'), join(dir(), 'frame-png.png')].map((f) => sharp(f).raw().toBuffer()));
  expect(overlay.equals(pngOverlay)).toBe(true);
  expectOneLineError(await heatmap(series.path, '--frame', '4'), /series\.dcm' has 3 frames: frame 4 does not exist \(frames count from 1\)$/);
  expectOneLineError(await heatmap(series.path, '--frame', '0'), /--frame must be a positive integer, got '0'/);
});
