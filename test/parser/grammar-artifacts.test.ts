import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CST_TYPES_FILE, cstTypesText, DIAGRAM_FILE, diagramHtml } from '../../grammar/artifacts.js';
import { KryptonParser } from '../../grammar/parser.js';
import { createKryptonLexer } from '../../grammar/tokens.js';

const grammarDir = join(__dirname, '..', '..', 'grammar');

// After changing the grammar: `npm run build`, then `node dist/grammar/write-cst-types.js` and
// `node dist/grammar/write-diagram.js`, and commit the regenerated files.
describe('files generated from the grammar are up to date', () => {
  test(CST_TYPES_FILE, () => {
    expect(readFileSync(join(grammarDir, CST_TYPES_FILE), 'utf8')).toBe(cstTypesText());
  });

  test(DIAGRAM_FILE, () => {
    expect(readFileSync(join(grammarDir, DIAGRAM_FILE), 'utf8')).toBe(diagramHtml());
  });

  test('the diagram page is self-contained: it loads nothing from the network', () => {
    const html = diagramHtml();
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b/i);
    expect(html).toContain('"name": "occlude"');
    expect(html).toContain('drawDiagramsFromSerializedGrammar');
  });
});

// The CLI builds its lexer and parser without chevrotain's checks (they cost every process); they run here.
test('the token definitions and the grammar pass chevrotain\'s checks', () => {
  expect(() => createKryptonLexer({ validate: true })).not.toThrow();
  expect(() => new KryptonParser(undefined, { validate: true })).not.toThrow();
});
