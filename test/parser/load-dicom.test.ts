import { parseScript } from '../../src/parser/index.js';
import { messagesOf, parseOne, valuesOf } from './helpers.js';

describe('LOAD DICOM', () => {
  test('a glob into a table', () => {
    const statement = parseOne("LOAD DICOM 'scans/**/*.dcm' INTO scans");
    expect(valuesOf(statement)).toEqual({
      kind: 'LoadDicom',
      source: { kind: 'glob', pattern: 'scans/**/*.dcm' },
      into: { parts: ['scans'], name: 'scans', sql: '"scans"' },
      deidentify: false,
    });
    expect(statement.position).toEqual({ line: 1, column: 1, offset: 0 });
  });

  test('a list of files, a qualified table, DEIDENTIFY, any case', () => {
    expect(valuesOf(parseOne("load dicom ('a.dcm', 'b') into research.\"Scans\" deidentify"))).toEqual({
      kind: 'LoadDicom',
      source: { kind: 'list', paths: ['a.dcm', 'b'] },
      into: { parts: ['research', 'Scans'], name: 'Scans', sql: '"research"."Scans"' },
      deidentify: true,
    });
  });

  test('a query whose first column is a path', () => {
    const statement = parseOne("LOAD DICOM (SELECT path FROM files WHERE kind = 'dcm') INTO scans");
    expect(statement.kind === 'LoadDicom' && statement.source).toEqual({ kind: 'select', sql: "SELECT path FROM files WHERE kind = 'dcm'", position: { line: 1, column: 13, offset: 12 } });
  });

  test('sits in a script beside SQL and DuckDB\'s own LOAD', () => {
    const { statements, errors } = parseScript("LOAD json;\nLOAD DICOM 'x/*.dcm' INTO scans;\nSELECT * FROM scans;");
    expect(errors).toEqual([]);
    expect(statements.map((s) => s.kind)).toEqual(['Sql', 'LoadDicom', 'Sql']);
  });

  test.each([
    ['LOAD DICOM INTO scans', "line 1, column 12: expected a string or '(' but found 'INTO'"],
    ["LOAD DICOM 'x/*.dcm'", 'line 1, column 21: expected INTO but found the end of the statement'],
    ["LOAD DICOM 'x/*.dcm' INTO", 'line 1, column 26: expected a name but found the end of the statement'],
    ["LOAD DICOM 'x/*.dcm' INTO scans DEIDENTIFIED", "line 1, column 33: expected '.', DEIDENTIFY or the end of the statement but found 'DEIDENTIFIED'"],
    ["LOAD DICOM '' INTO scans", 'line 1, column 12: image pattern must not be empty'],
  ])('%s', (script, message) => {
    expect(messagesOf(script)).toEqual([message]);
  });
});
