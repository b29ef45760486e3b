import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeDicomImage } from '../../../src/image/dicom/index.js';
import { decodeRleFrame } from '../../../src/image/dicom/rle-lossless.js';
import { imagenetInputSpec } from '../../../src/image/input-spec.js';
import { prepareImage } from '../../../src/image/prepare-image.js';
import { IMAGES, firstMismatch, temporaryFolder } from '../image-fixtures.js';
import { UIDS, grayImageElements, rleFrame, samples16, writeDicom } from './dicom-writer.js';
import type { DicomElement } from './dicom-writer.js';

const DICOM_DIR = join(IMAGES, 'chest-xray-hannover-dicom');
const PNG_DIR = join(IMAGES, 'chest-xray-hannover/png');
const JPEG_FILES = ['ac4f6e4e.dcm', 'fd389adb.dcm'];
const LOSSLESS_FILES = readdirSync(DICOM_DIR).filter((f) => f.endsWith('.dcm') && !JPEG_FILES.includes(f)).sort();

const temp = temporaryFolder('dicom');
afterAll(() => temp.remove());

async function pngGray(name: string): Promise<Buffer> {
  return sharp(join(PNG_DIR, name.replace(/\.dcm$/, '.png'))).toColourspace('b-w').raw().toBuffer();
}

function decodeBytes(bytes: Buffer, label = 'test.dcm') {
  return decodeDicomImage(bytes, label);
}

function window(center: number, width: number): DicomElement[] {
  return [
    { tag: [0x0028, 0x1050], vr: 'DS', value: String(center) },
    { tag: [0x0028, 0x1051], vr: 'DS', value: String(width) },
  ];
}

describe('the Hannover X-rays as DICOM', () => {
  test('the folder holds every encoding its README lists', () => {
    const syntaxes = new Set(readdirSync(DICOM_DIR).filter((f) => f.endsWith('.dcm')).map((f) => readFileSync(join(DICOM_DIR, f)).toString('latin1', 0, 400).match(/1\.2\.840\.10008\.1\.2[.\d]*/)?.[0]));
    expect([...syntaxes].sort()).toEqual([UIDS.implicit, UIDS.explicit, UIDS.jpegBaseline, UIDS.rle].sort());
    expect(LOSSLESS_FILES).toHaveLength(10);
  });

  test.each(LOSSLESS_FILES)('%s decodes to exactly the PNG of the same name', async (name) => {
    const image = await decodeDicomImage(readFileSync(join(DICOM_DIR, name)), name);
    const png = await pngGray(name);
    expect(image.data.length).toBe(png.length);
    expect(firstMismatch(image.data, png)).toBe(-1);
  });

  test.each(JPEG_FILES)('%s (JPEG Baseline) decodes to within a few gray levels of its PNG', async (name) => {
    const image = await decodeDicomImage(readFileSync(join(DICOM_DIR, name)), name);
    const png = await pngGray(name);
    expect(image.data.length).toBe(png.length);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < png.length; i++) {
      const difference = Math.abs(image.data[i] - png[i]);
      sum += difference;
      max = Math.max(max, difference);
    }
    expect(sum / png.length).toBeLessThan(2);
    expect(max).toBeLessThanOrEqual(12);
  });

  test.each([
    [{ width: 224, height: 224, channels: 'gray' as const, channelCount: 3, scale: 255 as const, mean: [0, 0, 0], std: [1, 1, 1] }],
    [{ width: 299, height: 320, channels: 'rgb' as const, channelCount: 3 }],
  ])('a lossless DICOM prepares to the same tensor, pixels and display image as its PNG (%o)', async (options) => {
    const spec = imagenetInputSpec(options);
    for (const name of LOSSLESS_FILES) {
      const fromDicom = await prepareImage(join(DICOM_DIR, name), spec);
      const fromPng = await prepareImage(join(PNG_DIR, name.replace('.dcm', '.png')), spec);
      expect([fromDicom.sourceWidth, fromDicom.sourceHeight]).toEqual([fromPng.sourceWidth, fromPng.sourceHeight]);
      expect(firstMismatch(fromDicom.tensor, fromPng.tensor)).toBe(-1);
      expect(firstMismatch(fromDicom.pixels, fromPng.pixels)).toBe(-1);
      expect(firstMismatch(fromDicom.display, fromPng.display)).toBe(-1);
    }
  });

  test('a DICOM file without an extension is recognised by its DICM marker', async () => {
    const path = join(temp.path, 'scan-without-extension');
    copyFileSync(join(DICOM_DIR, LOSSLESS_FILES[0]), path);
    const spec = imagenetInputSpec({ width: 64, height: 64, channels: 'gray', channelCount: 1 });
    const fromDicom = await prepareImage(path, spec);
    const fromPng = await prepareImage(join(PNG_DIR, LOSSLESS_FILES[0].replace('.dcm', '.png')), spec);
    expect(firstMismatch(fromDicom.tensor, fromPng.tensor)).toBe(-1);
  });
});

