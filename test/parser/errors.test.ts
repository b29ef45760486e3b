import { parseScript } from '../../src/parser/index.js';
import { messagesOf, positionOf } from './helpers.js';

const HEAD = "OCCLUDE 'a.png' USING MODEL m";
const CORE = `${HEAD} WITH PATCH 16 STRIDE 4`;

describe('syntax errors', () => {
  test('a misspelt keyword: position, offending token and what was expected', () => {
    const script = "OCCLUDE 'scans/*.png'\n  USING MODEL cxr\nWITH PATCH 8 STRIDES 4";
    expect(parseScript(script)).toEqual({
      statements: [],
      errors: [
        {
          message: "line 3, column 14: expected STRIDE but found 'STRIDES'",
          line: 3,
          column: 14,
          offset: 53,
          token: 'STRIDES',
          expected: ['STRIDE'],
        },
      ],
    });
  });

  test('a statement that ends too early points just past its last token', () => {
    expect(parseScript(`${HEAD} ;`).errors).toEqual([
      {
        message: 'line 1, column 30: expected FOR or WITH but found the end of the statement',
        line: 1,
        column: 30,
        offset: 29,
        expected: ['FOR', 'WITH'],
      },
    ]);
  });

  test.each([
    // A near miss of one keyword names that keyword alone.
    [`${HEAD} FOR CLAS 3 WITH PATCH 16 STRIDE 4`, "line 1, column 35: expected CLASS but found 'CLAS'"],
    [`${HEAD} FOR KLASS 3 WITH PATCH 16 STRIDE 4`, "line 1, column 35: expected CLASS but found 'KLASS'"],
    [`${HEAD} FOR THE 3 WITH PATCH 16 STRIDE 4`, "line 1, column 35: expected CLASS or PREDICTED but found 'THE'"],
    [`${HEAD} WITH PATCH 16 COLOUR BLACK STRIDE 4`, "line 1, column 45: expected COLOR but found 'COLOUR'"],
    [`${HEAD} FOR CLASS WITH PATCH 16 STRIDE 4`, "line 1, column 41: expected a number or a string but found 'WITH'"],
    [`${HEAD} FOR PREDICTED WITH PATCH 16 STRIDE 4`, "line 1, column 45: expected CLASS but found 'WITH'"],
    [`${HEAD} WITH 16 STRIDE 4`, "line 1, column 36: expected PATCH but found '16'"],
    [`${HEAD} WITH PATCH STRIDE 4`, "line 1, column 42: expected a number but found 'STRIDE'"],
    [`${HEAD} WITH PATCH 16 x STRIDE 4`, "line 1, column 47: expected a number but found 'STRIDE'"],
    [`${HEAD} WITH PATCH 16 COLOR RED STRIDE 4`, "line 1, column 51: expected GRAY, BLACK, MEAN or '(' but found 'RED'"],
    [`${HEAD} WITH PATCH 16`, "line 1, column 44: expected 'x', COLOR or STRIDE but found the end of the statement"],
    [`${HEAD} WITH PATCH 16 STRIDE`, 'line 1, column 51: expected a number but found the end of the statement'],
    [`${CORE} QUALITY SSIM > 0.9`, "line 1, column 67: expected '>=' but found '>'"],
    [`${CORE} QUALITY PSNR >= 30`, "line 1, column 62: expected SSIM but found 'PSNR'"],
    [`${CORE} STRATEGY fast`, "line 1, column 63: expected AUTO, NAIVE or INCREMENTAL but found 'fast'"],
    [`${CORE} RENDER 'out/'`, "line 1, column 61: expected TO but found 'out/'"],
    [`${CORE} INTO`, 'line 1, column 58: expected a name but found the end of the statement'],
    [`${CORE} INTO a.`, 'line 1, column 61: expected a name but found the end of the statement'],
    [`${CORE} INTO 'table'`, "line 1, column 59: expected a name but found 'table'"],
    [`${CORE} REGION (1, 2 3, 4)`, "line 1, column 67: expected ',' or ')' but found '3'"],
    [`${CORE} REGION 1, 2, 3, 4`, "line 1, column 61: expected '(' but found '1'"],
    // Only the image source can be a query; elsewhere '(' is just a parenthesis.
    [`${CORE} REGION (SELECT 1)`, "line 1, column 62: expected a number but found 'SELECT'"],
    [`${CORE} REGION (0, 0, 8, 8) IN PIXELS`, "line 1, column 77: expected IMAGE or MODEL but found 'PIXELS'"],
    [`${CORE} REGION (0, 0, 8, 8) IN IMAGE`, 'line 1, column 82: expected PIXELS but found the end of the statement'],
    [`${CORE} REGION (0, 0, 8, 8) IN IMAGES PIXELS`, "line 1, column 77: expected IMAGE but found 'IMAGES'"],
    ["OCCLUDE (SELECT 1) (SELECT 2) USING MODEL m WITH PATCH 16 STRIDE 4", "line 1, column 20: expected USING but found '('"],
    [`${CORE} INTO x y`, "line 1, column 61: expected '.', COLOR, REGION, QUALITY, TUNE, RETUNE, VERIFY, STRATEGY, RENDER, INTO or the end of the statement but found 'y'"],
    ["OCCLUDE USING MODEL m WITH PATCH 16 STRIDE 4", "line 1, column 9: expected a string or '(' but found 'USING'"],
    ["OCCLUDE ('a.png', ) USING MODEL m WITH PATCH 16 STRIDE 4", "line 1, column 19: expected a string but found ')'"],
    ["OCCLUDE ('a.png' 'b.png') USING MODEL m WITH PATCH 16 STRIDE 4", "line 1, column 18: expected ',' or ')' but found 'b.png'"],
    ["OCCLUDE 'a.png' MODEL m WITH PATCH 16 STRIDE 4", "line 1, column 17: expected USING but found 'MODEL'"],
    ["OCCLUDE 'a.png' USING m WITH PATCH 16 STRIDE 4", "line 1, column 23: expected MODEL but found 'm'"],
    ["OCCLUDE 'a.png' USING MODEL WITH PATCH 16 STRIDE 4", "line 1, column 29: expected a name or a string but found 'WITH'"],
    ['EXPLAIN OCCLUDE', 'line 1, column 16: expected a string or \'(\' but found the end of the statement'],
    ["CREATE MODEL m 'm.onnx'", "line 1, column 16: expected FROM but found 'm.onnx'"],
    ['CREATE MODEL m FROM m.onnx', "line 1, column 21: expected a string but found 'm'"],
    ["CREATE MODEL FROM 'm.onnx'", "line 1, column 14: expected a name but found 'FROM'"],
    ["CREATE MODEL m FROM 'm.onnx' CHANNELS RGBA", "line 1, column 39: expected RGB but found 'RGBA'"],
    ["CREATE MODEL m FROM 'm.onnx' CHANNELS YUV", "line 1, column 39: expected RGB, BGR or GRAY but found 'YUV'"],
    ["CREATE MODEL m FROM 'm.onnx' NORMALIZE MEAN (1, 2, 3)", 'line 1, column 54: expected STD but found the end of the statement'],
    ["CREATE MODEL m FROM 'm.onnx' OUTPUT SOFTMAX", "line 1, column 37: expected NAME, LOGITS, PROBABILITIES or SIGMOID but found 'SOFTMAX'"],
    ["CREATE MODEL m FROM 'm.onnx' OUTPUT NAME logits", "line 1, column 42: expected a string but found 'logits'"],
    ['DROP MODEL IF cxr', "line 1, column 15: expected EXISTS but found 'cxr'"],
    ['DROP MODEL', 'line 1, column 11: expected IF or a name but found the end of the statement'],
  ])('%s', (script, message) => {
    expect(messagesOf(script)).toEqual([message]);
  });

  test('after a complete statement, lists what could still follow', () => {
    const [problem] = parseScript(`${CORE} REGION (0, 0, 8, 8) extra`).errors;
    expect(problem).toEqual({
      message:
        "line 1, column 74: expected IN, COLOR, REGION, QUALITY, TUNE, RETUNE, VERIFY, STRATEGY, RENDER, INTO or the end of the statement but found 'extra'",
      line: 1,
      column: 74,
      offset: 73,
      token: 'extra',
      expected: ['IN', 'COLOR', 'REGION', 'QUALITY', 'TUNE', 'RETUNE', 'VERIFY', 'STRATEGY', 'RENDER', 'INTO', 'the end of the statement'],
    });
    expect(messagesOf(`${CORE} extra`)).toEqual([
      "line 1, column 54: expected 'x', COLOR, REGION, QUALITY, TUNE, RETUNE, VERIFY, STRATEGY, RENDER, INTO or the end of the statement but found 'extra'",
    ]);
    expect(messagesOf(`CREATE MODEL m FROM 'm.onnx' INPUT 224 WITH`)).toEqual([
      "line 1, column 40: expected 'x', INPUT, CHANNELS, SCALE, NORMALIZE, LABELS, OUTPUT or the end of the statement but found 'WITH'",
    ]);
  });

  test('a keyword written where a name belongs gets a hint to quote it', () => {
    expect(messagesOf(`${CORE} INTO region`)).toEqual([
      'line 1, column 59: expected a name but found \'region\' (a keyword; write "region" to use it as a name)',
    ]);
    expect(messagesOf("CREATE MODEL Input FROM 'm.onnx'")).toEqual([
      'line 1, column 14: expected a name but found \'Input\' (a keyword; write "Input" to use it as a name)',
    ]);
  });

  test('a character no token starts with is reported, not skipped', () => {
    expect(messagesOf(`${HEAD} WITH PATCH 16 STRIDE # 4`)).toEqual([
      "line 1, column 52: expected a number but found '#'",
    ]);
    expect(parseScript(`${HEAD} WITH PATCH 16 STRIDE 4 \u0001`).errors).toEqual([
      {
        message: "line 1, column 54: unexpected character '\\u0001'",
        line: 1,
        column: 54,
        offset: 53,
        token: '\u0001',
      },
    ]);
  });

  test('an unclosed query source is reported at its opening parenthesis, once', () => {
    const script = "OCCLUDE (SELECT p FROM t WHERE q = ')' USING MODEL m WITH PATCH 16 STRIDE 4";
    expect(parseScript(script).errors).toEqual([
      { message: "line 1, column 9: missing ')' to close this query", line: 1, column: 9, offset: 8, token: '(' },
    ]);
  });

  test('a closing parenthesis inside a comment does not close the query', () => {
    const script = "SELECT 1;\nOCCLUDE (\n  SELECT p -- )\n  FROM t USING MODEL m WITH PATCH 16 STRIDE 4;\nSELECT 2";
    const { statements, errors } = parseScript(script);
    expect(errors.map((problem) => problem.message)).toEqual(["line 2, column 9: missing ')' to close this query"]);
    expect(statements.map((statement) => statement.text)).toEqual(['SELECT 1', 'SELECT 2']);
  });

  test('a long offending token is shortened in the message but kept whole in the problem', () => {
    const path = `'${'very/'.repeat(12)}long.png'`;
    const [problem] = parseScript(`${CORE} RENDER ${path}`).errors;
    expect(problem.message).toBe("line 1, column 61: expected TO but found 'very/very/very/very/very/very/very/ver…'");
    expect(problem.token).toBe(path);
  });

  test('an offending token with a line break or other control character in it still gives a one-line message', () => {
    // U+2028 belongs to names (as any character past Latin-1 does in DuckDB), and strings may span lines.
    expect(messagesOf(`${HEAD} FOR PREDIC\u2028TED CLASS WITH PATCH 16 STRIDE 4`)).toEqual([
      "line 1, column 35: expected CLASS or PREDICTED but found 'PREDIC\\u2028TED'",
    ]);
    expect(messagesOf(`${HEAD} WITH PATCH 'a\nb\tc' STRIDE 4`)).toEqual([
      "line 1, column 42: expected a number but found 'a\\nb\\tc'",
    ]);
    expect(messagesOf(`${HEAD} WITH PATCH 16 STRIDE 4 INTO "x\ry"`)).toEqual([]);
  });

  test('a very long misplaced word is reported at once: spotting keyword typos does not read all of it', () => {
    const word = 'n'.repeat(200_000);
    const started = performance.now();
    expect(messagesOf(`CREATE MODEL m FROM 'a.onnx' ${word}`)).toEqual([
      "line 1, column 30: expected INPUT, CHANNELS, SCALE, NORMALIZE, LABELS, OUTPUT or the end of the statement but found 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn…'",
    ]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  test('independent mistakes in one statement are all reported; echoes of one mistake are not', () => {
    const script = `${HEAD} WITH PATCH 16 STRDE 4 REGION (1, 2 3, 4) STRATEGY fast`;
    // Past the first error the tokens before it are no longer a valid prefix, so later messages
    // name the token the parser was trying for rather than every alternative.
    expect(messagesOf(script)).toEqual([
      "line 1, column 45: expected STRIDE but found 'STRDE'",
      "line 1, column 66: expected ')' but found '3'",
      "line 1, column 81: expected AUTO, NAIVE or INCREMENTAL but found 'fast'",
    ]);
    // Recovery would re-enter REGION at `region` and then miss its '(': one mistake, one message.
    expect(messagesOf(`${CORE} INTO region`)).toHaveLength(1);
  });
});

describe('checks on values', () => {
  test('a stride of 0, at its position', () => {
    const script = `SELECT 1;\n${HEAD} WITH PATCH 16 STRIDE 0`;
    expect(parseScript(script).errors).toEqual([
      {
        message: 'line 2, column 52: STRIDE must be a positive integer',
        line: 2,
        column: 52,
        offset: 61,
        token: '0',
      },
    ]);
  });

  test.each([
    [`${HEAD} WITH PATCH 0 STRIDE 4`, 'PATCH must be a positive integer', '0'],
    [`${HEAD} WITH PATCH -16 STRIDE 4`, 'PATCH must be a positive integer', '-16'],
    [`${HEAD} WITH PATCH 2.5 STRIDE 4`, 'PATCH must be a positive integer', '2.5'],
    [`${HEAD} WITH PATCH 16 x 0 STRIDE 4`, 'PATCH must be a positive integer', '0'],
    [`${HEAD} WITH PATCH 1e400 STRIDE 4`, 'PATCH must be a positive integer', '1e400'],
    [`${HEAD} WITH PATCH 16 STRIDE 4 x 1.5`, 'STRIDE must be a positive integer', '1.5'],
    [`${HEAD} WITH PATCH 16 STRIDE - 2`, 'STRIDE must be a positive integer', '-'],
    [`${HEAD} FOR CLASS -1 WITH PATCH 16 STRIDE 4`, 'CLASS index must be a non-negative integer', '-'],
    [`${HEAD} FOR CLASS 2.5 WITH PATCH 16 STRIDE 4`, 'CLASS index must be a non-negative integer', '2.5'],
    [`${HEAD} FOR CLASS '' WITH PATCH 16 STRIDE 4`, 'class label must not be empty', "''"],
    [`${CORE} QUALITY SSIM >= 0`, 'SSIM target must be in (0, 1]', '0'],
    [`${CORE} QUALITY SSIM >= 1.01`, 'SSIM target must be in (0, 1]', '1.01'],
    [`${CORE} QUALITY SSIM >= -0.5`, 'SSIM target must be in (0, 1]', '-'],
    [`${CORE} COLOR (0, 256, 0)`, 'COLOR components must be from 0 to 255', '256'],
    [`${CORE} COLOR (0, 0, -1)`, 'COLOR components must be from 0 to 255', '-'],
    [`${CORE} COLOR (0, 0)`, 'COLOR needs 3 numbers (r, g, b)', '('],
    [`${CORE} REGION (0, 0, 0, 8)`, 'REGION width must be a positive integer', '0, 8)'],
    [`${CORE} REGION (0, 0, 8, -8)`, 'REGION height must be a positive integer', '-8'],
    [`${CORE} REGION (-1, 0, 8, 8)`, 'REGION x must be a non-negative integer', '-1'],
    [`${CORE} REGION (0, 0.5, 8, 8)`, 'REGION y must be a non-negative integer', '0.5'],
    [`${CORE} REGION (0, 0, 8)`, 'REGION needs 4 numbers (x, y, width, height)', '('],
    [`${CORE} REGION (0, 0, 0, 8) IN IMAGE PIXELS`, 'REGION width must be a positive integer', '0,'],
    [`${CORE} RENDER TO ''`, 'RENDER TO directory must not be empty', "''"],
    [`${CORE} INTO ""`, 'a quoted name must not be empty', '""'],
    ["OCCLUDE '' USING MODEL m WITH PATCH 16 STRIDE 4", 'image pattern must not be empty', "''"],
    ["OCCLUDE ('a.png', '') USING MODEL m WITH PATCH 16 STRIDE 4", 'image path must not be empty', "''"],
    ["OCCLUDE 'a.png' USING MODEL '' WITH PATCH 16 STRIDE 4", 'model file path must not be empty', "''"],
    ["CREATE MODEL m FROM ''", 'model file path must not be empty', "''"],
    ["CREATE MODEL m FROM 'm.onnx' LABELS ''", 'LABELS file path must not be empty', "''"],
    ["CREATE MODEL m FROM 'm.onnx' OUTPUT NAME '' SIGMOID", 'OUTPUT NAME must not be empty', "''"],
    ["CREATE MODEL m FROM 'm.onnx' INPUT 0", 'INPUT must be a positive integer', '0'],
    ["CREATE MODEL m FROM 'm.onnx' INPUT 224 x 22.4", 'INPUT must be a positive integer', '22.4'],
    ["CREATE MODEL m FROM 'm.onnx' SCALE 2", 'SCALE must be 1 or 255', '2'],
    ["CREATE MODEL m FROM 'm.onnx' NORMALIZE MEAN (1, 2) STD (1, 2)", 'MEAN needs 1 number (gray) or 3 (r, g, b)', '(1, 2) STD'],
    ["CREATE MODEL m FROM 'm.onnx' NORMALIZE MEAN (1, 2, 3) STD (1)", 'STD needs as many numbers as MEAN', '(1)'],
    ["CREATE MODEL m FROM 'm.onnx' NORMALIZE MEAN (0.5) STD (0)", 'STD values must be positive', '0)'],
    ["CREATE MODEL m FROM 'm.onnx' CHANNELS GRAY NORMALIZE MEAN (1, 2, 3) STD (1, 2, 3)", 'MEAN needs 1 number for CHANNELS GRAY', '(1, 2, 3) STD'],
    ["CREATE MODEL m FROM 'm.onnx' NORMALIZE MEAN (1) STD (1) CHANNELS RGB", 'MEAN needs 3 numbers (r, g, b)', '(1) STD'],
  ])('%s', (script, detail, at) => {
    // `at` is the text the problem points to, found in the script independently of the parser.
    const expected = positionOf(script, at, script.split(at).length - 1);
    const { statements, errors } = parseScript(script);
    expect(statements).toEqual([]);
    expect(errors.map((problem) => [problem.message, problem.offset])).toEqual([
      [`line ${expected.line}, column ${expected.column}: ${detail}`, expected.offset],
    ]);
  });

  test('each bad value is reported, not just the first', () => {
    expect(messagesOf(`${HEAD} WITH PATCH 0 x 0 STRIDE 0 QUALITY SSIM >= 2`)).toEqual([
      'line 1, column 42: PATCH must be a positive integer',
      'line 1, column 46: PATCH must be a positive integer',
      'line 1, column 55: STRIDE must be a positive integer',
      'line 1, column 73: SSIM target must be in (0, 1]',
    ]);
  });

  // The second mention of the clause's keyword, in any case, is the one reported.
  test.each([
    [`${CORE} REGION (0, 0, 8, 8) INTO t REGION (1, 1, 8, 8)`, 'REGION'],
    [`${CORE} INTO a INTO b`, 'INTO'],
    [`${CORE} STRATEGY NAIVE strategy auto`, 'STRATEGY'],
    [`${CORE} RENDER TO 'a/' RENDER TO 'b/'`, 'RENDER TO'],
    [`${CORE} QUALITY SSIM >= 0.9 QUALITY SSIM >= 0.8`, 'QUALITY'],
    [`${HEAD} WITH PATCH 16 COLOR BLACK STRIDE 4 COLOR GRAY`, 'COLOR'],
    ["CREATE MODEL m FROM 'm.onnx' INPUT 224 SCALE 1 INPUT 224", 'INPUT'],
    ["CREATE MODEL m FROM 'm.onnx' LABELS 'a' LABELS 'b'", 'LABELS'],
    ["CREATE MODEL m FROM 'm.onnx' OUTPUT LOGITS OUTPUT LOGITS", 'OUTPUT'],
    ["CREATE MODEL m FROM 'm.onnx' OUTPUT NAME 'a' output sigmoid", 'OUTPUT'],
    ["CREATE MODEL m FROM 'm.onnx' NORMALIZE NONE NORMALIZE IMAGENET", 'NORMALIZE'],
    ["CREATE MODEL m FROM 'm.onnx' CHANNELS RGB CHANNELS RGB", 'CHANNELS'],
    ["CREATE MODEL m FROM 'm.onnx' SCALE 1 SCALE 255", 'SCALE'],
  ])('a repeated option: %s', (script, clause) => {
    const keyword = clause.split(' ')[0];
    const at = positionOf(script.toUpperCase(), keyword, 2);
    expect(parseScript(script).errors).toEqual([
      {
        message: `line ${at.line}, column ${at.column}: ${clause} is given more than once`,
        line: at.line,
        column: at.column,
        offset: at.offset,
        token: script.slice(at.offset, at.offset + keyword.length),
      },
    ]);
  });
});

describe('scripts with several bad statements', () => {
  test('every statement is checked; problems come in script order; only good statements are returned', () => {
    const script = [
      'SELECT 1;',
      `${HEAD} WITH PATCH 16 STRIDES 4;`,
      "CREATE MODEL m FROM 'm.onnx';",
      `${HEAD} WITH PATCH 16 STRIDE 0;`,
      "SELECT 'unterminated",
    ].join('\n');
    const { statements, errors } = parseScript(script);
    expect(errors.map((problem) => problem.message)).toEqual([
      "line 2, column 45: expected STRIDE but found 'STRIDES'",
      'line 4, column 52: STRIDE must be a positive integer',
      "line 5, column 8: unterminated string: the closing ' is missing",
    ]);
    expect(statements.map((statement) => statement.kind)).toEqual(['Sql', 'CreateModel']);
  });
});
