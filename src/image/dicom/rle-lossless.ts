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
 * Decodes one RLE frame into the bytes a native little-endian frame holds (samples interleaved
 * pixel by pixel). `label` names the file in errors.
 */
export function decodeRleFrame(frame: Uint8Array, shape: RleFrameShape, label: string): Uint8Array {
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

  const planes = offsets.slice(0, -1).map((start, segment) => {
    const end = offsets[segment + 1];
    if (start < HEADER_BYTES || end > frame.length || end < start) throw fail(`segment ${segment + 1} lies outside the frame`);
    const plane = new Uint8Array(pixels);
    const decoded = unpackBits(frame.subarray(start, end), plane);
    if (decoded < pixels) throw fail(`segment ${segment + 1} decodes to ${decoded} bytes where the image has ${pixels} pixels`);
    return plane;
  });

  const output = new Uint8Array(pixels * expectedSegments);
  if (expectedSegments === 2 && LITTLE_ENDIAN) {
    // One 16-bit gray sample per pixel (the common case): both bytes at once.
    const samples = new Uint16Array(output.buffer);
    const [high, low] = planes;
    for (let i = 0; i < pixels; i++) samples[i] = (high[i] << 8) | low[i];
    return output;
  }
  planes.forEach((plane, segment) => {
    // Segment k holds byte (k mod bytesPerSample) of sample ⌊k / bytesPerSample⌋, most significant first.
    const sample = Math.floor(segment / bytesPerSample);
    const at = sample * bytesPerSample + (bytesPerSample - 1 - (segment % bytesPerSample));
    for (let i = 0, o = at; i < pixels; i++, o += expectedSegments) output[o] = plane[i];
  });
  return output;
}

/**
 * PackBits: a header byte n ≥ 0 copies the next n + 1 bytes, −127 ≤ n ≤ −1 repeats the next byte
 * 1 − n times, −128 does nothing. Fills `output` at most and returns how many bytes it wrote (a
 * segment may end with a padding byte beyond the image).
 */
/** Runs up to this long are copied byte by byte: X-ray segments are mostly short runs, for which set/fill cost more than they save. */
const LONG_RUN = 24;

function unpackBits(input: Uint8Array, output: Uint8Array): number {
  const inputEnd = input.length;
  const outputEnd = output.length;
  let read = 0;
  let written = 0;
  while (read < inputEnd && written < outputEnd) {
    const header = input[read++];
    if (header < 128) {
      const count = Math.min(header + 1, outputEnd - written, inputEnd - read);
      if (count > LONG_RUN) {
        output.set(input.subarray(read, read + count), written);
        written += count;
        read += count;
      } else {
        for (const stop = written + count; written < stop; ) output[written++] = input[read++];
      }
    } else if (header > 128) {
      if (read >= inputEnd) break;
      const value = input[read++];
      const count = Math.min(257 - header, outputEnd - written);
      if (count > LONG_RUN) {
        output.fill(value, written, written + count);
        written += count;
      } else {
        for (const stop = written + count; written < stop; ) output[written++] = value;
      }
    }
  }
  return written;
}
