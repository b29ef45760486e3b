import { isCompleteScript, parseScript, splitScript } from '../../src/parser/index.js';

/** The statement texts a script splits into. */
function texts(script: string): string[] {
  return splitScript(script).pieces.map((piece) => piece.text);
}

describe('splitScript', () => {
  test('splits at every top-level semicolon and trims whitespace', () => {
    expect(texts('SELECT 1;SELECT 2 ;\n  SELECT 3')).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
  });

  test('a semicolon inside a string is not a boundary, and doubled quotes do not end the string', () => {
    expect(texts("SELECT 'a;b', 'it''s; fine';SELECT ''';'")).toEqual([
      "SELECT 'a;b', 'it''s; fine'",
      "SELECT ''';'",
    ]);
  });

  test('E-strings take backslash escapes, but only when the E stands alone', () => {
    expect(texts("SELECT E'it\\'s; ok'; SELECT 2")).toEqual(["SELECT E'it\\'s; ok'", 'SELECT 2']);
    // `name'…'` is not an E-string: the backslash is an ordinary character and the quote closes.
    expect(texts("SELECT name'\\'; SELECT 2")).toEqual(["SELECT name'\\'", 'SELECT 2']);
  });

  test('a semicolon inside a quoted identifier is not a boundary', () => {
    expect(texts('SELECT 1 AS "a;""b"; SELECT 2')).toEqual(['SELECT 1 AS "a;""b"', 'SELECT 2']);
  });

  test('dollar quotes, tagged and untagged, hide semicolons and other dollar quotes', () => {
    const script = "CREATE MACRO f() AS $$ 1; $$; SELECT $body$ a $$ ; $x$ $body$; SELECT 3";
    expect(texts(script)).toEqual([
      'CREATE MACRO f() AS $$ 1; $$',
      'SELECT $body$ a $$ ; $x$ $body$',
      'SELECT 3',
    ]);
  });

  test('a dollar sign that cannot open a dollar quote is an ordinary character', () => {
    expect(texts('SELECT $1; SELECT a$b$; SELECT 3')).toEqual(['SELECT $1', 'SELECT a$b$', 'SELECT 3']);
  });

  test('comments hide semicolons; block comments nest', () => {
    const script = 'SELECT 1 -- not here; nor here\n+ 1; SELECT /* a; /* b; */ c; */ 2; SELECT 3';
    expect(texts(script)).toEqual(['SELECT 1 -- not here; nor here\n+ 1', 'SELECT /* a; /* b; */ c; */ 2', 'SELECT 3']);
  });

  test('a single - or / is an operator, not a comment', () => {
    expect(texts('SELECT 4/2; SELECT 3-1; SELECT 2')).toEqual(['SELECT 4/2', 'SELECT 3-1', 'SELECT 2']);
  });

  test('empty statements and comment-only stretches are skipped', () => {
    expect(texts(';; ;\n-- just a note\n; /* and another */ ;')).toEqual([]);
    expect(texts('')).toEqual([]);
  });

  test('leading and trailing comments are not part of a statement', () => {
    const script = '-- heading\n/* more */ SELECT 1 /* tail */ -- end\n;';
    const [piece] = splitScript(script).pieces;
    expect(piece).toEqual({ text: 'SELECT 1', start: 22, end: 30, closed: true });
  });

  test('the last statement need not end with a semicolon', () => {
    const { pieces } = splitScript('SELECT 1; SELECT 2 -- trailing');
    expect(pieces.map((piece) => [piece.text, piece.closed])).toEqual([
      ['SELECT 1', true],
      ['SELECT 2', false],
    ]);
  });

  test.each([
    ["SELECT 'open; SELECT 2", 'string', 7],
    ['SELECT "open; SELECT 2', 'quoted-identifier', 7],
    ['SELECT $t$ open; SELECT 2', 'dollar-quote', 7],
    ['SELECT 1; /* open /* nested */ ', 'block-comment', 10],
  ])('reports what is still open at the end: %s', (script, kind, start) => {
    expect(splitScript(script).unterminated).toMatchObject({ kind, start, terminated: false });
  });
});

describe('parseScript on pass-through SQL', () => {
  test('keeps each statement exactly as written, with the line and column where it starts', () => {
    const script = "  SELECT 'x;y' AS \"a;b\"\n   FROM t; -- note\n\n\tINSERT INTO t VALUES ($$;$$);\n";
    expect(parseScript(script)).toEqual({
      statements: [
        { kind: 'Sql', position: { line: 1, column: 3, offset: 2 }, text: "SELECT 'x;y' AS \"a;b\"\n   FROM t" },
        { kind: 'Sql', position: { line: 4, column: 2, offset: 45 }, text: 'INSERT INTO t VALUES ($$;$$)' },
      ],
      errors: [],
    });
  });

  test('counts lines across CRLF line ends', () => {
    const { statements } = parseScript('SELECT 1;\r\n\r\n  SELECT 2');
    expect(statements[1].position).toEqual({ line: 3, column: 3, offset: 15 });
  });

  test('statements that merely look like Krypton words stay SQL', () => {
    const script = 'EXPLAIN SELECT 1; EXPLAIN ANALYZE SELECT 2; CREATE TABLE model (x INT); DROP TABLE model; SELECT occlude FROM t';
    expect(parseScript(script).statements.map((s) => s.kind)).toEqual(['Sql', 'Sql', 'Sql', 'Sql', 'Sql']);
  });

  test.each([
    ["SELECT 1;\nSELECT 'open", "line 2, column 8: unterminated string: the closing ' is missing"],
    ['SELECT "open', 'line 1, column 8: unterminated quoted name: the closing " is missing'],
    ['SELECT $body$ open', 'line 1, column 8: unterminated dollar-quoted string: the closing $body$ is missing'],
    ['SELECT 1; /* open', 'line 1, column 11: unterminated comment: the closing */ is missing'],
  ])('reports an unterminated %j', (script, message) => {
    expect(parseScript(script).errors.map((problem) => problem.message)).toEqual([message]);
  });

  test('the statement holding an unterminated string is not returned', () => {
    const { statements, errors } = parseScript("SELECT 1; SELECT 'x");
    expect(statements.map((s) => s.text)).toEqual(['SELECT 1']);
    expect(errors).toEqual([
      {
        message: "line 1, column 18: unterminated string: the closing ' is missing",
        line: 1,
        column: 18,
        offset: 17,
      },
    ]);
  });
});

describe('isCompleteScript', () => {
  test.each([
    ['SELECT 1;', true],
    ['SELECT 1; -- done', true],
    ['SELECT 1', false],
    ["SELECT ';'", false],
    ["SELECT 'a;", false],
    ['SELECT 1; /* open ;', false],
    ['SELECT $$ ; ', false],
    ['', false],
    ['  ;  ', false],
  ])('%j → %s', (script, complete) => {
    expect(isCompleteScript(script)).toBe(complete);
  });
});
