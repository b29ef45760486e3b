/**
 * Krypton as a library: open a database, run scripts, read results as rows or Arrow. Only what a
 * pipeline needs is exported; the engine's operators and model analysis stay internal, and so do
 * their dependencies' type declarations, which a consumer compiling without skipLibCheck would fail on.
 */
export { open, Krypton, SyntaxErrors, ImageFailures } from './krypton.js';
export type { StatementResult, ExplainResult, ExecuteOptions, OpenOptions, OcclusionProgress, HeatmapSoFar, Throughput, ImageFailure } from './krypton.js';
export { KryptonError, isKryptonError } from './errors.js';
export type { KryptonErrorCode } from './errors.js';
export type { OccludeOptions } from './occlude-options.js';
export { occludeStatement } from './occlude-options.js';
export { occlusionGrid } from './model/occlusion-grid.js';
export type { OcclusionGrid } from './model/occlusion-grid.js';
export { buildZooModel, ZOO_ARCHITECTURES } from './zoo/build-zoo-model.js';
export { randomCnn } from './zoo/random-cnn.js';
