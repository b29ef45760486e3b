import { readdirSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { KryptonError } from '../../src/errors.js';
import { imagenetInputSpec } from '../../src/image/input-spec.js';
import type { InputSpec } from '../../src/image/input-spec.js';
import { prepareImage, prepareImageFromBuffer } from '../../src/image/prepare-image.js';
import { IMAGES, KITTEN, FISH_RGB, RETINA_JPEG, XRAY, encodePng, firstMismatch, rawRgb, seededIntegers, temporaryFolder } from './image-fixtures.js';

/** A spec that feeds raw 0–255 values unchanged, so tensor = pixels. */
function rawSpec(width: number, height: number, overrides: Partial<InputSpec> = {}): InputSpec {
  const channelCount = overrides.channelCount ?? (overrides.channels === 'gray' ? 1 : 3);
  return imagenetInputSpec({ width, height, scale: 255, mean: Array(channelCount).fill(0), std: Array(channelCount).fill(1), ...overrides });
}

const temp = temporaryFolder('prepare');
afterAll(() => temp.remove());

describe('prepareImage on real images', () => {
  test('a gray X-ray at its own size keeps every pixel', async () => {
    const raw = await sharp(XRAY).toColourspace('b-w').raw().toBuffer();
    const image = await prepareImage(XRAY, rawSpec(640, 524, { channels: 'gray', channelCount: 1 }));
    expect([image.width, image.height, image.sourceWidth, image.sourceHeight]).toEqual([640, 524, 640, 524]);
    expect(firstMismatch(image.pixels, raw)).toBe(-1);
    expect(firstMismatch(image.tensor, raw)).toBe(-1);
    const i = 300 * 640 + 211;
    expect(Array.from(image.display.subarray(3 * i, 3 * i + 3))).toEqual([raw[i], raw[i], raw[i]]);
  });

  test('a gray X-ray for a 3-channel model: resized with the linear kernel and copied to all channels', async () => {
    const image = await prepareImage(XRAY, rawSpec(224, 224, { channels: 'gray', channelCount: 3 }));
    const plane = 224 * 224;
    expect(image.pixels.length).toBe(3 * plane);
    expect([image.sourceWidth, image.sourceHeight]).toEqual([640, 524]);
    expect(firstMismatch(image.pixels.subarray(plane, 2 * plane), image.pixels.subarray(0, plane))).toBe(-1);
    expect(firstMismatch(image.pixels.subarray(2 * plane), image.pixels.subarray(0, plane))).toBe(-1);
    const expected = await sharp(XRAY).resize(224, 224, { fit: 'fill', kernel: 'linear' }).toColourspace('b-w').raw().toBuffer();
    expect(firstMismatch(image.pixels.subarray(0, plane), expected)).toBe(-1);
  });

  test('an RGBA image in RGB and BGR order, normalised with ImageNet statistics', async () => {
    const raw = await rawRgb(KITTEN);
    const rgb = await prepareImage(KITTEN, imagenetInputSpec());
    const bgr = await prepareImage(KITTEN, imagenetInputSpec({ channels: 'bgr' }));
    const plane = 224 * 224;
    const i = 100 * 224 + 37;
    const [r, g, b] = raw.data.subarray(3 * i, 3 * i + 3);
    expect([rgb.pixels[i], rgb.pixels[plane + i], rgb.pixels[2 * plane + i]]).toEqual([r, g, b]);
    expect([bgr.pixels[i], bgr.pixels[plane + i], bgr.pixels[2 * plane + i]]).toEqual([b, g, r]);
    expect(rgb.tensor[i]).toBeCloseTo((r / 255 - 0.485) / 0.229, 5);
    expect(rgb.tensor[2 * plane + i]).toBeCloseTo((b / 255 - 0.406) / 0.225, 5);
    // BGR statistics are reordered too: channel 0 is blue.
    expect(bgr.tensor[i]).toBeCloseTo((b / 255 - 0.406) / 0.225, 5);
    expect(firstMismatch(rgb.display, raw.data)).toBe(-1);
  });

  test('a colour image for a gray model uses BT.601 luma', async () => {
    const raw = await rawRgb(KITTEN);
    const image = await prepareImage(KITTEN, rawSpec(224, 224, { channels: 'gray', channelCount: 1 }));
    for (const i of [0, 5000, 224 * 224 - 1]) {
      const [r, g, b] = raw.data.subarray(3 * i, 3 * i + 3);
      expect(image.pixels[i]).toBe(Math.fround(0.299 * r + 0.587 * g + 0.114 * b));
    }
    // The overlay still shows the image in colour.
    expect(firstMismatch(image.display, raw.data)).toBe(-1);
  });

  test('an RGB photo at its own size and a JPEG', async () => {
    const fish = await prepareImage(FISH_RGB, rawSpec(224, 224));
    expect(firstMismatch(fish.display, (await rawRgb(FISH_RGB)).data)).toBe(-1);
    const jpeg = await prepareImage(RETINA_JPEG, imagenetInputSpec({ width: 96, height: 80 }));
    expect([jpeg.width, jpeg.height, jpeg.sourceWidth, jpeg.sourceHeight]).toEqual([96, 80, 1411, 1411]);
    expect(jpeg.tensor.length).toBe(3 * 96 * 80);
    expect(jpeg.tensor.every(Number.isFinite)).toBe(true);
  });

  test('every bundled natural image decodes', async () => {
    const folder = join(IMAGES, 'natural-skimage');
    const files = readdirSync(folder).filter((name) => /\.(png|jpg)$/.test(name));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const name of files) {
      const image = await prepareImage(join(folder, name), imagenetInputSpec({ width: 32, height: 32 }));
      expect(image.pixels.length).toBe(3 * 32 * 32);
    }
  });
});

