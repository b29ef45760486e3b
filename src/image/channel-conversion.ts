import type { InputSpec } from './input-spec.js';

/** ITU-R BT.601 luma weights: what PIL's convert('L') and OpenCV's RGB2GRAY use. */
export const LUMA_WEIGHTS = Object.freeze({ r: 0.299, g: 0.587, b: 0.114 });

/** Gray value of an RGB pixel (any scale); exact for gray pixels, so gray images round-trip unchanged. */
export function luma(r: number, g: number, b: number): number {
  if (r === g && g === b) return r;
  return LUMA_WEIGHTS.r * r + LUMA_WEIGHTS.g * g + LUMA_WEIGHTS.b * b;
}

/**
 * One RGB pixel (0–255) as the model's channels, each rounded to float32 exactly as
 * PreparedImage.pixels stores it.
 */
export function rgbToModelChannels(r: number, g: number, b: number, spec: InputSpec): Float32Array {
  const out = new Float32Array(spec.channelCount);
  if (spec.channels === 'gray') out.fill(luma(r, g, b));
  else if (spec.channels === 'bgr') out.set([b, g, r]);
  else out.set([r, g, b]);
  return out;
}
