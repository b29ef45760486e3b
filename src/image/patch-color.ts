import { KryptonError } from '../errors.js';
import { rgbToModelChannels } from './channel-conversion.js';
import { normalizePixelValue, validateInputSpec } from './input-spec.js';
import type { InputSpec } from './input-spec.js';
import type { PreparedImage } from './prepare-image.js';

/** The colour an occlusion patch paints over the image (in pixel space, before normalisation). */
export type PatchColor =
  | { kind: 'gray' }
  | { kind: 'black' }
  | { kind: 'mean' }
  | { kind: 'rgb'; r: number; g: number; b: number };

/** The gray patch value: mid-scale of 8-bit pixels, as the usual occlusion papers and Captum examples use. */
export const GRAY_PATCH_VALUE = 128;

/** 'gray' (or 'grey'), 'black', 'mean', or 'R,G,B' with each an integer from 0 to 255; case and spaces ignored. */
export function parsePatchColor(text: string): PatchColor {
  const word = text.trim().toLowerCase();
  if (word === 'gray' || word === 'grey') return { kind: 'gray' };
  if (word === 'black') return { kind: 'black' };
  if (word === 'mean') return { kind: 'mean' };
  const parts = word.split(',').map((part) => part.trim());
  if (parts.length === 3 && parts.every((part) => /^\d{1,3}$/.test(part))) {
    const [r, g, b] = parts.map(Number);
    if (r <= 255 && g <= 255 && b <= 255) return { kind: 'rgb', r, g, b };
  }
  throw new KryptonError(
    `Invalid patch colour '${text}': expected gray, black, mean or R,G,B with each an integer from 0 to 255`,
    'argument',
  );
}

/** The text parsePatchColor reads back to the same colour. */
export function formatPatchColor(color: PatchColor): string {
  return color.kind === 'rgb' ? `${color.r},${color.g},${color.b}` : color.kind;
}

/**
 * The patch colour per model channel in pixel space (0–255): what an occluded pixel of
 * PreparedImage.pixels holds. 'mean' is the per-channel mean of the resized image.
 */
export function patchPixelValues(color: PatchColor, image: PreparedImage, spec: InputSpec): Float32Array {
  switch (color.kind) {
    case 'gray':
      return new Float32Array(spec.channelCount).fill(GRAY_PATCH_VALUE);
    case 'black':
      return new Float32Array(spec.channelCount);
    case 'rgb':
      return rgbToModelChannels(color.r, color.g, color.b, spec);
    case 'mean':
      return channelMeans(image, spec);
  }
}

/**
 * The patch colour per model channel in model (normalised) space: pasting these values into
 * PreparedImage.tensor equals occluding the pixels and preparing the image again.
 */
export function patchValues(color: PatchColor, image: PreparedImage, spec: InputSpec): Float32Array {
  validateInputSpec(spec);
  const pixel = patchPixelValues(color, image, spec);
  return pixel.map((value, channel) => normalizePixelValue(value, channel, spec));
}

/** A rectangle of the model-input image, in pixels. */
export interface PatchRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Writes one value per channel into the rectangle (clipped to the image) of a [C, H, W] tensor. */
export function pastePatch(tensor: Float32Array, spec: Pick<InputSpec, 'width' | 'height' | 'channelCount'>, values: Float32Array, rect: PatchRect): void {
  const plane = spec.width * spec.height;
  if (tensor.length !== plane * spec.channelCount || values.length !== spec.channelCount) {
    throw new KryptonError('Patch values or tensor do not match the input spec', 'argument');
  }
  const x0 = Math.max(0, rect.x);
  const x1 = Math.min(spec.width, rect.x + rect.width);
  const y0 = Math.max(0, rect.y);
  const y1 = Math.min(spec.height, rect.y + rect.height);
  if (x1 <= x0) return;
  for (let c = 0; c < spec.channelCount; c++) {
    for (let y = y0; y < y1; y++) {
      const row = c * plane + y * spec.width;
      tensor.fill(values[c], row + x0, row + x1);
    }
  }
}

function channelMeans(image: PreparedImage, spec: InputSpec): Float32Array {
  const plane = image.width * image.height;
  if (image.pixels.length !== plane * spec.channelCount) {
    throw new KryptonError(`Image '${image.path}' was not prepared for this model's ${spec.channelCount} channels`, 'argument');
  }
  const means = new Float32Array(spec.channelCount);
  for (let c = 0; c < spec.channelCount; c++) {
    let sum = 0;
    for (let i = c * plane; i < (c + 1) * plane; i++) sum += image.pixels[i];
    means[c] = sum / plane;
  }
  return means;
}
