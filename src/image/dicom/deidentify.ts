/**
 * DEIDENTIFY: tags with the patient's identity taken out, after the Basic Application Level
 * Confidentiality Profile of DICOM PS3.15 Annex E (Table E.1-1, checked against the 2024b
 * edition) with its Retain Patient Characteristics Option (sex and age stay: analyses group by
 * them). Per column, with the table's action:
 *   - PatientID (Z/D): replaced by a keyed pseudonym (HMAC-SHA-256 under the database's key), a
 *     dummy value in the sense of D that keeps one patient's images together;
 *   - StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID (U): replaced by UIDs derived the same
 *     way, consistent within the database, as 2.25.<decimal>;
 *   - StudyDate (Z) and ImageComments (X): removed;
 *   - PatientSex (Z) and PatientAge (X): kept, as the option says (K);
 *   - the others (Modality, ViewPosition, BodyPartExamined, Rows, Columns,
 *     PhotometricInterpretation, TransferSyntaxUID, PixelSpacing, Manufacturer) are not in the
 *     table and are kept.
 * The JSON column keeps only attributes known to describe the acquisition and the pixels (none of
 * them in the table); every other attribute, private attributes and sequences included, is
 * dropped, which is stricter than the profile (it keeps what it does not list, and the option
 * keeps size and weight). The attributes the profile adds to a de-identified data set are added.
 */
import { createHmac } from 'node:crypto';
import type { DicomTags, TagValue } from './dicom-tags.js';

type ColumnAction = 'pseudonym' | 'uid' | 'remove';

const COLUMN_ACTIONS: Readonly<Record<string, ColumnAction>> = {
  PatientID: 'pseudonym',
  StudyInstanceUID: 'uid',
  SeriesInstanceUID: 'uid',
  SOPInstanceUID: 'uid',
  StudyDate: 'remove',
  ImageComments: 'remove',
};

/** Attributes of the JSON column that DEIDENTIFY keeps: acquisition geometry and pixel description. */
const KEPT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'FileMetaInformationGroupLength', 'FileMetaInformationVersion', 'MediaStorageSOPClassUID', 'TransferSyntaxUID',
  'SpecificCharacterSet', 'ImageType', 'SOPClassUID', 'ConversionType', 'PresentationIntentType',
  'BodyPartExamined', 'SliceThickness', 'KVP', 'DistanceSourceToDetector', 'DistanceSourceToPatient',
  'ExposureTime', 'XRayTubeCurrent', 'Exposure', 'ImagerPixelSpacing', 'PatientPosition', 'ViewPosition',
  'PatientOrientation', 'ImagePositionPatient', 'ImageOrientationPatient', 'Laterality', 'ImageLaterality',
  'SamplesPerPixel', 'PhotometricInterpretation', 'PlanarConfiguration', 'NumberOfFrames', 'Rows', 'Columns',
  'PixelSpacing', 'PixelAspectRatio', 'BitsAllocated', 'BitsStored', 'HighBit', 'PixelRepresentation',
  'SmallestImagePixelValue', 'LargestImagePixelValue', 'BurnedInAnnotation', 'PixelIntensityRelationship',
  'PixelIntensityRelationshipSign', 'WindowCenter', 'WindowWidth', 'RescaleIntercept', 'RescaleSlope',
  'RescaleType', 'VOILUTFunction', 'LossyImageCompression', 'LossyImageCompressionRatio',
  'LossyImageCompressionMethod', 'PresentationLUTShape',
]);

export const DEIDENTIFICATION_METHOD = 'Krypton DEIDENTIFY: DICOM PS3.15 Basic Application Level Confidentiality Profile, Retain Patient Characteristics Option; PatientID and UIDs replaced by keyed hashes';

/** De-identification Method Code Sequence (0012,0064): the profile and option applied, as PS3.16 CID 7050 codes them. */
export const DEIDENTIFICATION_METHOD_CODES: readonly Readonly<Record<string, string>>[] = [
  { CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' },
  { CodeValue: '113108', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Retain Patient Characteristics Option' },
];

/** The tags with identifying values replaced or removed; `key` is the database's secret. */
export function deidentifyTags(tags: DicomTags, key: Buffer): DicomTags {
  const columns: Record<string, TagValue> = {};
  for (const [name, value] of Object.entries(tags.columns)) {
    const action = COLUMN_ACTIONS[name];
    columns[name] = action === undefined || value === null ? value : apply(action, String(value), key);
  }
  const other: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tags.other)) if (KEPT_ATTRIBUTES.has(name)) other[name] = value;
  other.PatientIdentityRemoved = 'YES';
  other.DeidentificationMethod = DEIDENTIFICATION_METHOD;
  other.DeidentificationMethodCodeSequence = DEIDENTIFICATION_METHOD_CODES.map((code) => ({ ...code }));
  // PS3.15 E.2: required when no Retain Longitudinal Temporal Information Option is applied.
  other.LongitudinalTemporalInformationModified = 'REMOVED';
  return { columns, numberOfFrames: tags.numberOfFrames, other };
}

function apply(action: ColumnAction, value: string, key: Buffer): string | null {
  switch (action) {
    case 'remove':
      return null;
    case 'pseudonym':
      return keyedHash(`PatientID:${value}`, key).slice(0, 16);
    case 'uid':
      // A UUID-derived UID (PS3.5 B.2): 2.25 followed by a 128-bit number in decimal.
      return `2.25.${BigInt(`0x${keyedHash(`UID:${value}`, key).slice(0, 32)}`).toString()}`;
  }
}

function keyedHash(value: string, key: Buffer): string {
  return createHmac('sha256', key).update(value).digest('hex');
}
