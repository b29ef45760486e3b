/**
 * A DICOM file's tags as one row: the attributes users filter on as typed columns, every other
 * attribute in a JSON object keyed by keyword (or 'GGGGEEEE'). Only the header is read: parsing
 * stops at the pixel data, and the file is read in growing chunks until the header fits.
 */
import type { DataSet, Element } from 'dicom-parser';
import { KryptonError, messageOf } from '../../errors.js';
import { imageFileCap, openRegularFile } from '../../io/read-regular-file.js';
import { numberOfFrames, parseDicomFile, PIXEL_DATA_TAG } from './dicom-file.js';
import { dictionaryEntry, parserTagOf, tagKey } from './dictionary.js';

export type TagColumnType = 'VARCHAR' | 'INTEGER' | 'DATE' | 'DOUBLE[]';

export interface TagColumn {
  /** The attribute's keyword, which is also the column's name. */
  readonly name: string;
  readonly type: TagColumnType;
}

/** The typed columns, in table order. */
export const TAG_COLUMNS: readonly TagColumn[] = [
  { name: 'PatientID', type: 'VARCHAR' },
  { name: 'PatientSex', type: 'VARCHAR' },
  { name: 'PatientAge', type: 'VARCHAR' },
  { name: 'StudyDate', type: 'DATE' },
  { name: 'StudyInstanceUID', type: 'VARCHAR' },
  { name: 'SeriesInstanceUID', type: 'VARCHAR' },
  { name: 'SOPInstanceUID', type: 'VARCHAR' },
  { name: 'Modality', type: 'VARCHAR' },
  { name: 'ViewPosition', type: 'VARCHAR' },
  { name: 'BodyPartExamined', type: 'VARCHAR' },
  { name: 'Rows', type: 'INTEGER' },
  { name: 'Columns', type: 'INTEGER' },
  { name: 'PhotometricInterpretation', type: 'VARCHAR' },
  { name: 'TransferSyntaxUID', type: 'VARCHAR' },
  { name: 'PixelSpacing', type: 'DOUBLE[]' },
  { name: 'Manufacturer', type: 'VARCHAR' },
  { name: 'ImageComments', type: 'VARCHAR' },
];

export type TagValue = string | number | Date | number[] | null;

export interface DicomTags {
  /** One value per TAG_COLUMNS entry, by name; null where the file lacks the attribute. */
  readonly columns: Readonly<Record<string, TagValue>>;
  /** NumberOfFrames: the frames an OCCLUDE can name, 1 for a file without the attribute. */
  readonly numberOfFrames: number;
  /** Every other attribute (binary values and pixel data left out). */
  readonly other: Readonly<Record<string, unknown>>;
}

const COLUMN_TAGS = new Set([...TAG_COLUMNS.map((c) => parserTagOf(c.name)), parserTagOf('NumberOfFrames')]);
const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DT', 'LO', 'PN', 'SH', 'TM', 'UC', 'UI', 'UR']);
const UNSPLIT_TEXT_VRS = new Set(['LT', 'ST', 'UT']);
const NUMBER_STRING_VRS = new Set(['DS', 'IS']);
const BINARY_NUMBERS: Record<string, { size: number; read: (view: DataView, at: number) => number }> = {
  US: { size: 2, read: (v, at) => v.getUint16(at, true) },
  SS: { size: 2, read: (v, at) => v.getInt16(at, true) },
  UL: { size: 4, read: (v, at) => v.getUint32(at, true) },
  SL: { size: 4, read: (v, at) => v.getInt32(at, true) },
  FL: { size: 4, read: (v, at) => v.getFloat32(at, true) },
  FD: { size: 8, read: (v, at) => v.getFloat64(at, true) },
};
/** Sequences nest; deeper items are left out of the JSON. */
const MAX_SEQUENCE_DEPTH = 3;
const FIRST_CHUNK_BYTES = 64 * 1024;
/** A header larger than this is not a header anyone means: the file is refused rather than read whole. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * Reads the file's header (not its pixel data) and returns its tags: a first chunk, and larger
 * ones (up to the whole file) while the header runs past the chunk's end.
 */
export async function readDicomTags(path: string): Promise<DicomTags> {
  // Regular files only (a FIFO would hang the open), under the image size cap.
  const { handle: file, size } = await openRegularFile(path, imageFileCap(), ({ problem }) => new KryptonError(`DICOM file '${path}' ${problem}`, 'image'));
  const stats = { size };
  try {
    for (let length = Math.min(stats.size, FIRST_CHUNK_BYTES); ; length = Math.min(stats.size, length * 4)) {
      if (length > MAX_HEADER_BYTES) throw new KryptonError(`DICOM file '${path}' has no pixel data in its first ${MAX_HEADER_BYTES / 2 ** 20} MiB: its header is too large to load`, 'image');
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(buffer, 0, length, 0);
      const whole = bytesRead >= stats.size;
      try {
        return dicomTagsOf(buffer.subarray(0, bytesRead), path, whole);
      } catch (error) {
        if (whole || !(error instanceof KryptonError || error instanceof HeaderIncomplete)) throw error;
      }
    }
  } catch (error) {
    if (error instanceof KryptonError) throw error;
    throw new KryptonError(`DICOM file '${path}' cannot be read (${messageOf(error)})`, 'image');
  } finally {
    await file.close();
  }
}

