/**
 * A DICOM file's frame (the first unless one is named) as the 8-bit gray image a viewer displays:
 * pixel data decoded (native little endian, RLE Lossless or JPEG Baseline), then rescale, VOI
 * window (or VOI LUT) and MONOCHROME1 inversion (display-lut.ts).
 */
import { createJPEGBasicOffsetTable, readEncapsulatedImageFrame, readEncapsulatedPixelDataFromFragments } from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { endianness } from 'node:os';
import sharp from 'sharp';
import { messageOf } from '../../errors.js';
import { dicomError, numberOfFrames, parseDicomFile, PIXEL_DATA_TAG, transferSyntaxUidOf } from './dicom-file.js';
import { displayLookupTable, storedValueRange } from './display-lut.js';
import type { DisplayMapping, VoiLut, VoiWindow } from './display-lut.js';
import { decodeRleFrame, decodeRleSegments } from './rle-lossless.js';
import { decodableTransferSyntaxes, transferSyntaxOf } from './transfer-syntax.js';
import type { TransferSyntax } from './transfer-syntax.js';

/** An 8-bit gray image, row-major. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
}

interface PixelLayout {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly signed: boolean;
}

const LITTLE_ENDIAN = endianness() === 'LE';
const MONOCHROME = new Set(['MONOCHROME1', 'MONOCHROME2']);
const VOI_FUNCTIONS = new Set<VoiWindow['function']>(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']);
const VOI_LUT_SEQUENCE_TAG = 'x00283010';
const LUT_DESCRIPTOR_TAG = 'x00283002';
const LUT_DATA_TAG = 'x00283006';

/**
 * Decodes frame `frame` (counted from 1) of a Part 10 file's bytes; `label` (its path) names it in
 * errors. An image of more than `maxPixels` is refused from its header, before an RLE or JPEG frame
 * is expanded.
 */
export async function decodeDicomImage(bytes: Buffer, label: string, maxPixels = Infinity, pixelsVariable = '', frame = 1): Promise<GrayImage> {
  const syntax = transferSyntaxOf(transferSyntaxUidOf(bytes, label));
  if (syntax.encoding === undefined) {
    const decodable = decodableTransferSyntaxes.map((s) => s.name).join(', ');
    throw dicomError(label, `uses the transfer syntax ${syntax.name} (${syntax.uid}), which Krypton cannot decode (it decodes ${decodable})`);
  }
  const dataSet = parseDicomFile(bytes, label);
  const layout = pixelLayout(dataSet, label);
  if (layout.rows * layout.columns > maxPixels) {
    throw dicomError(label, `is ${layout.columns}×${layout.rows} pixels, over the limit of ${maxPixels.toLocaleString('en-US')} pixels (set ${pixelsVariable} to allow more)`);
  }
  const frames = numberOfFrames(dataSet);
  if (!Number.isSafeInteger(frame) || frame < 1 || frame > frames) {
    throw dicomError(label, `has ${frames === 1 ? '1 frame' : `${frames} frames`}: frame ${frame} does not exist (frames count from 1)`);
  }
  const table = displayLookupTable(displayMapping(dataSet, layout, label));
  if (syntax.encoding === 'rle' && layout.bitsAllocated === 16) {
    // The two byte planes go straight to display values: no interleaved frame in between.
    const [high, low] = decodeRleSegments(encapsulatedFrame(dataSet, pixelData(dataSet, label), label, syntax, frame - 1, frames), { ...layout, samplesPerPixel: 1 }, label);
    return { width: layout.columns, height: layout.rows, data: lookUpPlanes(high, low, layout, table) };
  }
  const samples = await frameSamples(dataSet, layout, syntax, label, frame - 1, frames);
  return { width: layout.columns, height: layout.rows, data: lookUp(samples, layout, table) };
}

function pixelLayout(dataSet: DataSet, label: string): PixelLayout {
  const rows = dataSet.uint16('x00280010') ?? 0;
  const columns = dataSet.uint16('x00280011') ?? 0;
  if (rows === 0 || columns === 0) throw dicomError(label, `has no pixels (Rows ${rows}, Columns ${columns})`);
  const samples = dataSet.uint16('x00280002') ?? 1;
  const photometric = dataSet.string('x00280004') ?? '';
  if (samples !== 1 || !MONOCHROME.has(photometric)) {
    throw dicomError(label, `has PhotometricInterpretation ${photometric || '(none)'} with ${samples} samples per pixel; only grayscale (MONOCHROME1, MONOCHROME2) is decoded`);
  }
  const bitsAllocated = dataSet.uint16('x00280100') ?? 0;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw dicomError(label, `has ${bitsAllocated} bits allocated per pixel; 8 and 16 are decoded`);
  const bitsStored = dataSet.uint16('x00280101') ?? bitsAllocated;
  const highBit = dataSet.uint16('x00280102') ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw dicomError(label, `has inconsistent bit depths (BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit})`);
  }
  return { rows, columns, bitsAllocated, bitsStored, highBit, signed: dataSet.uint16('x00280103') === 1 };
}

