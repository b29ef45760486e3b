/** Recognising and parsing DICOM Part 10 files with dicom-parser, with errors that name the file. */
import { parseDicom, readPart10Header } from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { KryptonError, messageOf } from '../../errors.js';

/** A Part 10 file starts with a 128-byte preamble and then the four letters DICM. */
const PREAMBLE_BYTES = 128;
const MARKER = 'DICM';

export const PIXEL_DATA_TAG = 'x7fe00010';

/** True for bytes that carry the DICM marker after the 128-byte preamble. */
export function hasDicomMarker(bytes: Uint8Array): boolean {
  if (bytes.length < PREAMBLE_BYTES + MARKER.length) return false;
  for (let i = 0; i < MARKER.length; i++) if (bytes[PREAMBLE_BYTES + i] !== MARKER.charCodeAt(i)) return false;
  return true;
}

/** A file named like DICOM (.dcm, .dicom) is read as DICOM even without its marker, to say what is wrong with it. */
export function isDicomName(path: string): boolean {
  return /\.(dcm|dicom)$/i.test(path);
}

export function dicomError(label: string, problem: string): KryptonError {
  return new KryptonError(`DICOM file '${label}' ${problem}`, 'image');
}

/**
 * The file's data set: the whole file, or with `headerOnly` everything before the pixel data
 * (which is then not read at all).
 */
export function parseDicomFile(bytes: Uint8Array, label: string, { headerOnly = false } = {}): DataSet {
  requireMarker(bytes, label);
  return parsing(label, () => parseDicom(bytes, headerOnly ? { untilTag: PIXEL_DATA_TAG } : {}));
}

/** NumberOfFrames (0028,0008); a file without it (or with a value below 1) holds one frame. */
export function numberOfFrames(dataSet: DataSet): number {
  const frames = dataSet.intString('x00280008');
  return frames !== undefined && Number.isSafeInteger(frames) && frames >= 1 ? frames : 1;
}

/** The Transfer Syntax UID of the file meta information, read before the data set is parsed. */
export function transferSyntaxUidOf(bytes: Uint8Array, label: string): string {
  requireMarker(bytes, label);
  const meta = parsing(label, () => readPart10Header(bytes));
  const uid = meta.string('x00020010');
  if (!uid) throw dicomError(label, 'has no Transfer Syntax UID (0002,0010) in its file meta information');
  return uid;
}

function requireMarker(bytes: Uint8Array, label: string): void {
  if (hasDicomMarker(bytes)) return;
  throw dicomError(label, bytes.length < PREAMBLE_BYTES + MARKER.length
    ? `is too short to be DICOM (${bytes.length} bytes, fewer than the 128-byte preamble and the DICM marker)`
    : 'has no DICM marker after its 128-byte preamble: it is not a DICOM Part 10 file');
}

function parsing(label: string, parse: () => DataSet): DataSet {
  try {
    return parse();
  } catch (error) {
    // dicom-parser throws strings as well as Errors, some wrapped with the partial data set.
    const cause = typeof error === 'object' && error !== null && 'exception' in error ? (error as { exception: unknown }).exception : error;
    throw dicomError(label, `is truncated or corrupt (${messageOf(cause).replace(/^[\w.]+: /, '')})`);
  }
}
