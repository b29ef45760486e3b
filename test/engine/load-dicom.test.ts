import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageFailures, open, type Krypton } from '../../src/krypton';
import { DATA } from '../support/heatmaps';
import { UIDS, grayImageElements, writeDicom } from '../image/dicom/dicom-writer';

const RATES = { fullMacsPerSecond: 1e11, cropMacsPerSecond: 8e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5 };
const DICOM_DIR = join(DATA, 'images/chest-xray-hannover-dicom');
const DICOM_FILES = readdirSync(DICOM_DIR).filter((f) => f.endsWith('.dcm')).sort();
const CXR = join(DATA, 'models/cxr-appa-squeezenet1.1.onnx');
const OPTIONS = `CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${join(DATA, 'models/cxr-appa-labels.txt')}'`;

/** metadata.csv's rows by image id. */
function metadata(): Map<string, Record<string, string>> {
  const [header, ...lines] = readFileSync(join(DATA, 'images/chest-xray-hannover/metadata.csv'), 'utf8').trim().split('\n');
  const names = header.split(',');
  return new Map(lines.map((line) => {
    const values = line.split(',');
    const row = Object.fromEntries(names.map((n, i) => [n, values[i]]));
    return [row.image_id, row];
  }));
}

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-load-dicom-'));
  db = await open(join(dir, 'test.duckdb'), { throughput: RATES });
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('LOAD DICOM', () => {
  it('makes one row per file with the common tags as typed columns and the rest as JSON', async () => {
    const loaded = await db.query(`LOAD DICOM '${DICOM_DIR}/*.dcm' INTO scans`);
    expect(loaded.message).toMatch(/^loaded 12 DICOM files into scans in [\d.]+ s$/);
    expect(loaded.rows.every((r) => r.status === 'loaded')).toBe(true);
    const { rows: columns } = await db.query('SELECT column_name, data_type FROM information_schema.columns WHERE table_name = \'scans\' ORDER BY ordinal_position');
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'path VARCHAR', 'PatientID VARCHAR', 'PatientSex VARCHAR', 'PatientAge VARCHAR', 'StudyDate DATE', 'StudyInstanceUID VARCHAR',
      'SeriesInstanceUID VARCHAR', 'SOPInstanceUID VARCHAR', 'Modality VARCHAR', 'ViewPosition VARCHAR', 'BodyPartExamined VARCHAR',
      'Rows INTEGER', 'Columns INTEGER', 'PhotometricInterpretation VARCHAR', 'TransferSyntaxUID VARCHAR', 'PixelSpacing DOUBLE[]',
      'Manufacturer VARCHAR', 'ImageComments VARCHAR', 'tags JSON', 'deidentified BOOLEAN', 'NumberOfFrames INTEGER',
    ]);
    expect((await db.query('SELECT DISTINCT NumberOfFrames FROM scans')).rows).toEqual([{ NumberOfFrames: 1 }]);
    // Every file's tags agree with the metadata they were written from (the README's promise).
    const truth = metadata();
    const { rows } = await db.query(`SELECT path, PatientID, PatientSex, ViewPosition, Modality, BodyPartExamined, Rows, Columns, ImageComments,
      tags->>'WindowWidth' AS window_width, tags->>'BitsStored' AS bits_stored FROM scans ORDER BY path`);
    expect(rows.map((r) => r.path)).toEqual(DICOM_FILES.map((f) => join(DICOM_DIR, f)));
    for (const row of rows) {
      const id = String(row.ImageComments).replace('image_id=', '');
      const expected = truth.get(id)!;
      expect(row).toMatchObject({
        PatientID: expected.patient_id, PatientSex: expected.sex.toUpperCase(), ViewPosition: expected.projection.toUpperCase(),
        Modality: expected.modality, BodyPartExamined: 'CHEST', Columns: 640,
      });
    }
    const byTransfer = await db.query(`SELECT TransferSyntaxUID AS uid, count(*)::INTEGER AS n, min(bits_stored) AS bits FROM
      (SELECT TransferSyntaxUID, tags->>'BitsStored' AS bits_stored FROM scans) GROUP BY ALL ORDER BY uid`);
    expect(byTransfer.rows).toEqual([
      { uid: UIDS.implicit, n: 2, bits: '12' }, { uid: UIDS.explicit, n: 6, bits: '12' }, { uid: UIDS.jpegBaseline, n: 2, bits: '8' }, { uid: UIDS.rle, n: 2, bits: '12' },
    ]);
    const chosen = await db.query(`LOAD DICOM (SELECT path FROM scans WHERE PatientSex = 'F' AND TransferSyntaxUID = '${UIDS.rle}') INTO rle_women`);
    expect(chosen.rows.map((r) => r.path)).toEqual([join(DICOM_DIR, 'fff13f3a.dcm')]);
    const again = await db.query(`LOAD DICOM '${DICOM_DIR}/*.dcm' INTO scans`);
    expect(again.message).toMatch(/^loaded 0 DICOM files into scans in [\d.]+ s, 12 already loaded$/);
  });

  it('lets an OCCLUDE choose its images by tag, and the heatmaps join back to the tags', async () => {
    await db.query(`CREATE MODEL cxr FROM '${CXR}' ${OPTIONS}`);
    const occluded = await db.query(`OCCLUDE (SELECT path, SOPInstanceUID AS image_id FROM scans WHERE ViewPosition = 'PA' AND Modality = 'DX')
      USING MODEL cxr WITH PATCH 112 STRIDE 112 INTO pa_maps`);
    const { rows: chosen } = await db.query(`SELECT SOPInstanceUID FROM scans WHERE ViewPosition = 'PA' AND Modality = 'DX' ORDER BY path`);
    expect(chosen.length).toBeGreaterThan(1);
    expect(occluded.rows.map((r) => r.image_id)).toEqual(chosen.map((r) => r.SOPInstanceUID));
    const joined = await db.query(`SELECT s.PatientSex, count(*)::INTEGER AS n FROM pa_maps h JOIN scans s ON h.image_path = s.path AND h.image_id = s.SOPInstanceUID GROUP BY ALL`);
    expect(joined.rows.reduce((n, r) => n + (r.n as number), 0)).toBe(chosen.length);
  });

  it('adds only new files when a folder is loaded again, and reports files it cannot read while the others load', async () => {
    const folder = join(dir, 'growing');
    mkdirSync(folder);
    for (const f of DICOM_FILES.slice(0, 2)) copyFileSync(join(DICOM_DIR, f), join(folder, f));
    expect((await db.query(`LOAD DICOM '${folder}/*' INTO growing`)).message).toMatch(/^loaded 2 DICOM files/);
    copyFileSync(join(DICOM_DIR, DICOM_FILES[2]), join(folder, DICOM_FILES[2]));
    writeFileSync(join(folder, 'notes.txt'), 'not DICOM, only notes about it\n'.repeat(10));
    const error = await db.query(`LOAD DICOM '${folder}/*' INTO growing`).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFailures);
    expect((error as Error).message).toMatch(/^1 of 4 images failed: notes: DICOM file '.*notes\.txt' has no DICM marker/);
    const { result } = error as ImageFailures;
    expect(result.rows.map((r) => r.status)).toEqual(['already loaded', 'already loaded', 'loaded', 'failed']);
    expect(result.message).toMatch(/^loaded 1 DICOM file into growing in [\d.]+ s, 2 already loaded, 1 failed: notes \(/);
    expect((await db.query('SELECT count(*)::INTEGER AS n FROM growing')).rows[0].n).toBe(3);
    const kept = await db.query(`LOAD DICOM '${folder}/*' INTO growing`, { keepGoing: true });
    expect(kept.failures?.map((f) => f.imagePath)).toEqual([join(folder, 'notes.txt')]);
  });

  it('reads headers only: a file cut inside its pixel data loads, a header longer than the first chunk is read whole', async () => {
    const whole = readFileSync(join(DICOM_DIR, DICOM_FILES[0]));
    const cut = join(dir, 'cut.dcm');
    writeFileSync(cut, whole.subarray(0, 4096));
    const long = join(dir, 'long-header.dcm');
    const comment = `image_id=long ${'x'.repeat(200_000)}`;
    writeFileSync(long, writeDicom({
      transferSyntax: UIDS.implicit,
      elements: [...grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8 }), { tag: [0x0020, 0x4000], vr: 'LT', value: comment }, { tag: [0x0018, 0x5101], vr: 'CS', value: 'LL' }],
      pixels: { native: new Uint8Array(4) },
    }));
    await db.query(`LOAD DICOM ('${cut}', '${long}') INTO edge_cases`);
    const { rows } = await db.query('SELECT path, Rows, ViewPosition, length(ImageComments)::INTEGER AS comment_length FROM edge_cases ORDER BY path');
    expect(rows).toEqual([
      { path: cut, Rows: 551, ViewPosition: 'PA', comment_length: 17 },
      { path: long, Rows: 2, ViewPosition: 'LL', comment_length: comment.length },
    ]);
  });

  it('DEIDENTIFY replaces the patient and the UIDs by keyed hashes and drops dates, comments and every attribute not known safe', async () => {
    await db.query(`LOAD DICOM '${DICOM_DIR}/*.dcm' INTO private_scans DEIDENTIFY`);
    const { rows } = await db.query(`SELECT d.PatientID AS pseudonym, s.PatientID AS patient, d.StudyInstanceUID AS study, s.StudyInstanceUID AS original_study,
        d.SOPInstanceUID AS sop, d.StudyDate, d.ImageComments, d.PatientSex = s.PatientSex AS sex_kept, d.ViewPosition = s.ViewPosition AS view_kept,
        d.deidentified, d.tags AS tags
      FROM private_scans d JOIN scans s USING (path)`);
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(row.pseudonym).toMatch(/^[0-9a-f]{16}$/);
      expect(row.pseudonym).not.toBe(row.patient);
      expect(row.study).toMatch(/^2\.25\.\d+$/);
      expect(row.sop).toMatch(/^2\.25\.\d+$/);
      expect(String(row.study).length).toBeLessThanOrEqual(64);
      expect(row).toMatchObject({ StudyDate: null, ImageComments: null, sex_kept: true, view_kept: true, deidentified: true });
      const tags = JSON.parse(String(row.tags));
      expect(tags).toMatchObject({ PatientIdentityRemoved: 'YES', BitsStored: expect.any(Number), SamplesPerPixel: 1 });
      for (const identifying of ['PatientName', 'MediaStorageSOPInstanceUID', 'ImplementationClassUID', 'StudyInstanceUID']) expect(tags).not.toHaveProperty(identifying);
      expect(JSON.stringify(tags)).not.toContain(String(row.patient));
    }
    // One patient, one pseudonym; different patients, different pseudonyms.
    const pairs = await db.query(`SELECT count(DISTINCT s.PatientID)::INTEGER AS patients, count(DISTINCT d.PatientID)::INTEGER AS pseudonyms,
      count(DISTINCT (s.PatientID, d.PatientID))::INTEGER AS pairs FROM private_scans d JOIN scans s USING (path)`);
    expect(pairs.rows[0].patients).toBe(pairs.rows[0].pseudonyms);
    expect(pairs.rows[0].pairs).toBe(pairs.rows[0].patients);
    // Identified and de-identified rows never share a table.
    await expect(db.query(`LOAD DICOM '${DICOM_DIR}/*.dcm' INTO private_scans`)).rejects.toThrow('table private_scans holds de-identified tags; add DEIDENTIFY to load into it, or load into another table');
    await expect(db.query(`LOAD DICOM '${DICOM_DIR}/*.dcm' INTO scans DEIDENTIFY`)).rejects.toThrow('table scans holds tags loaded without DEIDENTIFY');
  });

  it('DEIDENTIFY leaves no identifying attribute of PS3.15 Table E.1-1 in any column or in the JSON, private and nested ones included', async () => {
    const identifying: Record<string, string> = {
      PatientName: 'Doe^Jane^Q', PatientBirthDate: '19450312', InstitutionName: 'St Quentin General Hospital',
      ReferringPhysicianName: 'Referrer^Rita', OperatorsName: 'Operator^Olga', AccessionNumber: 'ACC778899',
      StudyID: 'STUDY4455', OtherPatientIDs: 'MRN-OTHER-6677', StationName: 'XRAYROOM3', StudyDate: '20240229',
      AcquisitionDate: '20240228', ImageComments: 'patient fell at home', PatientID: 'PID-991122',
      StudyInstanceUID: '1.2.826.0.1.3680043.9.1111', SOPInstanceUID: '1.2.826.0.1.3680043.9.2222',
      PrivateValue: 'private-secret-3344', NestedName: 'Nested^Nora',
    };
    // An explicit-length item of Referenced Patient Sequence (0008,1120) holding a Patient's Name.
    const nestedName = Buffer.from(`${identifying.NestedName} `, 'latin1');
    const nestedElement = Buffer.concat([Buffer.from([0x10, 0x00, 0x10, 0x00]), Buffer.from('PN'), Buffer.from([nestedName.length, 0]), nestedName]);
    const itemHead = Buffer.alloc(8);
    itemHead.writeUInt16LE(0xfffe, 0);
    itemHead.writeUInt16LE(0xe000, 2);
    itemHead.writeUInt32LE(nestedElement.length, 4);
    const file = join(dir, 'identifying.dcm');
    writeFileSync(file, writeDicom({
      transferSyntax: UIDS.explicit,
      elements: [
        ...grayImageElements({ rows: 2, columns: 2, bitsAllocated: 8 }),
        { tag: [0x0008, 0x0018], vr: 'UI', value: identifying.SOPInstanceUID },
        { tag: [0x0008, 0x0020], vr: 'DA', value: identifying.StudyDate },
        { tag: [0x0008, 0x0022], vr: 'DA', value: identifying.AcquisitionDate },
        { tag: [0x0008, 0x0050], vr: 'SH', value: identifying.AccessionNumber },
        { tag: [0x0008, 0x0060], vr: 'CS', value: 'DX' },
        { tag: [0x0008, 0x0080], vr: 'LO', value: identifying.InstitutionName },
        { tag: [0x0008, 0x0090], vr: 'PN', value: identifying.ReferringPhysicianName },
        { tag: [0x0008, 0x1010], vr: 'SH', value: identifying.StationName },
        { tag: [0x0008, 0x1070], vr: 'PN', value: identifying.OperatorsName },
        { tag: [0x0008, 0x1120], vr: 'SQ', value: Buffer.concat([itemHead, nestedElement]) },
        { tag: [0x0009, 0x0010], vr: 'LO', value: 'ACME IMAGING 1.0' },
        { tag: [0x0009, 0x1001], vr: 'LO', value: identifying.PrivateValue },
        { tag: [0x0010, 0x0010], vr: 'PN', value: identifying.PatientName },
        { tag: [0x0010, 0x0020], vr: 'LO', value: identifying.PatientID },
        { tag: [0x0010, 0x0030], vr: 'DA', value: identifying.PatientBirthDate },
        { tag: [0x0010, 0x0040], vr: 'CS', value: 'F' },
        { tag: [0x0010, 0x1000], vr: 'LO', value: identifying.OtherPatientIDs },
        { tag: [0x0010, 0x1010], vr: 'AS', value: '079Y' },
        { tag: [0x0018, 0x5101], vr: 'CS', value: 'PA' },
        { tag: [0x0020, 0x000d], vr: 'UI', value: identifying.StudyInstanceUID },
        { tag: [0x0020, 0x0010], vr: 'SH', value: identifying.StudyID },
        { tag: [0x0020, 0x4000], vr: 'LT', value: identifying.ImageComments },
      ],
      pixels: { native: new Uint8Array(4) },
    }));
    const rowText = (row: Record<string, unknown>) => JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    // Without DEIDENTIFY every value is read, so the check below has something to miss.
    await db.query(`LOAD DICOM ('${file}') INTO identified_fixture`);
    const [identified] = (await db.query('SELECT * FROM identified_fixture')).rows;
    for (const [name, value] of Object.entries(identifying)) {
      const expected = name === 'StudyDate' ? '2024-02-29' : value;
      expect([name, rowText(identified).includes(expected)]).toEqual([name, true]);
    }

    await db.query(`LOAD DICOM ('${file}') INTO deidentified_fixture DEIDENTIFY`);
    const [row] = (await db.query('SELECT * FROM deidentified_fixture')).rows;
    const text = rowText({ ...row, path: undefined });
    for (const [name, value] of Object.entries(identifying)) expect([name, text.includes(value)]).toEqual([name, false]);
    expect(text).not.toContain('2024-02-29');
    expect(text).not.toContain('1945');
    const tags = JSON.parse(String(row.tags));
    expect(Object.keys(tags).filter((key) => /^[0-9A-F]{8}$/.test(key))).toEqual([]);
    expect(tags).not.toHaveProperty('ReferencedPatientSequence');
    // Attributes the profile asks a de-identifier to add (PS3.15 E.1.1 and E.2).
    expect(tags).toMatchObject({ PatientIdentityRemoved: 'YES', DeidentificationMethod: expect.stringContaining('Basic Application Level Confidentiality Profile'), LongitudinalTemporalInformationModified: 'REMOVED' });
    expect(tags.DeidentificationMethodCodeSequence).toEqual([
      { CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' },
      { CodeValue: '113108', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Retain Patient Characteristics Option' },
    ]);
    const inSql = await db.query(`SELECT tags->>'PatientIdentityRemoved' AS removed, tags->'DeidentificationMethodCodeSequence'->0->>'CodeValue' AS code FROM deidentified_fixture`);
    expect(inSql.rows).toEqual([{ removed: 'YES', code: '113100' }]);
    // Retain Patient Characteristics Option: sex and age stay; descriptive columns the profile does not list stay.
    expect(row).toMatchObject({ PatientSex: 'F', PatientAge: '079Y', Modality: 'DX', ViewPosition: 'PA', StudyDate: null, ImageComments: null, deidentified: true });
  });

  it('refuses to load into a table that is not a DICOM tags table', async () => {
    await db.query('CREATE TABLE not_tags (x INTEGER)');
    await expect(db.query(`LOAD DICOM '${DICOM_DIR}/*.dcm' INTO not_tags`)).rejects.toThrow(/^table "not_tags" exists but is not a DICOM tags table/);
  });
});