/** The tags of a file's bytes; `whole` is false when `bytes` is only the file's beginning. */
export function dicomTagsOf(bytes: Uint8Array, label: string, whole = true): DicomTags {
  const dataSet = parseDicomFile(bytes, label, { headerOnly: true });
  if (!whole && dataSet.elements[PIXEL_DATA_TAG] === undefined) throw new HeaderIncomplete();
  const decoder = textDecoderFor(dataSet);
  const columns: Record<string, TagValue> = {};
  for (const column of TAG_COLUMNS) columns[column.name] = columnValue(dataSet, column, decoder);
  return { columns, numberOfFrames: numberOfFrames(dataSet), other: attributes(dataSet, decoder, 0, COLUMN_TAGS) };
}

/** A chunk ended before the pixel data: the header may go on. */
class HeaderIncomplete extends Error {}

function textDecoderFor(dataSet: DataSet): TextDecoder {
  const charset = dataSet.string('x00080005') ?? '';
  return new TextDecoder(/ISO_IR 192/.test(charset) ? 'utf-8' : 'latin1');
}

function columnValue(dataSet: DataSet, column: TagColumn, decoder: TextDecoder): TagValue {
  const tag = parserTagOf(column.name);
  const element = dataSet.elements[tag];
  if (element === undefined || element.length === 0) return null;
  switch (column.type) {
    case 'VARCHAR': {
      const value = elementValue(dataSet, element, decoder, 0);
      return value === undefined || value === null ? null : Array.isArray(value) ? value.join('\\') : String(value);
    }
    case 'INTEGER': {
      const value = elementValue(dataSet, element, decoder, 0);
      return typeof value === 'number' ? value : null;
    }
    case 'DATE':
      return parseDate(text(dataSet, element, decoder));
    case 'DOUBLE[]': {
      const value = elementValue(dataSet, element, decoder, 0);
      const list = Array.isArray(value) ? value : [value];
      return list.every((v): v is number => typeof v === 'number' && Number.isFinite(v)) ? list : null;
    }
  }
}

function attributes(dataSet: DataSet, decoder: TextDecoder, depth: number, skip: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const tag of Object.keys(dataSet.elements).sort()) {
    if (skip.has(tag) || tag === PIXEL_DATA_TAG) continue;
    const value = elementValue(dataSet, dataSet.elements[tag], decoder, depth);
    if (value !== undefined) out[dictionaryEntry(tag)?.keyword ?? tagKey(tag)] = value;
  }
  return out;
}

/** A JSON-able value: a scalar for one value, an array for several; undefined for binary data. */
function elementValue(dataSet: DataSet, element: Element, decoder: TextDecoder, depth: number): unknown {
  const vr = element.vr ?? dictionaryEntry(element.tag)?.vr ?? (element.items ? 'SQ' : undefined);
  if (vr === 'SQ') {
    if (depth >= MAX_SEQUENCE_DEPTH) return undefined;
    return (element.items ?? []).map((item) => (item.dataSet ? attributes(item.dataSet, decoder, depth + 1) : {}));
  }
  if (element.length === 0) return null;
  if (vr === undefined) {
    // Implicit VR and not in the dictionary: text if it reads as text, else left out.
    const raw = text(dataSet, element, decoder);
    return /^[\x20-\x7e\\]*$/.test(raw) ? single(raw.split('\\')) : undefined;
  }
  if (TEXT_VRS.has(vr)) return single(text(dataSet, element, decoder).split('\\').map((v) => v.trim()));
  if (UNSPLIT_TEXT_VRS.has(vr)) return text(dataSet, element, decoder);
  if (NUMBER_STRING_VRS.has(vr)) {
    return single(text(dataSet, element, decoder).split('\\').map((v) => {
      const number = Number(v.trim());
      return v.trim() !== '' && Number.isFinite(number) ? number : v.trim();
    }));
  }
  const binary = BINARY_NUMBERS[vr];
  if (binary) {
    const view = new DataView(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset + element.dataOffset, element.length);
    const values: number[] = [];
    for (let at = 0; at + binary.size <= element.length; at += binary.size) values.push(binary.read(view, at));
    return single(values);
  }
  if (vr === 'AT') return dataSet.attributeTag(element.tag) ?? null;
  return undefined;
}

function single<T>(values: T[]): T | T[] {
  return values.length === 1 ? values[0] : values;
}

function text(dataSet: DataSet, element: Element, decoder: TextDecoder): string {
  const end = Math.min(element.dataOffset + element.length, dataSet.byteArray.length);
  return decoder.decode(dataSet.byteArray.subarray(element.dataOffset, end)).replace(/[\0 ]+$/, '');
}

/** DA is YYYYMMDD (the old YYYY.MM.DD is accepted too); anything else is no date. */
function parseDate(value: string): Date | null {
  const match = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.trim());
  if (!match) return null;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date : null;
}