function displayMapping(dataSet: DataSet, layout: PixelLayout, label: string): DisplayMapping {
  const slope = dataSet.floatString('x00281053') ?? 1;
  const intercept = dataSet.floatString('x00281052') ?? 0;
  // The first of several windows, as viewers open a study; a window with no width is no window.
  const center = dataSet.floatString('x00281050', 0);
  const width = dataSet.floatString('x00281051', 0);
  const named = (dataSet.string('x00281056') ?? 'LINEAR').toUpperCase() as VoiWindow['function'];
  const kind = VOI_FUNCTIONS.has(named) ? named : 'LINEAR';
  const usable = center !== undefined && width !== undefined && Number.isFinite(center) && (kind === 'LINEAR' ? width >= 1 : width > 0);
  return {
    stored: storedValueRange(layout.bitsStored, layout.signed),
    rescale: { slope: Number.isFinite(slope) && slope !== 0 ? slope : 1, intercept: Number.isFinite(intercept) ? intercept : 0 },
    window: usable ? { center, width, function: kind } : undefined,
    lut: usable ? undefined : voiLut(dataSet, layout.signed, label),
    invert: dataSet.string('x00280004') === 'MONOCHROME1',
  };
}

/**
 * The first item of the VOI LUT Sequence (0028,3010), used when the file has no window (PS3.3
 * C.11.2.1.1): its descriptor is (entries, 0 meaning 65536; first value mapped; bits per entry, 8
 * to 16), its data one entry per 16-bit word (8-bit entries may also come one per byte).
 */
function voiLut(dataSet: DataSet, signed: boolean, label: string): VoiLut | undefined {
  const item = dataSet.elements[VOI_LUT_SEQUENCE_TAG]?.items?.[0]?.dataSet;
  if (item === undefined) return undefined;
  const descriptor = item.elements[LUT_DESCRIPTOR_TAG];
  const data = item.elements[LUT_DATA_TAG];
  if (descriptor === undefined || data === undefined || descriptor.length < 6) {
    throw dicomError(label, 'has a VOI LUT Sequence (0028,3010) whose first item lacks a LUT Descriptor (0028,3002) or LUT Data (0028,3006)');
  }
  const entries = item.uint16(LUT_DESCRIPTOR_TAG, 0) || 65536;
  // The first value mapped is SS where the modality LUT's output may be negative, US otherwise; an implicit-VR file says so by its PixelRepresentation.
  const firstMapped = descriptor.vr === 'SS' || (descriptor.vr === undefined && signed) ? item.int16(LUT_DESCRIPTOR_TAG, 1)! : item.uint16(LUT_DESCRIPTOR_TAG, 1)!;
  const bits = item.uint16(LUT_DESCRIPTOR_TAG, 2)!;
  if (bits < 1 || bits > 16) throw dicomError(label, `has a VOI LUT of ${bits} bits per entry; 1 to 16 are allowed`);
  const available = Math.min(data.length, item.byteArray.length - data.dataOffset);
  const bytes = item.byteArray.subarray(data.dataOffset, data.dataOffset + available);
  const table = new Array<number>(entries);
  if (available >= 2 * entries) {
    for (let i = 0; i < entries; i++) table[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  } else if (bits <= 8 && available >= entries) {
    for (let i = 0; i < entries; i++) table[i] = bytes[i];
  } else {
    throw dicomError(label, `has a VOI LUT of ${entries} entries whose LUT Data (0028,3006) holds ${available} bytes`);
  }
  return { firstMapped, entries: table, bits };
}

/** Frame `index`'s (from 0) samples as a native little-endian frame holds them. */
async function frameSamples(dataSet: DataSet, layout: PixelLayout, syntax: TransferSyntax, label: string, index: number, frames: number): Promise<Uint8Array> {
  const element = pixelData(dataSet, label);
  const pixels = layout.rows * layout.columns;
  const frameBytes = (pixels * layout.bitsAllocated) / 8;
  switch (syntax.encoding) {
    case 'native': {
      // Native frames lie one after another, each of the same size.
      const available = Math.min(element.length, dataSet.byteArray.length - element.dataOffset);
      const needed = (index + 1) * frameBytes;
      if (available < needed) {
        const which = index === 0 ? `its first frame needs ${frameBytes}` : `frame ${index + 1} ends at byte ${needed}`;
        throw dicomError(label, `is truncated: its pixel data holds ${Math.max(available, 0)} bytes, ${which} (${layout.columns}×${layout.rows}, ${layout.bitsAllocated} bits)`);
      }
      const start = element.dataOffset + index * frameBytes;
      return dataSet.byteArray.subarray(start, start + frameBytes);
    }
    case 'rle': {
      const frame = encapsulatedFrame(dataSet, element, label, syntax, index, frames);
      return decodeRleFrame(frame, { ...layout, samplesPerPixel: 1 }, label);
    }
    case 'jpeg-baseline': {
      if (layout.bitsAllocated !== 8) throw dicomError(label, `declares ${layout.bitsAllocated} bits allocated, but JPEG Baseline holds 8-bit samples`);
      const frame = encapsulatedFrame(dataSet, element, label, syntax, index, frames);
      return decodeJpegFrame(frame, layout, label);
    }
    default:
      throw dicomError(label, `uses the transfer syntax ${syntax.name} (${syntax.uid}), which Krypton cannot decode`);
  }
}

function pixelData(dataSet: DataSet, label: string): Element {
  const element = dataSet.elements[PIXEL_DATA_TAG];
  if (element === undefined) throw dicomError(label, 'has no Pixel Data (7FE0,0010)');
  return element;
}

function encapsulatedFrame(dataSet: DataSet, element: Element, label: string, syntax: TransferSyntax, index: number, frames: number): Uint8Array {
  if (!element.encapsulatedPixelData || !element.fragments || element.fragments.length === 0) {
    throw dicomError(label, `declares ${syntax.name} but its pixel data is not encapsulated in fragments`);
  }
  const fragments = element.fragments.length;
  if (syntax.encoding === 'rle' && !element.basicOffsetTable?.length && fragments < frames) {
    throw dicomError(label, `is truncated or corrupt: it declares ${frames} RLE frames but holds ${fragments} fragments`);
  }
  try {
    if (frames <= 1) return readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments);
    if (element.basicOffsetTable?.length) return readEncapsulatedImageFrame(dataSet, element, index, element.basicOffsetTable);
    // Without an offset table: an RLE frame is one fragment (PS3.5 A.4.2), as is any frame when there are as many fragments as frames.
    if (syntax.encoding === 'rle' || fragments === frames) return readEncapsulatedPixelDataFromFragments(dataSet, element, index, 1);
    return readEncapsulatedImageFrame(dataSet, element, index, createJPEGBasicOffsetTable(dataSet, element));
  } catch (error) {
    throw dicomError(label, `is truncated or corrupt: its ${index === 0 ? 'first frame' : `frame ${index + 1}`} cannot be read (${messageOf(error)})`);
  }
}

