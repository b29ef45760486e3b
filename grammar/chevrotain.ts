/**
 * chevrotain, from the single-file build its package ships beside the entry point. The entry point
 * is some 700 ES modules (chevrotain's own and lodash-es's) that take Node about 0.2 s to load,
 * which every process that reads a statement paid; the bundle, the same release in one file, loads
 * in about 20 ms. Everything here imports chevrotain's values from this module, so that its tokens,
 * EOF and parsers all come from one copy of it (types may still come from 'chevrotain').
 */
import { dirname, join } from 'node:path';

const chevrotain: typeof import('chevrotain') = require(join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.mjs'));

export const { createToken, createSyntaxDiagramsCode, CstParser, EOF, generateCstDts, Lexer, tokenMatcher } = chevrotain;