describe('stored values to the displayed image', () => {
  test('signed 16-bit through a LINEAR window (PS3.3 C.11.2.1.2.1)', async () => {
    const values = [-32768, -1001, -1000, 0, 500, 999, 1000, 32767];
    const bytes = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: values.length, bitsAllocated: 16, signed: true, extra: window(0, 2001) }),
      pixels: { native: samples16(values) },
    });
    const image = await decodeBytes(bytes);
    // x ≤ −1000.5 → 0; x > 999.5 → 255; else ((x + 0.5) / 2000 + 0.5) · 255, rounded.
    expect(Array.from(image.data)).toEqual([0, 0, 0, 128, 191, 255, 255, 255]);
    // Samples at an odd address (a buffer sliced by its caller) are read byte by byte, to the same values.
    const unaligned = Buffer.concat([Buffer.alloc(1), bytes]).subarray(1);
    expect(unaligned.byteOffset % 2).toBe(1);
    expect(Array.from((await decodeBytes(unaligned)).data)).toEqual(Array.from(image.data));
  });

  test.each([
    ['LINEAR_EXACT', 0, 2000, [-1000, 0, 500, 1000], [0, 128, 191, 255]],
    ['SIGMOID', 0, 100, [-25, 0, 25, 1000], [69, 128, 186, 255]],
  ])('VOILUTFunction %s (PS3.3 C.11.2.1.3)', async (kind, center, width, values, shown) => {
    const bytes = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: values.length, bitsAllocated: 16, signed: true, extra: [...window(center, width), { tag: [0x0028, 0x1056], vr: 'CS', value: kind }] }),
      pixels: { native: samples16(values) },
    });
    expect(Array.from((await decodeBytes(bytes)).data)).toEqual(shown);
  });

  test('the modality LUT (rescale) comes before the window', async () => {
    const bytes = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({
        rows: 1, columns: 4, bitsAllocated: 16, bitsStored: 12,
        extra: [...window(0, 2001), { tag: [0x0028, 0x1052], vr: 'DS', value: '-1024' }, { tag: [0x0028, 0x1053], vr: 'DS', value: '2' }],
      }),
      pixels: { native: samples16([0, 512, 762, 1024]) },
    });
    // Rescaled: −1024, 0, 500, 1024.
    expect(Array.from((await decodeBytes(bytes)).data)).toEqual([0, 128, 191, 255]);
  });

  test('the first of several windows is used', async () => {
    const bytes = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: 2, bitsAllocated: 16, bitsStored: 12, extra: [
        { tag: [0x0028, 0x1050], vr: 'DS', value: '100\\3000' },
        { tag: [0x0028, 0x1051], vr: 'DS', value: '2\\10' },
      ] }),
      pixels: { native: samples16([99, 100]) },
    });
    expect(Array.from((await decodeBytes(bytes)).data)).toEqual([0, 255]);
  });

  test('without a window the full range of the stored values is shown; bits outside BitsStored are ignored', async () => {
    // 12 bits stored at HighBit 11: the top four bits (an overlay, say) are not part of the value.
    const low = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 12 }),
      pixels: { native: samples16([0xf000, 0xf000 | 2048, 0x0fff]) },
    });
    expect(Array.from((await decodeBytes(low)).data)).toEqual([0, 128, 255]);
    // 12 bits stored at HighBit 15: the value sits in the top bits.
    const high = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 12, highBit: 15 }),
      pixels: { native: samples16([0x000f, 2048 << 4, 0xfff0]) },
    });
    expect(Array.from((await decodeBytes(high)).data)).toEqual([0, 128, 255]);
  });

  test('8-bit unsigned values are shown as they are; signed 8-bit spans its own range', async () => {
    const values = [0, 1, 127, 254, 255];
    const unsigned = writeDicom({
      transferSyntax: UIDS.implicit,
      elements: grayImageElements({ rows: 1, columns: 5, bitsAllocated: 8 }),
      pixels: { native: new Uint8Array([...values, 0]) },
    });
    expect(Array.from((await decodeBytes(unsigned)).data)).toEqual(values);
    const signed = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: 3, bitsAllocated: 8, signed: true }),
      pixels: { native: new Uint8Array([0x80, 0x00, 0x7f, 0]) },
    });
    expect(Array.from((await decodeBytes(signed)).data)).toEqual([0, 128, 255]);
  });

  test('MONOCHROME1 is inverted after the window', async () => {
    const bytes = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 1, columns: 4, bitsAllocated: 16, signed: true, photometric: 'MONOCHROME1', extra: window(0, 2001) }),
      pixels: { native: samples16([-1001, 0, 500, 1000]) },
    });
    expect(Array.from((await decodeBytes(bytes)).data)).toEqual([255, 127, 64, 0]);
  });

  test('a multi-frame file shows its first frame', async () => {
    const bytes = writeDicom({
      transferSyntax: UIDS.explicit,
      elements: grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8, frames: 2 }),
      pixels: { native: new Uint8Array([10, 20, 30, 40, 200, 210, 220, 230]) },
    });
    const image = await decodeBytes(bytes);
    expect([image.width, image.height, ...image.data]).toEqual([2, 2, 10, 20, 30, 40]);
  });
});

