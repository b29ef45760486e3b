/**
 * How far an OCCLUDE statement has got, as the library's `onProgress` reports it. Declared apart
 * from the executor so that the library's public types stay clear of the engine's internals (and
 * of their dependencies' type declarations).
 */
export interface OcclusionProgress {
  /** Images finished (done, failed or already done) and all of them. */
  readonly imagesDone: number;
  readonly images: number;
  readonly imagePath: string;
  /** Positions of the current image done, and per image. */
  readonly positionsDone: number;
  readonly positions: number;
  /** While the planner tunes an approximate plan: what it is running (no image is being occluded). */
  readonly tuning?: string;
  /** The planner's estimate for the images still to compute, in seconds. */
  readonly estimatedSeconds?: number;
  /** The current image's heatmap as far as it is computed, after each batch. */
  readonly heatmap?: HeatmapSoFar;
}

/** A heatmap's grid in model-input pixels: cell (x, y) covers the patch at (originX + x·strideX, originY + y·strideY). */
export interface HeatmapGeometry {
  readonly columns: number;
  readonly rows: number;
  readonly patchWidth: number;
  readonly patchHeight: number;
  readonly strideX: number;
  readonly strideY: number;
  readonly originX: number;
  readonly originY: number;
}

/** A heatmap while it fills in: drill-down shows its coarse stage first, then the fine one over its estimate. */
export interface HeatmapSoFar extends HeatmapGeometry {
  readonly stage: 'all' | 'coarse' | 'fine';
  /** The class, and its probability on the clean image. */
  readonly classIndex: number;
  readonly baseProbability: number;
  /** columns × rows, row-major; NaN where not yet known. Changes after the call: copy what is kept. */
  readonly values: Float32Array;
}
