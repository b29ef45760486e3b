/** Krypton as a library: open a database, run scripts, read results as rows or Arrow. */
export { open, Krypton, SyntaxErrors, ImageFailures } from './krypton.js';
export type { StatementResult, ExecuteOptions, OpenOptions, OcclusionProgress, Throughput, ImageFailure } from './krypton.js';
export { KryptonError, isKryptonError } from './errors.js';
export type { OccludeOptions } from './occlude-options.js';
export { occludeStatement } from './occlude-options.js';
export { loadModel } from './model/load-model.js';
export type { LoadedModel } from './model/load-model.js';
export { occlusionGrid } from './model/occlusion-grid.js';
export type { OcclusionGrid } from './model/occlusion-grid.js';
export { costModel } from './model/cost-model.js';
export { NaiveOcclusion } from './operators/naive-inference.js';
export { IncrementalOcclusion } from './operators/incremental-inference.js';
export type { Heatmap, OcclusionTask, TargetClass } from './operators/occlusion-task.js';
export { buildZooModel, ZOO_ARCHITECTURES } from './zoo/build-zoo-model.js';
export { randomCnn } from './zoo/random-cnn.js';
