/**
 * Files generated from the grammar and committed next to it: the CST type declarations the AST
 * builder is checked against, and the railroad diagram. A test keeps both in step with the rules.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createSyntaxDiagramsCode, generateCstDts } from './chevrotain.js';
import { KryptonParser } from './parser.js';

export const CST_TYPES_FILE = 'cst.d.ts';
export const DIAGRAM_FILE = 'diagram.html';

/** The grammar folder in the source tree, whether running from `dist/grammar` or from `grammar`. */
export function grammarSourceDir(): string {
  const here = __dirname;
  return here.endsWith(join('dist', 'grammar')) ? join(here, '..', '..', 'grammar') : here;
}

export function cstTypesText(): string {
  const header = '// Generated from grammar/parser.ts by grammar/write-cst-types.ts; do not edit.\n';
  return header + generateCstDts(new KryptonParser().getGAstProductions());
}

/**
 * The railroad diagram as one self-contained page: chevrotain's generated page loads its scripts
 * and stylesheet from a CDN, so they are inlined from the installed package instead.
 */
export function diagramHtml(): string {
  const page = createSyntaxDiagramsCode(new KryptonParser().getSerializedGastProductions(), {
    resourceBase: 'RESOURCE_BASE/',
    css: 'RESOURCE_BASE/diagrams.css',
  });
  const assets = join(dirname(require.resolve('chevrotain')), '..', '..', 'diagrams');
  const inline = (relative: string) => readFileSync(join(assets, relative), 'utf8');
  return page
    .replace(/<link rel='stylesheet' href='RESOURCE_BASE\/diagrams\.css'>/, () => `<style>\n${inline('diagrams.css')}</style>`)
    .replace(/<script src='RESOURCE_BASE\/([^']+)'><\/script>/g, (_tag, file: string) => `<script>\n${inline(file)}</script>`);
}
