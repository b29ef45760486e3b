import { decodeDicomImage } from '../../../src/image/dicom/index.js';
import { decodeRleFrame } from '../../../src/image/dicom/rle-lossless.js';
import { firstMismatch } from '../image-fixtures.js';
import { UIDS, grayImageElements, rleFrame, writeDicom } from './dicom-writer.js';

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * PackBits with runs of every length the format allows (literals of 1–128, repeats of 2–128)
 * chosen at random, no-op headers sprinkled in, and an optional padding byte at the end.
 */
function packBits(bytes: Uint8Array, next: () => number, pad: boolean): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (next() < 0.05) out.push(128);
    let repeat = 1;
    while (i + repeat < bytes.length && bytes[i + repeat] === bytes[i] && repeat < 128) repeat++;
    if (repeat >= 2) {
      out.push(257 - repeat, bytes[i]);
      i += repeat;
    } else {
      const length = Math.min(1 + Math.floor(next() * 128), bytes.length - i);
      out.push(length - 1, ...bytes.subarray(i, i + length));
      i += length;
    }
  }
  if (pad) out.push(0);
  return out;
}

/** Bytes in runs of random lengths (1–200, so repeats are split at 128) and random values. */
function runsOfBytes(count: number, next: () => number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; ) {
    const length = next() < 0.5 ? 1 : 1 + Math.floor(next() * (next() < 0.2 ? 200 : 12));
    bytes.fill(Math.floor(next() * 256), i, Math.min(count, i + length));
    i += length;
  }
  return bytes;
}

describe('RLE Lossless segments of every run length', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('random 16-bit frames decode to the samples they were packed from (seed %i)', (seed) => {
    const next = random(seed);
    const rows = 1 + Math.floor(next() * 40);
    const columns = 1 + Math.floor(next() * 40);
    const pixels = rows * columns;
    const high = runsOfBytes(pixels, next);
    const low = runsOfBytes(pixels, next);
    const frame = rleFrame([packBits(high, next, next() < 0.5), packBits(low, next, next() < 0.5)]);
    const native = decodeRleFrame(frame, { rows, columns, samplesPerPixel: 1, bitsAllocated: 16 }, 'x.dcm');
    const expected = new Uint8Array(2 * pixels);
    for (let i = 0; i < pixels; i++) {
      expected[2 * i] = low[i];
      expected[2 * i + 1] = high[i];
    }
    expect(firstMismatch(native, expected)).toBe(-1);
  });

  test('a 16-bit RLE file shows exactly what the same samples show uncompressed', async () => {
    const next = random(99);
    const [rows, columns] = [37, 53];
    const high = runsOfBytes(rows * columns, next).map((b) => b & 0x0f);
    const low = runsOfBytes(rows * columns, next);
    const native = new Uint8Array(2 * rows * columns);
    for (let i = 0; i < rows * columns; i++) [native[2 * i], native[2 * i + 1]] = [low[i], high[i]];
    const elements = grayImageElements({ rows, columns, bitsAllocated: 16, bitsStored: 12 });
    const rle = writeDicom({ transferSyntax: UIDS.rle, elements, pixels: { frames: [rleFrame([packBits(high, next, true), packBits(low, next, false)])] } });
    const explicit = writeDicom({ transferSyntax: UIDS.explicit, elements, pixels: { native } });
    const [fromRle, fromNative] = await Promise.all([decodeDicomImage(rle, 'rle.dcm'), decodeDicomImage(explicit, 'native.dcm')]);
    expect(firstMismatch(fromRle.data, fromNative.data)).toBe(-1);
  });

  test('a run reaching past the last pixel is cut at it; a segment ending a byte short is an error', () => {
    // A repeat of 128 and a literal of 9 for an image of 4 pixels.
    expect(Array.from(decodeRleFrame(rleFrame([[129, 7]]), { rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 8 }, 'x.dcm'))).toEqual([7, 7, 7, 7]);
    expect(Array.from(decodeRleFrame(rleFrame([[8, 1, 2, 3, 4, 5, 6, 7, 8, 9]]), { rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 8 }, 'x.dcm'))).toEqual([1, 2, 3, 4]);
    // A literal that claims more bytes than the segment has: what is there, then too few pixels.
    expect(() => decodeRleFrame(rleFrame([[11, 1, 2, 3, 4, 5, 6, 7, 8, 9]]), { rows: 2, columns: 5, samplesPerPixel: 1, bitsAllocated: 8 }, 'x.dcm'))
      .toThrow("DICOM file 'x.dcm' has corrupt RLE Lossless pixel data: segment 1 decodes to 9 bytes where the image has 10 pixels");
  });
});
