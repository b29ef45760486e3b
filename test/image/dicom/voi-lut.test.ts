import { decodeDicomImage } from '../../../src/image/dicom/index.js';
import { UIDS, grayImageElements, samples16, sequenceOf, writeDicom } from './dicom-writer.js';
import type { DicomElement } from './dicom-writer.js';

/** A VOI LUT Sequence (0028,3010) of one item. */
function voiLutSequence(descriptor: { vr: 'US' | 'SS'; entries: number; firstMapped: number; bits: number }, data: readonly number[], implicit = false): DicomElement {
  const item: DicomElement[] = [
    { tag: [0x0028, 0x3002], vr: descriptor.vr, value: [descriptor.entries, descriptor.firstMapped, descriptor.bits] },
    { tag: [0x0028, 0x3003], vr: 'LO', value: 'TEST CURVE' },
    { tag: [0x0028, 0x3006], vr: 'US', value: data },
  ];
  return { tag: [0x0028, 0x3010], vr: 'SQ', value: sequenceOf([item], implicit) };
}

/** A one-row 16-bit image (12 bits stored) of the given stored values. */
function lutFile(values: readonly number[], extra: readonly DicomElement[], transferSyntax: string = UIDS.explicit): Buffer {
  return writeDicom({
    transferSyntax,
    elements: grayImageElements({ rows: 1, columns: values.length, bitsAllocated: 16, bitsStored: 12, extra }),
    pixels: { native: samples16(values) },
  });
}

// 2048 entries of 12 bits from value 1000 on, falling from 4095 by 2 per step.
const FALLING = { vr: 'US' as const, entries: 2048, firstMapped: 1000, bits: 12 };
const FALLING_DATA = Array.from({ length: 2048 }, (_, i) => 4095 - 2 * i);
const VALUES = [0, 999, 1000, 1500, 2000, 3046, 3047, 4095];
// Below the first value mapped, the first entry; past the last, the last; entries scaled from 12 bits to 8.
const SHOWN = [255, 255, 255, 193, 130, 0, 0, 0];

describe('VOI LUT Sequence (PS3.3 C.11.2.1.1)', () => {
  test('without a window, the first LUT maps the values, clamped at both ends and scaled from its bits', async () => {
    const image = await decodeDicomImage(lutFile(VALUES, [voiLutSequence(FALLING, FALLING_DATA)]), 'lut.dcm');
    expect(Array.from(image.data)).toEqual(SHOWN);
  });

  test('in an implicit-VR file too', async () => {
    const image = await decodeDicomImage(lutFile(VALUES, [voiLutSequence(FALLING, FALLING_DATA, true)], UIDS.implicit), 'implicit.dcm');
    expect(Array.from(image.data)).toEqual(SHOWN);
  });

  test('a window, where there is one, is used instead', async () => {
    const window: DicomElement[] = [{ tag: [0x0028, 0x1050], vr: 'DS', value: '2048' }, { tag: [0x0028, 0x1051], vr: 'DS', value: '4096' }];
    const withLut = await decodeDicomImage(lutFile(VALUES, [...window, voiLutSequence(FALLING, FALLING_DATA)]), 'both.dcm');
    const windowOnly = await decodeDicomImage(lutFile(VALUES, window), 'window.dcm');
    expect(Array.from(withLut.data)).toEqual(Array.from(windowOnly.data));
    expect(Array.from(withLut.data)).not.toEqual(SHOWN);
  });

  test('the LUT applies after the rescale, from a signed first value mapped', async () => {
    // x = 2 · stored − 1024; 256 entries of 8 bits from −1024, entry i = i.
    const rescale: DicomElement[] = [{ tag: [0x0028, 0x1052], vr: 'DS', value: '-1024' }, { tag: [0x0028, 0x1053], vr: 'DS', value: '2' }];
    const lut = voiLutSequence({ vr: 'SS', entries: 256, firstMapped: -1024, bits: 8 }, Array.from({ length: 256 }, (_, i) => i));
    const image = await decodeDicomImage(lutFile([0, 50, 100, 127, 200], [...rescale, lut]), 'rescaled.dcm');
    expect(Array.from(image.data)).toEqual([0, 100, 200, 254, 255]);
  });

  test('a LUT whose data is shorter than its descriptor says is an error naming the file', async () => {
    const short = lutFile(VALUES, [voiLutSequence(FALLING, FALLING_DATA.slice(0, 100))]);
    await expect(decodeDicomImage(short, 'short.dcm')).rejects.toThrow("DICOM file 'short.dcm' has a VOI LUT of 2048 entries whose LUT Data (0028,3006) holds 200 bytes");
  });
});
