import { join } from 'node:path';
import sharp from 'sharp';

const IMAGES = join(__dirname, '..', '..', 'data', 'images');
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export const PHOTOS = ['natural-winml/kitten_224.png', 'natural-skimage/chelsea.png', 'natural-skimage/coffee.png', 'natural-skimage/rocket.jpg'];

/** A photo resized to size×size as ImageNet-normalised RGB, CHW float32. */
export async function loadPhoto(path: string, size: number): Promise<Float32Array> {
  const data = await sharp(`${IMAGES}/${path}`).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
  const out = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) out[c * size * size + i] = (data[i * 3 + c] / 255 - MEAN[c]) / STD[c];
  }
  return out;
}

/** Several photos stacked into one [n, 3, size, size] batch. */
export async function loadPhotoBatch(paths: readonly string[], size: number): Promise<Float32Array> {
  const batch = new Float32Array(paths.length * 3 * size * size);
  for (let i = 0; i < paths.length; i++) batch.set(await loadPhoto(paths[i], size), i * 3 * size * size);
  return batch;
}