async function decodeJpegFrame(frame: Uint8Array, layout: PixelLayout, label: string): Promise<Uint8Array> {
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(frame, { failOn: 'error' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw dicomError(label, `has a JPEG frame that cannot be decoded (${messageOf(error)})`);
  }
  const { width, height, channels } = decoded.info;
  if (width !== layout.columns || height !== layout.rows || channels !== 1) {
    throw dicomError(label, `has a ${width}×${height} JPEG frame with ${channels} channels where its header says ${layout.columns}×${layout.rows} gray`);
  }
  return decoded.data;
}

/**
 * Each sample's display value: its stored value (the BitsStored bits ending at HighBit) indexes
 * the table, which starts at the range's minimum. For a signed value that index is the stored bits
 * with the sign bit flipped (two's complement offset by 2^(BitsStored − 1)).
 */
function lookUp(bytes: Uint8Array, layout: PixelLayout, table: Uint8Array): Buffer {
  const count = layout.rows * layout.columns;
  const display = Buffer.allocUnsafe(count);
  const shift = layout.highBit + 1 - layout.bitsStored;
  const mask = 2 ** layout.bitsStored - 1;
  const flip = layout.signed ? 2 ** (layout.bitsStored - 1) : 0;
  if (layout.bitsAllocated === 8) {
    for (let i = 0; i < count; i++) display[i] = table[((bytes[i] >> shift) & mask) ^ flip];
  } else if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    // Aligned 16-bit samples on a little-endian machine are read as they lie, without byte shuffling.
    const samples = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) display[i] = table[((samples[i] >> shift) & mask) ^ flip];
  } else {
    for (let i = 0; i < count; i++) display[i] = table[(((bytes[2 * i] | (bytes[2 * i + 1] << 8)) >> shift) & mask) ^ flip];
  }
  return display;
}

/** lookUp for 16-bit samples held as their high and low bytes' planes (RLE segments). */
function lookUpPlanes(high: Uint8Array, low: Uint8Array, layout: PixelLayout, table: Uint8Array): Buffer {
  const count = layout.rows * layout.columns;
  const display = Buffer.allocUnsafe(count);
  const shift = layout.highBit + 1 - layout.bitsStored;
  const mask = 2 ** layout.bitsStored - 1;
  const flip = layout.signed ? 2 ** (layout.bitsStored - 1) : 0;
  for (let i = 0; i < count; i++) display[i] = table[((((high[i] << 8) | low[i]) >> shift) & mask) ^ flip];
  return display;
}
