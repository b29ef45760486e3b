import sharp from 'sharp';
import { KryptonError } from '../../src/errors.js';
import { imagenetInputSpec } from '../../src/image/input-spec.js';
import type { InputSpec } from '../../src/image/input-spec.js';
import { formatPatchColor, parsePatchColor, pastePatch, patchPixelValues, patchValues } from '../../src/image/patch-color.js';
import type { PatchColor, PatchRect } from '../../src/image/patch-color.js';
import { normalizePixels, prepareImageFromBuffer } from '../../src/image/prepare-image.js';
import { KITTEN, XRAY, encodePng, firstMismatch, rawRgb } from './image-fixtures.js';

describe('parsePatchColor', () => {
  test('names and R,G,B', () => {
    expect(parsePatchColor('gray')).toEqual({ kind: 'gray' });
    expect(parsePatchColor(' GREY ')).toEqual({ kind: 'gray' });
    expect(parsePatchColor('Black')).toEqual({ kind: 'black' });
    expect(parsePatchColor('mean')).toEqual({ kind: 'mean' });
    expect(parsePatchColor('255, 0,17')).toEqual({ kind: 'rgb', r: 255, g: 0, b: 17 });
  });

  test.each(['', 'red', '1,2', '1,2,3,4', '256,0,0', '-1,0,0', '1.5,2,3', '0x10,0,0', ',,'])('rejects %p', (text) => {
    expect(() => parsePatchColor(text)).toThrow(KryptonError);
    expect(() => parsePatchColor(text)).toThrow(/expected gray, black, mean or R,G,B/);
  });

  test('formatPatchColor reads back to the same colour', () => {
    const colors: PatchColor[] = [{ kind: 'gray' }, { kind: 'black' }, { kind: 'mean' }, { kind: 'rgb', r: 1, g: 20, b: 255 }];
    for (const color of colors) expect(parsePatchColor(formatPatchColor(color))).toEqual(color);
  });
});

