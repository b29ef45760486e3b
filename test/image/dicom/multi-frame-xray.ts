/**
 * A multi-frame DICOM file made of three Hannover X-rays, each frame with a PNG of exactly what it
 * shows: frame 2 is 9a9b2393 whole (640×524), frames 1 and 3 the top 524 rows of 7afaaccc and
 * c0f74558 (every source is 16-bit, 12 bits stored, MONOCHROME2, window 2048/4096, no rescale).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDicom } from 'dicom-parser';
import sharp from 'sharp';
import { IMAGES } from '../image-fixtures.js';
import { UIDS, grayImageElements, writeDicom } from './dicom-writer.js';
import type { DicomElement } from './dicom-writer.js';

const DICOM_DIR = join(IMAGES, 'chest-xray-hannover-dicom');
const PNG_DIR = join(IMAGES, 'chest-xray-hannover/png');
const ROWS = 524;
const COLUMNS = 640;
export const FRAME_SOURCES = ['7afaaccc', '9a9b2393', 'c0f74558'] as const;

export interface MultiFrameXray {
  /** The multi-frame file, Explicit VR Little Endian. */
  readonly path: string;
  /** pngs[i]: the displayed image of frame i + 1, as a PNG. */
  readonly pngs: readonly string[];
}

/** The first `rows` rows of a file's native 16-bit pixel data. */
function nativeRows(name: string, rows: number): Uint8Array {
  const bytes = readFileSync(join(DICOM_DIR, `${name}.dcm`));
  const pixels = parseDicom(bytes).elements.x7fe00010;
  return bytes.subarray(pixels.dataOffset, pixels.dataOffset + rows * COLUMNS * 2);
}

export function multiFrameElements(frames: number, extra: readonly DicomElement[] = []): DicomElement[] {
  return grayImageElements({
    rows: ROWS, columns: COLUMNS, bitsAllocated: 16, bitsStored: 12, frames,
    extra: [
      { tag: [0x0028, 0x1050], vr: 'DS', value: '2048' },
      { tag: [0x0028, 0x1051], vr: 'DS', value: '4096' },
      { tag: [0x0008, 0x0060], vr: 'CS', value: 'DX' },
      ...extra,
    ],
  });
}

/** Writes the file and its frames' PNGs into `folder`. */
export async function writeMultiFrameXray(folder: string, name = 'series.dcm'): Promise<MultiFrameXray> {
  const path = join(folder, name);
  const native = Buffer.concat(FRAME_SOURCES.map((source) => nativeRows(source, ROWS)));
  writeFileSync(path, writeDicom({ transferSyntax: UIDS.explicit, elements: multiFrameElements(FRAME_SOURCES.length), pixels: { native } }));
  const pngs: string[] = [];
  for (const source of FRAME_SOURCES) {
    const png = join(folder, `${source}-top.png`);
    await sharp(join(PNG_DIR, `${source}.png`)).extract({ left: 0, top: 0, width: COLUMNS, height: ROWS }).png().toFile(png);
    pngs.push(png);
  }
  return { path, pngs };
}