describe('RLE Lossless (PS3.5 Annex G)', () => {
  test('replicate, literal and no-op runs; the most significant byte comes first; padding is ignored', () => {
    // High bytes 1,1,1,1,1,2: a run of five (−4 = 252), a no-op (−128), a literal of one, padding.
    // Low bytes 0,10,…,50: a literal of six.
    const frame = rleFrame([[252, 1, 128, 0, 2, 0], [5, 0, 10, 20, 30, 40, 50]]);
    const native = decodeRleFrame(frame, { rows: 2, columns: 3, samplesPerPixel: 1, bitsAllocated: 16 }, 'x.dcm');
    expect(Array.from(native)).toEqual([0, 1, 10, 1, 20, 1, 30, 1, 40, 1, 50, 2]);
  });

  test('an 8-bit RLE file decodes through the whole path', async () => {
    const bytes = writeDicom({
      transferSyntax: UIDS.rle,
      elements: grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8 }),
      pixels: { frames: [rleFrame([[254, 7, 0, 9]])] },
    });
    expect(Array.from((await decodeBytes(bytes)).data)).toEqual([7, 7, 7, 9]);
  });

  test('a multi-frame RLE file without an offset table shows its first frame (one fragment per frame)', async () => {
    const bytes = writeDicom({
      transferSyntax: UIDS.rle,
      elements: grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8, frames: 2 }),
      pixels: { frames: [rleFrame([[254, 7, 0, 9]]), rleFrame([[3, 1, 2, 3, 4]])] },
    });
    expect(Array.from((await decodeBytes(bytes)).data)).toEqual([7, 7, 7, 9]);
  });

  test('a segment that decodes short, or a wrong segment count, is an error', () => {
    const shape = { rows: 2, columns: 3, samplesPerPixel: 1, bitsAllocated: 16 };
    expect(() => decodeRleFrame(rleFrame([[252, 1], [5, 0, 10, 20, 30, 40, 50]]), shape, 'x.dcm')).toThrow("DICOM file 'x.dcm' has corrupt RLE Lossless pixel data: segment 1 decodes to 5 bytes where the image has 6 pixels");
    expect(() => decodeRleFrame(rleFrame([[5, 0, 10, 20, 30, 40, 50]]), shape, 'x.dcm')).toThrow('1 segments where 1 sample(s) of 16 bits need 2');
  });
});

