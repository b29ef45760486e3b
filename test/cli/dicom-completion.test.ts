import { complete } from '../../src/cli/completion.js';
import { HELP } from '../../src/cli/repl.js';

test('tab completes LOAD DICOM and the DICOM tag columns', () => {
  expect(complete('LOAD DIC', [], true)).toEqual([['DICOM'], 'DIC']);
  expect(complete("load dicom 'x/*.dcm' into scans deid", [], true)).toEqual([['deidentify'], 'deid']);
  expect(complete('SELECT * FROM scans WHERE ViewPo', ['scans'], true)).toEqual([['ViewPosition'], 'ViewPo']);
  expect(complete('SELECT Patient', [], true)[0]).toEqual(['PatientAge', 'PatientID', 'PatientSex']);
  expect(HELP).toContain("LOAD DICOM 'scans/**/*.dcm' INTO table [DEIDENTIFY];");
});
