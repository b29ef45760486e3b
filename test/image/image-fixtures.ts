import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export const IMAGES = join(__dirname, '..', '..', 'data', 'images');
export const XRAY = join(IMAGES, 'chest-xray-hannover/png/00870a9c.png');
export const KITTEN = join(IMAGES, 'natural-winml/kitten_224.png');
export const FISH_RGB = join(IMAGES, 'natural-winml/fish.png');
export const RETINA_JPEG = join(IMAGES, 'natural-skimage/retina.jpg');

/** A fresh temporary folder and a function that removes it. */
export function temporaryFolder(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `krypton-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Encodes interleaved samples as a PNG: 8-bit from a Uint8Array, 16-bit from a Uint16Array. */
export async function encodePng(
  samples: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
): Promise<Buffer> {
  const image = sharp(samples, { raw: { width, height, channels } });
  if (samples instanceof Uint16Array) return image.toColourspace(channels <= 2 ? 'grey16' : 'rgb16').png().toBuffer();
  return image.toColourspace(channels <= 2 ? 'b-w' : 'srgb').png().toBuffer();
}

/** The raw interleaved 8-bit samples sharp decodes from a file, with alpha dropped. */
export async function rawRgb(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Index of the first element where two arrays differ (or -1), to keep failures readable. */
export function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return i;
  return -1;
}

/** Deterministic pseudo-random integers in [0, limit). */
export function seededIntegers(count: number, limit: number, seed = 7): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % limit;
  });
}
