import type { RegionSet } from '../model/regions.js';

/**
 * The data movement of incremental inference: cutting read-in windows out of a clean activation
 * with each position's changed region pasted over it, and pasting changed regions into full
 * copies. Tensors are float32, NCHW; a clean activation is one image [C, H, W], changed data is
 * [B, C, h, w] laid out as its RegionSet says.
 */

export interface TensorSize {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Where each position's crop starts in input coordinates (may be negative: padding). */
export interface CropGeometry {
  readonly height: number;
  readonly width: number;
  readonly tops: ArrayLike<number>;
  readonly lefts: ArrayLike<number>;
}

export interface ChangedData {
  readonly data: Float32Array;
  readonly region: RegionSet;
}

/**
 * [B, C, crop.height, crop.width]: the clean activation under each crop (padValue outside the
 * tensor), with the changed region of that position on top.
 */
export function gatherCrops(clean: Float32Array, size: TensorSize, changed: ChangedData | undefined, crop: CropGeometry, padValue: number): Float32Array {
  const { channels, height: H, width: W } = size;
  const cropH = crop.height;
  const cropW = crop.width;
  const batch = crop.tops.length;
  const out = new Float32Array(batch * channels * cropH * cropW);
  const changedData = changed?.data;
  const changedH = changed?.region.height ?? 0;
  const changedW = changed?.region.width ?? 0;
  for (let b = 0; b < batch; b++) {
    const top = crop.tops[b];
    const left = crop.lefts[b];
    // Columns of the crop that fall inside the tensor.
    const x0 = Math.max(0, -left);
    const x1 = Math.min(cropW, W - left);
    // The changed region in crop coordinates, clipped to the crop: each element is written once.
    const changedTop = changed ? changed.region.tops[b] - top : 0;
    const changedLeft = changed ? changed.region.lefts[b] - left : 0;
    let r0 = Math.max(0, changedTop);
    const r1 = Math.min(cropH, changedTop + changedH);
    const c0 = Math.max(0, changedLeft);
    const c1 = Math.min(cropW, changedLeft + changedW);
    if (c1 <= c0) r0 = r1;
    for (let c = 0; c < channels; c++) {
      const src = c * H * W;
      const changedBase = ((b * channels + c) * changedH - changedTop) * changedW - changedLeft;
      let dst = ((b * channels + c) * cropH) * cropW;
      for (let r = 0; r < cropH; r++, dst += cropW) {
        const y = top + r;
        if (y < 0 || y >= H || x1 <= x0) {
          out.fill(padValue, dst, dst + cropW);
          continue;
        }
        for (let x = 0; x < x0; x++) out[dst + x] = padValue;
        for (let x = x1; x < cropW; x++) out[dst + x] = padValue;
        const cleanRow = src + y * W + left;
        if (r >= r0 && r < r1) {
          const changedRow = changedBase + r * changedW;
          for (let x = x0; x < c0; x++) out[dst + x] = clean[cleanRow + x];
          for (let x = c0; x < c1; x++) out[dst + x] = changedData![changedRow + x];
          for (let x = Math.max(c1, x0); x < x1; x++) out[dst + x] = clean[cleanRow + x];
        } else {
          for (let x = x0; x < x1; x++) out[dst + x] = clean[cleanRow + x];
        }
      }
    }
  }
  return out;
}

/** Whether every position's crop is exactly its changed region, so the changed data is the crop. */
export function cropIsChangedRegion(crop: CropGeometry, changed: RegionSet): boolean {
  if (crop.height !== changed.height || crop.width !== changed.width) return false;
  for (let b = 0; b < crop.tops.length; b++) {
    if (crop.tops[b] !== changed.tops[b] || crop.lefts[b] !== changed.lefts[b]) return false;
  }
  return true;
}

/** [B, C, H, W]: the clean activation for every position with its changed region pasted in. */
export function expandToFull(clean: Float32Array, size: TensorSize, changed: ChangedData): Float32Array {
  const batch = changed.region.tops.length;
  const per = size.channels * size.height * size.width;
  const out = new Float32Array(batch * per);
  for (let b = 0; b < batch; b++) {
    out.set(clean, b * per);
    pasteInto(out, b, size.channels, size.height, size.width, 0, 0, changed, b);
  }
  return out;
}

/** Copies position p's changed region into item b of `out`, a [B, C, outH, outW] tensor whose (0, 0) sits at (top, left). */
function pasteInto(
  out: Float32Array, b: number, channels: number, outH: number, outW: number, top: number, left: number,
  changed: ChangedData, p: number,
): void {
  const { height: h, width: w } = changed.region;
  const changedTop = changed.region.tops[p] - top;
  const changedLeft = changed.region.lefts[p] - left;
  const r0 = Math.max(0, -changedTop);
  const r1 = Math.min(h, outH - changedTop);
  const c0 = Math.max(0, -changedLeft);
  const c1 = Math.min(w, outW - changedLeft);
  if (r1 <= r0 || c1 <= c0) return;
  const data = changed.data;
  for (let c = 0; c < channels; c++) {
    const srcBase = ((p * channels + c) * h) * w;
    const dstBase = ((b * channels + c) * outH) * outW;
    for (let r = r0; r < r1; r++) {
      const src = srcBase + r * w;
      const dst = dstBase + (changedTop + r) * outW + changedLeft;
      for (let x = c0; x < c1; x++) out[dst + x] = data[src + x];
    }
  }
}

/** [B, C, h, w] filled with one value per channel: the occlusion patch in model space. */
export function patchTensor(values: Float32Array, batch: number, height: number, width: number): Float32Array {
  const channels = values.length;
  const area = height * width;
  const out = new Float32Array(batch * channels * area);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) out.fill(values[c], (b * channels + c) * area, (b * channels + c + 1) * area);
  }
  return out;
}
