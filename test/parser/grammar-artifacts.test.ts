import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CST_TYPES_FILE, cstTypesText, DIAGRAM_FILE, diagramHtml } from '../../grammar/artifacts.js';

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
