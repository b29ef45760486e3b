/** The Krypton language: script text → typed statements, or every problem with its position. */
export { parseScript, parseScriptWithSql } from './parse-script.js';
export type { ParsedScript, SqlSyntaxCheck } from './parse-script.js';
export type { SyntaxProblem } from './syntax-problem.js';
export { splitScript, isCompleteScript } from './split-script.js';
export type { ScriptPiece, SplitScript } from './split-script.js';
export { isKryptonStatementStart } from './statement-start.js';
export { KEYWORDS } from '../../grammar/tokens.js';
export { isStatement, visitStatement, quoteIdentifier } from './ast.js';
export type * from './ast.js';