describe('prepareImage on generated inputs', () => {
  const width = 6;
  const height = 5;
  const count = width * height;

  test('16-bit RGB keeps full precision as value / 257', async () => {
    const samples = Uint16Array.from(seededIntegers(count * 3, 65536));
    const image = await prepareImageFromBuffer(await encodePng(samples, width, height, 3), rawSpec(width, height), 'rgb16');
    for (const i of [0, 7, count - 1]) {
      for (let c = 0; c < 3; c++) expect(image.pixels[c * count + i]).toBe(Math.fround(samples[3 * i + c] / 257));
    }
    // Not rounded to 8 bits on the way.
    expect(image.pixels.some((v) => !Number.isInteger(v))).toBe(true);
  });

  test('16-bit gray and gray+alpha; 8-bit gray+alpha', async () => {
    const gray16 = Uint16Array.from(seededIntegers(count, 65536, 3));
    const withAlpha16 = new Uint16Array(count * 2);
    const withAlpha8 = new Uint8Array(count * 2);
    gray16.forEach((v, i) => {
      withAlpha16.set([v, i % 2 ? 0 : 65535], 2 * i);
      withAlpha8.set([v >> 8, i % 3 ? 0 : 255], 2 * i);
    });
    const spec = rawSpec(width, height, { channels: 'gray', channelCount: 1 });
    const a = await prepareImageFromBuffer(await encodePng(gray16, width, height, 1), spec);
    const b = await prepareImageFromBuffer(await encodePng(withAlpha16, width, height, 2), spec);
    const c = await prepareImageFromBuffer(await encodePng(withAlpha8, width, height, 2), spec);
    const expected16 = Array.from(gray16, (v) => Math.fround(v / 257));
    expect(firstMismatch(a.pixels, expected16)).toBe(-1);
    expect(firstMismatch(b.pixels, expected16)).toBe(-1);
    expect(firstMismatch(c.pixels, Array.from(gray16, (v) => v >> 8))).toBe(-1);
  });

  test('alpha is ignored, before resizing too: the colour under transparent pixels is kept', async () => {
    const [w, h] = [16, 12];
    const rgb = Uint8Array.from(seededIntegers(w * h * 3, 256, 11));
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], i % 3 ? 0 : 200], 4 * i);
    const opaque = await encodePng(rgb, w, h, 3);
    const translucent = await encodePng(rgba, w, h, 4);
    const same = await prepareImageFromBuffer(translucent, rawSpec(w, h));
    expect(firstMismatch(same.display, rgb)).toBe(-1);
    const a = await prepareImageFromBuffer(translucent, rawSpec(7, 5));
    const b = await prepareImageFromBuffer(opaque, rawSpec(7, 5));
    expect(firstMismatch(a.pixels, b.pixels)).toBe(-1);
  });

  test('stretch of a uniform image stays uniform; cover crops the centre; contain letterboxes on black', async () => {
    const uniform = await encodePng(new Uint8Array(10 * 10 * 3).map((_, i) => [10, 20, 30][i % 3]), 10, 10, 3);
    const stretched = await prepareImageFromBuffer(uniform, rawSpec(3, 7));
    expect(Array.from(stretched.pixels)).toEqual([...Array(21).fill(10), ...Array(21).fill(20), ...Array(21).fill(30)]);

    // 12×4 source: columns 0–3 red, 4–7 green, 8–11 blue.
    const bands = new Uint8Array(12 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 12; x++) bands[3 * (y * 12 + x) + Math.floor(x / 4)] = 255;
    const png = await encodePng(bands, 12, 4, 3);
    const covered = await prepareImageFromBuffer(png, rawSpec(4, 4, { resize: 'cover' }));
    expect(Array.from(covered.pixels)).toEqual([...Array(16).fill(0), ...Array(16).fill(255), ...Array(16).fill(0)]);
    const contained = await prepareImageFromBuffer(png, rawSpec(12, 12, { resize: 'contain' }));
    const red = contained.pixels.subarray(0, 144);
    for (let y = 0; y < 12; y++) {
      const inside = y >= 4 && y < 8;
      expect(Array.from(red.subarray(y * 12, y * 12 + 12))).toEqual(inside ? [255, 255, 255, 255, ...Array(8).fill(0)] : Array(12).fill(0));
    }
  });

  test('16-bit colour survives a real resize without losing precision', async () => {
    const samples = Uint16Array.from(seededIntegers(count * 3, 65536, 5));
    const image = await prepareImageFromBuffer(await encodePng(samples, width, height, 3), rawSpec(3, 2));
    expect(image.pixels.length).toBe(3 * 6);
    expect(image.pixels.some((v) => !Number.isInteger(v))).toBe(true);
    expect(Math.max(...image.pixels)).toBeLessThanOrEqual(255);
  });
});

