import { parseOne, valuesOf } from './helpers.js';

describe('CREATE MODEL', () => {
  test('the example from the design notes, exactly', () => {
    const text = "CREATE MODEL cxr FROM 'models/cxr.onnx' INPUT 224 NORMALIZE IMAGENET LABELS 'labels.txt'";
    expect(parseOne(`${text};`)).toEqual({
      kind: 'CreateModel',
      orReplace: false,
      position: { line: 1, column: 1, offset: 0 },
      text,
      name: 'cxr',
      file: 'models/cxr.onnx',
      input: { width: 224, height: 224 },
      normalize: { kind: 'imagenet' },
      labelsFile: 'labels.txt',
      clauses: {
        name: { line: 1, column: 14, offset: 13 },
        file: { line: 1, column: 23, offset: 22 },
        input: { line: 1, column: 41, offset: 40 },
        normalize: { line: 1, column: 51, offset: 50 },
        labels: { line: 1, column: 70, offset: 69 },
      },
    });
  });

  test('CREATE OR REPLACE MODEL replaces a model of the same name', () => {
    expect(valuesOf(parseOne("create or replace model m from 'm.onnx'"))).toEqual({ kind: 'CreateModel', orReplace: true, name: 'm', file: 'm.onnx' });
  });

  test('options left out stay undefined: their defaults come from the ONNX file', () => {
    expect(valuesOf(parseOne("CREATE MODEL m FROM 'm.onnx'"))).toEqual({
      kind: 'CreateModel',
      orReplace: false,
      name: 'm',
      file: 'm.onnx',
    });
  });

  test('every option, in any order and any case', () => {
    const text =
      "create model \"Bone Age\" from 'zoo/bone age.onnx' output probabilities labels 'l.txt' scale 255 " +
      'normalize mean (0.485, 0.456, 0.406) std (0.229, 0.224, 0.225) channels bgr input 299 x 320';
    expect(valuesOf(parseOne(text))).toEqual({
      kind: 'CreateModel',
      orReplace: false,
      name: 'Bone Age',
      file: 'zoo/bone age.onnx',
      input: { width: 299, height: 320 },
      channels: 'bgr',
      scale: 255,
      normalize: { kind: 'custom', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      labelsFile: 'l.txt',
      output: 'probabilities',
    });
  });

  test.each([
    ['CHANNELS RGB', { channels: 'rgb' }],
    ['CHANNELS GRAY NORMALIZE MEAN (0.5) STD (0.25)', { channels: 'gray', normalize: { kind: 'custom', mean: [0.5], std: [0.25] } }],
    ['NORMALIZE NONE', { normalize: { kind: 'none' } }],
    ['SCALE 1', { scale: 1 }],
    ['OUTPUT LOGITS', { output: 'logits' }],
    ['OUTPUT SIGMOID', { output: 'sigmoid' }],
    ["OUTPUT NAME 'logits'", { outputName: 'logits' }],
    ["output name 'scores' sigmoid", { outputName: 'scores', output: 'sigmoid' }],
    ["OUTPUT NAME 'p' PROBABILITIES LABELS 'l.txt'", { outputName: 'p', output: 'probabilities', labelsFile: 'l.txt' }],
    ['INPUT 28x28', { input: { width: 28, height: 28 } }],
    ['INPUT 32 X 24', { input: { width: 32, height: 24 } }],
  ])('%s', (options, expected) => {
    expect(valuesOf(parseOne(`CREATE MODEL m FROM 'm.onnx' ${options}`))).toEqual({
      kind: 'CreateModel',
      orReplace: false,
      name: 'm',
      file: 'm.onnx',
      ...expected,
    });
  });
});

describe('DROP MODEL', () => {
  test.each([
    ['DROP MODEL cxr', { name: 'cxr', ifExists: false }],
    ['drop model if exists cxr', { name: 'cxr', ifExists: true }],
    ['DROP MODEL "If"', { name: 'If', ifExists: false }],
    ['DROP /* which */ MODEL IF EXISTS "Chest ""X"""', { name: 'Chest "X"', ifExists: true }],
  ])('%s', (text, expected) => {
    expect(parseOne(text)).toEqual({
      kind: 'DropModel',
      position: { line: 1, column: 1, offset: 0 },
      text,
      ...expected,
    });
  });
});