describe('patchValues: pasting into the tensor equals occluding the pixels and preparing again', () => {
  const rect: PatchRect = { x: 50, y: 61, width: 16, height: 12 };

  /** Paints an RGB colour into an interleaved 8-bit image (1 or 3 channels) and re-encodes it. */
  async function occludedPng(samples: Uint8Array, width: number, height: number, channels: 1 | 3, rgb: number[]): Promise<Buffer> {
    const copy = Uint8Array.from(samples);
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        for (let c = 0; c < channels; c++) copy[channels * (y * width + x) + c] = rgb[c];
      }
    }
    return encodePng(copy, width, height, channels);
  }

  const colorSpecs: [string, InputSpec][] = [
    ['rgb, 0–1, ImageNet', imagenetInputSpec()],
    ['bgr, 0–255, own mean/std', imagenetInputSpec({ channels: 'bgr', scale: 255, mean: [104, 117, 123], std: [58, 57, 59] })],
    ['gray copied to 3 channels', imagenetInputSpec({ channels: 'gray', channelCount: 3, scale: 255, mean: [0, 0, 0], std: [1, 1, 1] })],
    ['gray, 1 channel', imagenetInputSpec({ channels: 'gray', channelCount: 1 })],
  ];
  const colors: [PatchColor, number[]][] = [
    [{ kind: 'gray' }, [128, 128, 128]],
    [{ kind: 'black' }, [0, 0, 0]],
    [{ kind: 'rgb', r: 200, g: 31, b: 90 }, [200, 31, 90]],
  ];

  test.each(colorSpecs)('colour image (kitten), %s', async (_name, spec) => {
    const { data } = await rawRgb(KITTEN);
    const clean = await prepareImageFromBuffer(await encodePng(data, 224, 224, 3), spec);
    for (const [color, rgb] of colors) {
      const occluded = await prepareImageFromBuffer(await occludedPng(data, 224, 224, 3, rgb), spec);
      const pasted = Float32Array.from(clean.tensor);
      pastePatch(pasted, spec, patchValues(color, clean, spec), rect);
      expect([formatPatchColor(color), firstMismatch(pasted, occluded.tensor)]).toEqual([formatPatchColor(color), -1]);
      // and the patch really changed something
      expect(firstMismatch(pasted, clean.tensor)).not.toBe(-1);
    }
  });

  test('gray image (X-ray) with a gray patch, for a 3-channel raw-value model', async () => {
    const spec = imagenetInputSpec({ channels: 'gray', channelCount: 3, scale: 255, mean: [0, 0, 0], std: [1, 1, 1] });
    const gray = await sharp(XRAY).resize(224, 224).toColourspace('b-w').raw().toBuffer();
    const clean = await prepareImageFromBuffer(await encodePng(gray, 224, 224, 1), spec);
    const occluded = await prepareImageFromBuffer(await occludedPng(gray, 224, 224, 1, [128]), spec);
    const pasted = Float32Array.from(clean.tensor);
    pastePatch(pasted, spec, patchValues({ kind: 'gray' }, clean, spec), rect);
    expect(firstMismatch(pasted, occluded.tensor)).toBe(-1);
    expect(Array.from(patchValues({ kind: 'gray' }, clean, spec))).toEqual([128, 128, 128]);
  });

  test('mean: the per-channel mean of the resized image, in model order, normalised like the tensor', async () => {
    const spec = imagenetInputSpec({ channels: 'bgr' });
    const { data } = await rawRgb(KITTEN);
    const image = await prepareImageFromBuffer(await encodePng(data, 224, 224, 3), spec);
    const sums = [0, 0, 0];
    for (let i = 0; i < data.length; i++) sums[i % 3] += data[i];
    const [r, g, b] = sums.map((sum) => sum / (224 * 224));
    const pixelMeans = patchPixelValues({ kind: 'mean' }, image, spec);
    expect(pixelMeans[0]).toBeCloseTo(b, 4);
    expect(pixelMeans[2]).toBeCloseTo(r, 4);
    expect(patchValues({ kind: 'mean' }, image, spec)[1]).toBeCloseTo((g / 255 - 0.456) / 0.224, 4);

    // Occluding the pixels with the mean and normalising again gives exactly the pasted tensor.
    const plane = 224 * 224;
    const occludedPixels = Float32Array.from(image.pixels);
    for (let c = 0; c < 3; c++) {
      for (let y = rect.y; y < rect.y + rect.height; y++) occludedPixels.fill(pixelMeans[c], c * plane + y * 224 + rect.x, c * plane + y * 224 + rect.x + rect.width);
    }
    const pasted = Float32Array.from(image.tensor);
    pastePatch(pasted, spec, patchValues({ kind: 'mean' }, image, spec), rect);
    expect(firstMismatch(pasted, normalizePixels(occludedPixels, spec))).toBe(-1);
  });

  test('known values: gray in ImageNet space and an RGB colour through luma', () => {
    const spec = imagenetInputSpec();
    const image = { pixels: new Float32Array(3) } as never;
    const gray = patchValues({ kind: 'gray' }, image, spec);
    expect(gray[0]).toBeCloseTo((128 / 255 - 0.485) / 0.229, 6);
    expect(gray[2]).toBeCloseTo((128 / 255 - 0.406) / 0.225, 6);
    const graySpec = imagenetInputSpec({ channels: 'gray', channelCount: 1, scale: 255, mean: [0], std: [1] });
    expect(patchValues({ kind: 'rgb', r: 100, g: 200, b: 50 }, image, graySpec)[0]).toBeCloseTo(0.299 * 100 + 0.587 * 200 + 0.114 * 50, 4);
  });
});

describe('pastePatch', () => {
  test('clips the rectangle to the image, in every channel', () => {
    const spec = imagenetInputSpec({ width: 4, height: 3 });
    const tensor = new Float32Array(3 * 12);
    pastePatch(tensor, spec, Float32Array.from([1, 2, 3]), { x: 2, y: -1, width: 5, height: 2 });
    const plane = (c: number) => Array.from(tensor.subarray(c * 12, c * 12 + 12));
    expect(plane(0)).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(plane(2)).toEqual([0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('rejects values that do not match the channel count', () => {
    const spec = imagenetInputSpec({ width: 2, height: 2 });
    expect(() => pastePatch(new Float32Array(12), spec, new Float32Array(1), { x: 0, y: 0, width: 1, height: 1 })).toThrow(KryptonError);
  });
});
