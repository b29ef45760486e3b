/**
 * The RLE Lossless decoder of DICOM PS3.5 Annex G. A frame is a 64-byte header (the segment count,
 * then up to 15 segment offsets) followed by PackBits-coded segments: one per byte of each sample,
 * most significant byte first, each holding that byte for every pixel.
 */
import { endianness } from 'node:os';
import { KryptonError } from '../../errors.js';

export interface RleFrameShape {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
}

const HEADER_BYTES = 64;
const LITTLE_ENDIAN = endianness() === 'LE';
const MAX_SEGMENTS = 15;

/**
 * Decodes one RLE frame into its segments, one plane each (segment k holds byte k mod
 * bytesPerSample of sample ⌊k / bytesPerSample⌋ for every pixel, most significant first).
 * `label` names the file in errors.
 */
export function decodeRleSegments(frame: Uint8Array, shape: RleFrameShape, label: string): Uint8Array[] {
  const fail = (problem: string) => new KryptonError(`DICOM file '${label}' has corrupt RLE Lossless pixel data: ${problem}`, 'image');
  const bytesPerSample = shape.bitsAllocated / 8;
  const pixels = shape.rows * shape.columns;
  const expectedSegments = shape.samplesPerPixel * bytesPerSample;
  if (frame.length < HEADER_BYTES) throw fail(`the frame has ${frame.length} bytes, fewer than its 64-byte header`);
  const header = new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES);
  const segmentCount = header.getUint32(0, true);
  if (segmentCount !== expectedSegments || segmentCount > MAX_SEGMENTS) {
    throw fail(`${segmentCount} segments where ${shape.samplesPerPixel} sample(s) of ${shape.bitsAllocated} bits need ${expectedSegments}`);
  }
  const offsets: number[] = [];
  for (let s = 0; s < segmentCount; s++) offsets.push(header.getUint32(4 + 4 * s, true));
  offsets.push(frame.length);
  return offsets.slice(0, -1).map((start, segment) => {
    const end = offsets[segment + 1];
    if (start < HEADER_BYTES || end > frame.length || end < start) throw fail(`segment ${segment + 1} lies outside the frame`);
    const plane = new Uint8Array(pixels + SLACK);
    const decoded = unpackBits(frame, start, end, plane, pixels);
    if (decoded < pixels) throw fail(`segment ${segment + 1} decodes to ${decoded} bytes where the image has ${pixels} pixels`);
    return plane.subarray(0, pixels);
  });
}

/**
 * Decodes one RLE frame into the bytes a native little-endian frame holds (samples interleaved
 * pixel by pixel). `label` names the file in errors.
 */
export function decodeRleFrame(frame: Uint8Array, shape: RleFrameShape, label: string): Uint8Array {
  const planes = decodeRleSegments(frame, shape, label);
  if (planes.length === 1) return planes[0];
  const bytesPerSample = shape.bitsAllocated / 8;
  const pixels = shape.rows * shape.columns;
  const output = new Uint8Array(pixels * planes.length);
  if (planes.length === 2 && bytesPerSample === 2 && LITTLE_ENDIAN) {
    // One 16-bit gray sample per pixel (the common case): both bytes at once.
    const samples = new Uint16Array(output.buffer);
    const [high, low] = planes;
    for (let i = 0; i < pixels; i++) samples[i] = (high[i] << 8) | low[i];
    return output;
  }
  planes.forEach((plane, segment) => {
    const sample = Math.floor(segment / bytesPerSample);
    const at = sample * bytesPerSample + (bytesPerSample - 1 - (segment % bytesPerSample));
    for (let i = 0, o = at; i < pixels; i++, o += planes.length) output[o] = plane[i];
  });
  return output;
}

/**
 * Bytes a plane holds beyond its pixels: short runs are written eight bytes at a time, without a
 * loop (X-ray segments are mostly runs of one to eight bytes, where a loop's exit costs more than
 * the copy), so a run at the end may spill up to eight bytes, or a whole run, past the pixels.
 */
const SLACK = 136;

/**
 * PackBits: a header byte n ≥ 0 copies the next n + 1 bytes, −127 ≤ n ≤ −1 repeats the next byte
 * 1 − n times, −128 does nothing. Decodes input[start, end) into `output` (which has SLACK bytes
 * beyond `count`) and returns how many of the `count` bytes it wrote (a segment may end with a
 * padding byte beyond the image).
 */
function unpackBits(input: Uint8Array, start: number, end: number, output: Uint8Array, count: number): number {
  let read = start;
  let written = 0;
  while (written < count && read < end) {
    const header = input[read++];
    if (header < 128) {
      const length = Math.min(header + 1, end - read);
      if (length <= 8 && read + 8 <= end) {
        output[written] = input[read];
        output[written + 1] = input[read + 1];
        output[written + 2] = input[read + 2];
        output[written + 3] = input[read + 3];
        output[written + 4] = input[read + 4];
        output[written + 5] = input[read + 5];
        output[written + 6] = input[read + 6];
        output[written + 7] = input[read + 7];
      } else {
        // A subarray for set() costs more than copying a run of at most 128 bytes.
        for (let i = 0; i < length; i++) output[written + i] = input[read + i];
      }
      written += length;
      read += length;
    } else if (header > 128) {
      if (read >= end) break;
      const value = input[read++];
      const length = 257 - header;
      output[written] = value;
      output[written + 1] = value;
      output[written + 2] = value;
      output[written + 3] = value;
      output[written + 4] = value;
      output[written + 5] = value;
      output[written + 6] = value;
      output[written + 7] = value;
      if (length > 8) output.fill(value, written + 8, written + length);
      written += length;
    }
  }
  return Math.min(written, count);
}