describe('files that cannot be shown', () => {
  const real = () => readFileSync(join(DICOM_DIR, LOSSLESS_FILES[0]));

  test('a truncated file', async () => {
    const bytes = real();
    await expect(decodeBytes(bytes.subarray(0, Math.floor(bytes.length / 2)), 'half.dcm')).rejects.toThrow(/^DICOM file 'half\.dcm' is truncated/);
    await expect(decodeBytes(bytes.subarray(0, 300), 'head.dcm')).rejects.toThrow(/^DICOM file 'head\.dcm' is truncated/);
  });

  test('a wrong preamble, and a file too short to have one', async () => {
    const bytes = Buffer.from(real());
    bytes.write('DICX', 128, 'latin1');
    await expect(decodeBytes(bytes, 'bad.dcm')).rejects.toThrow("DICOM file 'bad.dcm' has no DICM marker after its 128-byte preamble: it is not a DICOM Part 10 file");
    await expect(decodeBytes(Buffer.from('hello'), 'tiny.dcm')).rejects.toThrow("DICOM file 'tiny.dcm' is too short to be DICOM (5 bytes");
  });

  test.each([
    [UIDS.jpeg2000, 'JPEG 2000 Image Compression'],
    [UIDS.jpegLs, 'JPEG-LS Lossless'],
    [UIDS.bigEndian, 'Explicit VR Big Endian'],
    ['1.2.3.999', 'an unknown transfer syntax'],
  ])('a transfer syntax Krypton cannot decode is named: %s', async (uid, name) => {
    const bytes = writeDicom({ transferSyntax: uid, elements: grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8 }), pixels: { frames: [new Uint8Array([1, 2, 3, 4])] } });
    await expect(decodeBytes(bytes, 'x.dcm')).rejects.toThrow(`DICOM file 'x.dcm' uses the transfer syntax ${name} (${uid}), which Krypton cannot decode (it decodes Implicit VR Little Endian, Explicit VR Little Endian, RLE Lossless, JPEG Baseline (Process 1))`);
  });

  test.each([[0, 4], [4, 0]])('an image of %i rows and %i columns', async (rows, columns) => {
    const bytes = writeDicom({ transferSyntax: UIDS.explicit, elements: grayImageElements({ rows, columns, bitsAllocated: 8 }), pixels: { native: new Uint8Array(0) } });
    await expect(decodeBytes(bytes, 'empty.dcm')).rejects.toThrow(`DICOM file 'empty.dcm' has no pixels (Rows ${rows}, Columns ${columns})`);
  });

  test('a colour image', async () => {
    const rgb = grayImageElements({ rows: 1, columns: 1, bitsAllocated: 8 }).map((e) =>
      e.tag[1] === 0x0002 && e.tag[0] === 0x0028 ? { ...e, value: 3 } : e.tag[1] === 0x0004 && e.tag[0] === 0x0028 ? { ...e, value: 'RGB' } : e);
    const bytes = writeDicom({ transferSyntax: UIDS.explicit, elements: rgb, pixels: { native: new Uint8Array([1, 2, 3, 0]) } });
    await expect(decodeBytes(bytes, 'colour.dcm')).rejects.toThrow("DICOM file 'colour.dcm' has PhotometricInterpretation RGB with 3 samples per pixel; only grayscale (MONOCHROME1, MONOCHROME2) is decoded");
  });

  test('no pixel data, and 32-bit samples', async () => {
    const noPixels = writeDicom({ transferSyntax: UIDS.explicit, elements: grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8 }) });
    await expect(decodeBytes(noPixels)).rejects.toThrow('has no Pixel Data (7FE0,0010)');
    const wide = writeDicom({ transferSyntax: UIDS.explicit, elements: grayImageElements({ rows: 1, columns: 1, bitsAllocated: 32 }), pixels: { native: new Uint8Array(4) } });
    await expect(decodeBytes(wide)).rejects.toThrow('has 32 bits allocated per pixel; 8 and 16 are decoded');
  });

  test('a PNG renamed .dcm is reported as not DICOM; through prepareImage the error names the path', async () => {
    const path = join(temp.path, 'renamed.dcm');
    writeFileSync(path, readFileSync(join(PNG_DIR, LOSSLESS_FILES[0].replace('.dcm', '.png'))));
    await expect(prepareImage(path, imagenetInputSpec({ width: 32, height: 32 }))).rejects.toThrow(`DICOM file '${path}' has no DICM marker`);
  });
});