describe('prepareImage errors', () => {
  const spec = imagenetInputSpec();

  async function expectImageError(path: string, fragment: RegExp): Promise<void> {
    const failure = await prepareImage(path, spec).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(KryptonError);
    const error = failure as KryptonError;
    expect(error.code).toBe('image');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(`'${path}'`);
    expect(error.message).toMatch(fragment);
  }

  test('missing file, directory, empty file', async () => {
    await expectImageError(join(temp.path, 'absent.png'), /not found/);
    mkdirSync(join(temp.path, 'folder.png'));
    await expectImageError(join(temp.path, 'folder.png'), /directory/);
    writeFileSync(join(temp.path, 'empty.png'), '');
    await expectImageError(join(temp.path, 'empty.png'), /empty/);
  });

  test('a text file named .png', async () => {
    const path = join(temp.path, 'notes.png');
    writeFileSync(path, 'patient list\nnot an image at all\n');
    await expectImageError(path, /not an image/);
  });

  test('truncated PNG and JPEG files', async () => {
    const png = readFileSync(XRAY);
    const halfPng = join(temp.path, 'half.png');
    writeFileSync(halfPng, png.subarray(0, Math.floor(png.length / 2)));
    await expectImageError(halfPng, /truncated or corrupt/);
    const headerOnly = join(temp.path, 'header.png');
    writeFileSync(headerOnly, png.subarray(0, 30));
    await expectImageError(headerOnly, /corrupt or truncated header/);
    const jpeg = readFileSync(RETINA_JPEG);
    const halfJpeg = join(temp.path, 'half.jpg');
    writeFileSync(halfJpeg, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await expectImageError(halfJpeg, /truncated or corrupt/);
    const cutJpeg = join(temp.path, 'cut.jpg');
    writeFileSync(cutJpeg, jpeg.subarray(0, 200));
    await expectImageError(cutJpeg, /corrupt or truncated header/);
  });

  test('an in-memory buffer is named by its label', async () => {
    await expect(prepareImageFromBuffer(Buffer.from('nope'), spec, 'upload #3')).rejects.toThrow("Image 'upload #3' is not an image");
  });

  test('an inconsistent spec is an argument error', async () => {
    await expect(prepareImage(KITTEN, { ...spec, mean: [0.5] })).rejects.toMatchObject({ code: 'argument', message: expect.stringMatching(/mean needs 3 values/) });
  });
});
