import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeDicomImage } from '../../../src/image/dicom/index.js';
import { imagenetInputSpec } from '../../../src/image/input-spec.js';
import { prepareImage } from '../../../src/image/prepare-image.js';
import { IMAGES, XRAY, firstMismatch, temporaryFolder } from '../image-fixtures.js';
import { UIDS, grayImageElements, writeDicom } from './dicom-writer.js';
import { multiFrameElements, writeMultiFrameXray } from './multi-frame-xray.js';
import type { MultiFrameXray } from './multi-frame-xray.js';

const temp = temporaryFolder('dicom-frames');
let series: MultiFrameXray;
beforeAll(async () => {
  series = await writeMultiFrameXray(temp.path);
});
afterAll(() => temp.remove());

const gray = (png: string) => sharp(png).toColourspace('b-w').raw().toBuffer();

describe('a frame of a multi-frame file', () => {
  test('each frame of a native file decodes to exactly the PNG of what it holds, and no frame to another', async () => {
    const bytes = readFileSync(series.path);
    const pngs = await Promise.all(series.pngs.map(gray));
    expect(pngs[0].equals(pngs[1])).toBe(false);
    for (let frame = 1; frame <= 3; frame++) {
      const image = await decodeDicomImage(bytes, series.path, Infinity, '', frame);
      expect([image.width, image.height]).toEqual([640, 524]);
      expect(firstMismatch(image.data, pngs[frame - 1])).toBe(-1);
    }
    // Without a frame named, the first.
    expect(firstMismatch((await decodeDicomImage(bytes, series.path)).data, pngs[0])).toBe(-1);
  });

  test('prepareImage of frame 2 gives the tensor of its PNG', async () => {
    const spec = imagenetInputSpec({ width: 224, height: 224, channels: 'gray', channelCount: 3, scale: 255, mean: [0, 0, 0], std: [1, 1, 1] });
    const fromFrame = await prepareImage(series.path, spec, 2);
    const fromPng = await prepareImage(series.pngs[1], spec);
    expect(firstMismatch(fromFrame.tensor, fromPng.tensor)).toBe(-1);
    expect(firstMismatch(fromFrame.display, fromPng.display)).toBe(-1);
  });

  test('an RLE frame is its own fragment', async () => {
    const one = Buffer.alloc(64);
    one.writeUInt32LE(1, 0);
    one.writeUInt32LE(64, 4);
    const frame = (segment: number[]) => Buffer.concat([one, Buffer.from(segment)]);
    const bytes = writeDicom({
      transferSyntax: UIDS.rle,
      elements: grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8, frames: 3 }),
      pixels: { frames: [frame([254, 7, 0, 9]), frame([3, 1, 2, 3, 4]), frame([253, 5])] },
    });
    const shown = async (n: number) => Array.from((await decodeDicomImage(bytes, 'rle.dcm', Infinity, '', n)).data);
    expect([await shown(1), await shown(2), await shown(3)]).toEqual([[7, 7, 7, 9], [1, 2, 3, 4], [5, 5, 5, 5]]);
  });

  test('a frame out of range is an error naming the file and the count', async () => {
    const bytes = readFileSync(series.path);
    await expect(decodeDicomImage(bytes, series.path, Infinity, '', 4)).rejects.toThrow(`DICOM file '${series.path}' has 3 frames: frame 4 does not exist (frames count from 1)`);
    await expect(decodeDicomImage(bytes, series.path, Infinity, '', 0)).rejects.toThrow('has 3 frames: frame 0 does not exist');
    const single = join(IMAGES, 'chest-xray-hannover-dicom/9a9b2393.dcm');
    await expect(decodeDicomImage(readFileSync(single), single, Infinity, '', 2)).rejects.toThrow(`DICOM file '${single}' has 1 frame: frame 2 does not exist (frames count from 1)`);
    await expect(prepareImage(XRAY, imagenetInputSpec({ width: 32, height: 32 }), 2)).rejects.toThrow(`Image '${XRAY}' has 1 frame: frame 2 does not exist (only DICOM files hold several)`);
  });

  test('a file whose pixel data holds fewer frames than it declares is truncated at the first missing one', async () => {
    const whole = readFileSync(series.path);
    const pixels = whole.length - 2 * 640 * 524 * 3;
    const bytes = writeDicom({ transferSyntax: UIDS.explicit, elements: multiFrameElements(3), pixels: { native: whole.subarray(pixels, pixels + 2 * 640 * 524 * 2) } });
    expect((await decodeDicomImage(bytes, 'short.dcm', Infinity, '', 2)).width).toBe(640);
    await expect(decodeDicomImage(bytes, 'short.dcm', Infinity, '', 3)).rejects.toThrow("DICOM file 'short.dcm' is truncated: its pixel data holds 1341440 bytes, frame 3 ends at byte 2012160 (640×524, 16 bits)");
  });
});
