import { complete } from '../../src/cli/completion.js';
import { HELP } from '../../src/cli/repl.js';

test('tab completes LOAD DICOM and DEIDENTIFY; .help shows the statement', () => {
  expect(complete('LOAD DIC', [], true)).toEqual([['DICOM'], 'DIC']);
  expect(complete("load dicom 'x/*.dcm' into scans deid", [], true)).toEqual([['deidentify'], 'deid']);
  expect(HELP).toContain("LOAD DICOM 'scans/**/*.dcm' INTO table [DEIDENTIFY];");
});
