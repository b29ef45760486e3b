import { isKryptonStatementStart, KEYWORDS } from '../../src/parser/index.js';

describe('isKryptonStatementStart', () => {
  test.each([
    ["OCCLUDE 'a.png' …", true],
    ['  -- lead\n /* c */ occlude', true],
    ['EXPLAIN OCCLUDE', true],
    ['explain /* x */ analyze\n occlude', true],
    ['CREATE MODEL m', true],
    ['create  model', true],
    ['DROP MODEL IF EXISTS m', true],
    ['EXPLAIN SELECT 1', false],
    ['EXPLAIN ANALYZE SELECT 1', false],
    ['CREATE TABLE model (x INT)', false],
    ['CREATE MODELS', false],
    ['CREATE OR REPLACE MODEL m', true],
    ['create or replace table model AS SELECT 1', false],
    ['DROP TABLE m', false],
    ['SELECT occlude', false],
    ['SELECT * FROM heatmaps h JOIN patients p ON h.image_id = p.image_id', false],
    ['ON CONFLICT', false],
    ['OCCLUDED', false],
    ['', false],
    ['-- OCCLUDE', false],
    ["LOAD DICOM 'scans/*.dcm' INTO scans", true],
    ['load /* tags */ dicom', true],
    ['LOAD json', false],
    ["LOAD 'extension.duckdb_extension'", false],
  ])('%j → %s', (text, expected) => {
    expect(isKryptonStatementStart(text)).toBe(expected);
  });
});

test('KEYWORDS lists every keyword once, upper case and sorted', () => {
  expect(KEYWORDS).toContain('OCCLUDE');
  expect(KEYWORDS).toContain('PROBABILITIES');
  expect(KEYWORDS).toHaveLength(64);
  expect([...KEYWORDS].sort()).toEqual(KEYWORDS);
  expect(new Set(KEYWORDS).size).toBe(KEYWORDS.length);
  expect(KEYWORDS.every((keyword) => keyword === keyword.toUpperCase())).toBe(true);
  expect(Object.isFrozen(KEYWORDS)).toBe(true);
});
