import { KryptonError } from '../errors.js';
import { imageFileCap, readRegularFile } from '../io/read-regular-file.js';
import { luma } from './channel-conversion.js';
import { decodeAndResize, imageError } from './decode-image.js';
import type { DecodedImage } from './decode-image.js';
import { normalizePixelValue, validateInputSpec } from './input-spec.js';
import type { InputSpec } from './input-spec.js';

/** An image resized for one model, in the three forms the engine needs. */
export interface PreparedImage {
  /** The file it came from, or the label of an in-memory image. */
  path: string;
  /** = the spec's size: the model-input image. */
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
  /** [C, H, W] in the model's channel order, pixel space 0–255, after resize (before scale/normalisation). */
  pixels: Float32Array;
  /** [C, H, W] the model input: scaled and normalised. */
  tensor: Float32Array;
  /** [H, W, 3] RGB 8-bit of the resized image (in its own colours), for rendering overlays. */
  display: Uint8Array;
}

/**
 * Reads, decodes, resizes and normalises an image file for the model described by `spec`; `frame`
 * (from 1) picks a frame of a multi-frame DICOM file.
 */
export async function prepareImage(path: string, spec: InputSpec, frame = 1): Promise<PreparedImage> {
  validateInputSpec(spec);
  const bytes = await readRegularFile(path, imageFileCap(), ({ problem }) => imageError(path, problem));
  return prepareImageFromBuffer(bytes, spec, path, frame);
}

/** Like prepareImage for an encoded image already in memory; `label` names it in errors and results. */
export async function prepareImageFromBuffer(bytes: Buffer, spec: InputSpec, label = '<buffer>', frame = 1): Promise<PreparedImage> {
  validateInputSpec(spec);
  const decoded = await decodeAndResize(bytes, label, spec.width, spec.height, spec.resize, frame);
  const pixels = toModelPixels(decoded, spec);
  return {
    path: label,
    width: decoded.width,
    height: decoded.height,
    sourceWidth: decoded.sourceWidth,
    sourceHeight: decoded.sourceHeight,
    pixels,
    tensor: normalizePixels(pixels, spec),
    display: toDisplay(decoded),
  };
}

/** Pixel-space [C, H, W] (0–255) to the model's input: scaled and normalised per channel. */
export function normalizePixels(pixels: Float32Array, spec: InputSpec): Float32Array {
  const plane = spec.width * spec.height;
  if (pixels.length !== plane * spec.channelCount) {
    throw new KryptonError(`Pixel array has ${pixels.length} values; the spec needs ${plane * spec.channelCount}`, 'argument');
  }
  const tensor = new Float32Array(pixels.length);
  for (let c = 0; c < spec.channelCount; c++) {
    for (let i = c * plane; i < (c + 1) * plane; i++) tensor[i] = normalizePixelValue(pixels[i], c, spec);
  }
  return tensor;
}

/** Interleaved gray/RGB to planar model channels: gray is copied, RGB becomes luma or is reordered. */
function toModelPixels(image: DecodedImage, spec: InputSpec): Float32Array {
  const plane = image.width * image.height;
  const pixels = new Float32Array(plane * spec.channelCount);
  const { values } = image;
  if (image.channels === 1) {
    for (let c = 0; c < spec.channelCount; c++) pixels.set(values, c * plane);
    return pixels;
  }
  if (spec.channels === 'gray') {
    for (let i = 0; i < plane; i++) pixels[i] = luma(values[3 * i], values[3 * i + 1], values[3 * i + 2]);
    for (let c = 1; c < spec.channelCount; c++) pixels.copyWithin(c * plane, 0, plane);
    return pixels;
  }
  const order = spec.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const source = order[c];
    for (let i = 0; i < plane; i++) pixels[c * plane + i] = values[3 * i + source];
  }
  return pixels;
}

function toDisplay(image: DecodedImage): Uint8Array {
  const plane = image.width * image.height;
  const display = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const value = image.values[image.channels === 1 ? i : 3 * i + c];
      display[3 * i + c] = Math.round(value);
    }
  }
  return display;
}
