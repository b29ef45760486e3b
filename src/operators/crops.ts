import type { RegionSet } from '../model/regions.js';

/**
 * The data movement of incremental inference: cutting read-in windows out of a clean activation
 * with each position's changed region pasted over it, and pasting changed regions into full
 * copies.
 *
 * Everything here is channels-last (NHWC): a clean activation is one image [H, W, C], changed data
 * is [B, h, w, C] laid out as its RegionSet says. A row of a crop is then one contiguous run of
 * width × C floats, copied in a single native call, where channels-first would need one short
 * copy per channel and row. The segment models transpose at their edges, which onnxruntime folds
 * into the layout conversion it does for convolutions anyway.
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
 * A reusable buffer's first `length` floats, or a new array. Every function here writes every
 * element of its output, so a reused buffer needs no clearing.
 */
function outputBuffer(into: Float32Array | undefined, length: number): Float32Array {
  if (!into) return new Float32Array(length);
  if (into.length < length) throw new Error(`buffer of ${into.length} floats cannot hold ${length}`);
  return into.length === length ? into : into.subarray(0, length);
}

/**
 * [B, crop.height, crop.width, C]: the clean activation under each crop (padValue outside the
 * tensor), with the changed region of that position on top.
 */
export function gatherCrops(
  clean: Float32Array, size: TensorSize, changed: ChangedData | undefined, crop: CropGeometry, padValue: number,
  into?: Float32Array,
): Float32Array {
  const { channels: C, height: H, width: W } = size;
  const cropH = crop.height;
  const cropW = crop.width;
  const batch = crop.tops.length;
  const rowFloats = cropW * C;
  const out = outputBuffer(into, batch * cropH * rowFloats);
  for (let b = 0; b < batch; b++) {
    const top = crop.tops[b];
    const left = crop.lefts[b];
    // Columns of the crop inside the tensor, [x0, x1).
    const x0 = Math.max(0, -left);
    const x1 = Math.min(cropW, W - left);
    let dst = b * cropH * rowFloats;
    for (let r = 0; r < cropH; r++, dst += rowFloats) {
      const y = top + r;
      if (y < 0 || y >= H || x1 <= x0) {
        out.fill(padValue, dst, dst + rowFloats);
        continue;
      }
      if (x0 > 0) out.fill(padValue, dst, dst + x0 * C);
      if (x1 < cropW) out.fill(padValue, dst + x1 * C, dst + rowFloats);
      const src = (y * W + left + x0) * C;
      out.set(clean.subarray(src, src + (x1 - x0) * C), dst + x0 * C);
    }
    if (changed) pasteInto(out, b, cropH, cropW, C, top, left, changed, b);
  }
  return out;
}

/** [B, H, W, C]: the clean activation for every position with its changed region pasted in. */
export function expandToFull(clean: Float32Array, size: TensorSize, changed: ChangedData, into?: Float32Array): Float32Array {
  const batch = changed.region.tops.length;
  const per = size.channels * size.height * size.width;
  const out = outputBuffer(into, batch * per);
  for (let b = 0; b < batch; b++) {
    out.set(clean, b * per);
    pasteInto(out, b, size.height, size.width, size.channels, 0, 0, changed, b);
  }
  return out;
}

/** Copies position p's changed region into item b of `out`, a [B, outH, outW, C] tensor whose (0, 0) sits at (top, left). */
function pasteInto(
  out: Float32Array, b: number, outH: number, outW: number, C: number, top: number, left: number,
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
  const runFloats = (c1 - c0) * C;
  for (let r = r0; r < r1; r++) {
    const src = ((p * h + r) * w + c0) * C;
    const dst = ((b * outH + changedTop + r) * outW + changedLeft + c0) * C;
    out.set(data.subarray(src, src + runFloats), dst);
  }
}

/** Whether every position's crop is exactly its changed region, so the changed data is the crop. */
export function cropIsChangedRegion(crop: CropGeometry, changed: RegionSet): boolean {
  if (crop.height !== changed.height || crop.width !== changed.width) return false;
  for (let b = 0; b < crop.tops.length; b++) {
    if (crop.tops[b] !== changed.tops[b] || crop.lefts[b] !== changed.lefts[b]) return false;
  }
  return true;
}

/** [B, h, w, C] filled with one value per channel: the occlusion patch in model space. */
export function patchTensor(values: Float32Array, batch: number, height: number, width: number): Float32Array {
  const C = values.length;
  const out = new Float32Array(batch * height * width * C);
  for (let i = 0; i < out.length; i += C) out.set(values, i);
  return out;
}

/** [C, H, W] → [H, W, C]. */
export function toChannelsLast(data: Float32Array, size: TensorSize): Float32Array {
  const { channels: C, height: H, width: W } = size;
  const out = new Float32Array(data.length);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H * W; i++) out[i * C + c] = data[c * H * W + i];
  }
  return out;
}
