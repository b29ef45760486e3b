/**
 * Stored pixel values to the 8-bit gray a viewer shows, as DICOM PS3.3 C.11 orders it: the
 * modality LUT (RescaleSlope, RescaleIntercept), then the VOI window (C.11.2.1.2) or VOI LUT
 * (C.11.2.1.1), then MONOCHROME1's inversion (white is zero). Computed once per stored value as a
 * lookup table.
 */

export interface StoredValueRange {
  /** The smallest and largest values BitsStored and PixelRepresentation allow. */
  readonly min: number;
  readonly max: number;
}

export interface Rescale {
  readonly slope: number;
  readonly intercept: number;
}

export interface VoiWindow {
  readonly center: number;
  readonly width: number;
  /** VOILUTFunction (0028,1056); LINEAR when absent. */
  readonly function: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
}

/** The first item of a VOI LUT Sequence (0028,3010): LUT Descriptor (0028,3002) and LUT Data (0028,3006). */
export interface VoiLut {
  /** The modality LUT's output value that the first entry maps; lower values take the first entry. */
  readonly firstMapped: number;
  /** The entries, in order; values past the last take the last entry. */
  readonly entries: ArrayLike<number>;
  /** Bits per entry (the descriptor's third value): entries range over 0 … 2^bits − 1. */
  readonly bits: number;
}

export interface DisplayMapping {
  readonly stored: StoredValueRange;
  readonly rescale: Rescale;
  /** The VOI window; without one, the VOI LUT; without either, the full range of the stored values (after rescale) maps onto 0–255. */
  readonly window?: VoiWindow;
  readonly lut?: VoiLut;
  readonly invert: boolean;
}

const Y_MAX = 255;

export function storedValueRange(bitsStored: number, signed: boolean): StoredValueRange {
  return signed ? { min: -(2 ** (bitsStored - 1)), max: 2 ** (bitsStored - 1) - 1 } : { min: 0, max: 2 ** bitsStored - 1 };
}

/** display[stored − range.min] for every stored value of the range. */
export function displayLookupTable(mapping: DisplayMapping): Uint8Array {
  const { stored, rescale, window, lut, invert } = mapping;
  const voi = window ? windowFunction(window) : lut ? lutFunction(lut) : fullRangeFunction(mapping);
  const table = new Uint8Array(stored.max - stored.min + 1);
  for (let value = stored.min; value <= stored.max; value++) {
    const shown = Math.round(voi(value * rescale.slope + rescale.intercept));
    table[value - stored.min] = invert ? Y_MAX - shown : shown;
  }
  return table;
}

/** The VOI window functions of PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT) and C.11.2.1.3.1 (SIGMOID). */
function windowFunction({ center: c, width: w, function: kind }: VoiWindow): (x: number) => number {
  switch (kind) {
    case 'LINEAR': {
      const low = c - 0.5 - (w - 1) / 2;
      const high = c - 0.5 + (w - 1) / 2;
      return (x) => (x <= low ? 0 : x > high ? Y_MAX : ((x - (c - 0.5)) / (w - 1) + 0.5) * Y_MAX);
    }
    case 'LINEAR_EXACT': {
      const low = c - w / 2;
      const high = c + w / 2;
      return (x) => (x <= low ? 0 : x > high ? Y_MAX : ((x - c) / w + 0.5) * Y_MAX);
    }
    case 'SIGMOID':
      return (x) => Y_MAX / (1 + Math.exp(-4 * ((x - c) / w)));
  }
}

/** PS3.3 C.11.2.1.1: the entry at (x − first mapped), clamped to the table, scaled from its bits to 0–255. */
function lutFunction({ firstMapped, entries, bits }: VoiLut): (x: number) => number {
  const last = entries.length - 1;
  const scale = Y_MAX / (2 ** bits - 1);
  return (x) => {
    const index = Math.floor(x - firstMapped);
    return Math.min(Y_MAX, entries[index < 0 ? 0 : index > last ? last : index] * scale);
  };
}

function fullRangeFunction({ stored, rescale }: DisplayMapping): (x: number) => number {
  const ends = [stored.min * rescale.slope + rescale.intercept, stored.max * rescale.slope + rescale.intercept];
  const low = Math.min(...ends);
  const span = Math.max(...ends) - low;
  return span === 0 ? () => 0 : (x) => ((x - low) / span) * Y_MAX;
}
