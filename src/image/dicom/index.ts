// DICOM files: decoding to the displayed image, and their tags.
export { hasDicomMarker, isDicomName, parseDicomFile } from './dicom-file.js';
export { decodeDicomImage } from './decode-dicom.js';
export type { GrayImage } from './decode-dicom.js';
export { transferSyntaxOf } from './transfer-syntax.js';
export type { TransferSyntax } from './transfer-syntax.js';
