/**
 * Writes small DICOM Part 10 files for tests: explicit or implicit VR little endian, any elements,
 * pixel data native or encapsulated. Enough of PS3.10 for a reader, nothing more.
 */

export type Vr = 'AE' | 'AS' | 'CS' | 'DA' | 'DS' | 'IS' | 'LO' | 'LT' | 'PN' | 'SH' | 'TM' | 'UI' | 'US' | 'SS' | 'UL' | 'OB' | 'OW' | 'SQ';

export interface DicomElement {
  /** (group, element). */
  readonly tag: readonly [number, number];
  readonly vr: Vr;
  /** Strings for text VRs (several values joined with '\\'), numbers for US/SS/UL, bytes for OB/OW and SQ (see sequenceOf). */
  readonly value: string | number | readonly number[] | Uint8Array;
}

export interface DicomFileSpec {
  readonly transferSyntax: string;
  readonly implicit?: boolean;
  readonly elements: readonly DicomElement[];
  /** Pixel data (7FE0,0010): native bytes, or JPEG/RLE frames to encapsulate. */
  readonly pixels?: { readonly native: Uint8Array } | { readonly frames: readonly Uint8Array[] };
}

const LONG_VRS = new Set<Vr>(['OB', 'OW', 'SQ']);

export const UIDS = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  bigEndian: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  jpegLs: '1.2.840.10008.1.2.4.80',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
} as const;

export function writeDicom(spec: DicomFileSpec): Buffer {
  const meta = [
    element([0x0002, 0x0001], 'OB', new Uint8Array([0, 1]), false),
    element([0x0002, 0x0002], 'UI', UIDS.secondaryCapture, false),
    element([0x0002, 0x0003], 'UI', '1.2.3.4.5.6.7', false),
    element([0x0002, 0x0010], 'UI', spec.transferSyntax, false),
  ];
  const metaLength = meta.reduce((n, b) => n + b.length, 0);
  const groupLength = element([0x0002, 0x0000], 'UL', metaLength, false);
  const implicit = spec.implicit ?? spec.transferSyntax === UIDS.implicit;
  const body = [...spec.elements]
    .sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1])
    .map((e) => element(e.tag, e.vr, e.value, implicit));
  if (spec.pixels) body.push('native' in spec.pixels ? element([0x7fe0, 0x0010], 'OW', spec.pixels.native, implicit) : encapsulated(spec.pixels.frames));
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, ...meta, ...body]);
}

function element(tag: readonly [number, number], vr: Vr, value: DicomElement['value'], implicit: boolean): Buffer {
  const data = padded(encodeValue(vr, value), vr);
  const head = Buffer.alloc(implicit ? 8 : LONG_VRS.has(vr) ? 12 : 8);
  head.writeUInt16LE(tag[0], 0);
  head.writeUInt16LE(tag[1], 2);
  if (implicit) head.writeUInt32LE(data.length, 4);
  else {
    head.write(vr, 4, 'latin1');
    if (LONG_VRS.has(vr)) head.writeUInt32LE(data.length, 8);
    else head.writeUInt16LE(data.length, 6);
  }
  return Buffer.concat([head, data]);
}

function encodeValue(vr: Vr, value: DicomElement['value']): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (vr === 'US' || vr === 'SS' || vr === 'UL') {
    const values = typeof value === 'number' ? [value] : (value as readonly number[]);
    const size = vr === 'UL' ? 4 : 2;
    const out = Buffer.alloc(values.length * size);
    values.forEach((v, i) => (vr === 'US' ? out.writeUInt16LE(v, 2 * i) : vr === 'SS' ? out.writeInt16LE(v, 2 * i) : out.writeUInt32LE(v, 4 * i)));
    return out;
  }
  return Buffer.from(String(value), 'latin1');
}

function padded(data: Buffer, vr: Vr): Buffer {
  if (data.length % 2 === 0) return data;
  return Buffer.concat([data, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
}

/** The value of an SQ element of defined length: items of defined length holding `items`' elements. */
export function sequenceOf(items: readonly (readonly DicomElement[])[], implicit = false): Uint8Array {
  return Buffer.concat(items.map((elements) => {
    const body = Buffer.concat([...elements].sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]).map((e) => element(e.tag, e.vr, e.value, implicit)));
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  }));
}

/** Undefined-length pixel data: an empty basic offset table, one fragment per frame, a delimiter. */
function encapsulated(frames: readonly Uint8Array[]): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  const item = (data: Uint8Array) => {
    const bytes = padded(Buffer.from(data), 'OB');
    const tag = Buffer.alloc(8);
    tag.writeUInt16LE(0xfffe, 0);
    tag.writeUInt16LE(0xe000, 2);
    tag.writeUInt32LE(bytes.length, 4);
    return Buffer.concat([tag, bytes]);
  };
  const end = Buffer.alloc(8);
  end.writeUInt16LE(0xfffe, 0);
  end.writeUInt16LE(0xe0dd, 2);
  return Buffer.concat([head, item(new Uint8Array(0)), ...frames.map(item), end]);
}

/** The image pixel module for a gray image. */
export function grayImageElements(options: {
  rows: number; columns: number; bitsAllocated: number; bitsStored?: number; highBit?: number; signed?: boolean;
  photometric?: 'MONOCHROME1' | 'MONOCHROME2'; frames?: number; extra?: readonly DicomElement[];
}): DicomElement[] {
  const bitsStored = options.bitsStored ?? options.bitsAllocated;
  return [
    { tag: [0x0008, 0x0016], vr: 'UI', value: UIDS.secondaryCapture },
    { tag: [0x0028, 0x0002], vr: 'US', value: 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: options.photometric ?? 'MONOCHROME2' },
    ...(options.frames ? [{ tag: [0x0028, 0x0008], vr: 'IS', value: String(options.frames) } as DicomElement] : []),
    { tag: [0x0028, 0x0010], vr: 'US', value: options.rows },
    { tag: [0x0028, 0x0011], vr: 'US', value: options.columns },
    { tag: [0x0028, 0x0100], vr: 'US', value: options.bitsAllocated },
    { tag: [0x0028, 0x0101], vr: 'US', value: bitsStored },
    { tag: [0x0028, 0x0102], vr: 'US', value: options.highBit ?? bitsStored - 1 },
    { tag: [0x0028, 0x0103], vr: 'US', value: options.signed ? 1 : 0 },
    ...(options.extra ?? []),
  ];
}

/** Little-endian 16-bit samples (two's complement for negatives). */
export function samples16(values: readonly number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => out.writeUInt16LE(v < 0 ? v + 0x10000 : v, 2 * i));
  return out;
}

/** One RLE Lossless frame (PS3.5 Annex G): the 64-byte header of segment offsets, then the segments. */
export function rleFrame(segments: readonly number[][]): Uint8Array {
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let offset = 64;
  segments.forEach((segment, i) => {
    header.writeUInt32LE(offset, 4 + 4 * i);
    offset += segment.length;
  });
  return Buffer.concat([header, ...segments.map((s) => Buffer.from(s))]);
}
