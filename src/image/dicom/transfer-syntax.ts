/**
 * The transfer syntaxes Krypton knows by name, and how (if at all) it decodes each one's pixels.
 * Names are those of PS3.6 Table A-1.
 */

/** How a transfer syntax's first frame becomes stored values. */
export type PixelEncoding = 'native' | 'rle' | 'jpeg-baseline';

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  /** Absent: Krypton cannot decode it. */
  readonly encoding?: PixelEncoding;
}

const KNOWN: readonly TransferSyntax[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', encoding: 'native' },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', encoding: 'native' },
  { uid: '1.2.840.10008.1.2.1.99', name: 'Deflated Explicit VR Little Endian' },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian' },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', encoding: 'rle' },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', encoding: 'jpeg-baseline' },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)' },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)' },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])' },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless' },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Lossy (Near-Lossless)' },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Image Compression (Lossless Only)' },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000 Image Compression' },
  { uid: '1.2.840.10008.1.2.4.201', name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)' },
  { uid: '1.2.840.10008.1.2.4.202', name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)' },
  { uid: '1.2.840.10008.1.2.4.203', name: 'High-Throughput JPEG 2000 Image Compression' },
  { uid: '1.2.840.10008.1.2.4.100', name: 'MPEG2 Main Profile / Main Level' },
  { uid: '1.2.840.10008.1.2.4.102', name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1' },
  { uid: '1.2.840.10008.1.2.4.110', name: 'JPEG XL Lossless' },
  { uid: '1.2.840.10008.1.2.4.112', name: 'JPEG XL' },
];

const BY_UID = new Map(KNOWN.map((syntax) => [syntax.uid, syntax]));

/** The syntax of a UID; one not in the table is named by its UID alone and not decoded. */
export function transferSyntaxOf(uid: string): TransferSyntax {
  return BY_UID.get(uid) ?? { uid, name: 'an unknown transfer syntax' };
}

export const decodableTransferSyntaxes: readonly TransferSyntax[] = KNOWN.filter((syntax) => syntax.encoding !== undefined);
