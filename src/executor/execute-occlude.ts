import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isKryptonError, KryptonError, messageOf } from '../errors.js';
import { patchValues } from '../image/patch-color.js';
import { prepareImage, type PreparedImage } from '../image/prepare-image.js';
import { renderOverlay } from '../image/render-overlay.js';
import { heatmapGridOf } from '../image/heatmap-grid.js';
import { cellCount } from '../model/occlusion-grid.js';
import { cellSpecOf, createOperator, EXACT_INCREMENTAL, isExact, thresholdOf, type OperatorSpec } from '../operators/create-operator.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import type { Heatmap, OcclusionOperator } from '../operators/occlusion-task.js';
import { ssim } from '../operators/ssim.js';
import { heatmapChecksum } from '../planner/tune-quality.js';
import type { PhysicalOcclude } from '../planner/plan-occlude.js';
import type { Store } from '../store/index.js';
import { quoteString, summariseHeatmap } from '../store/index.js';
import type { ImageRef } from './image-source.js';

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
}

export type ImageStatus = 'done' | 'already done' | 'failed';

export interface ImageOutcome {
  readonly imageId: string;
  readonly imagePath: string;
  readonly status: ImageStatus;
  readonly classIndex?: number;
  readonly classLabel?: string | null;
  readonly baseProbability?: number;
  readonly maxDrop?: number;
  readonly maxDropX?: number;
  readonly maxDropY?: number;
  readonly elapsedMs?: number;
  /** SSIM against the exact heatmap, where it was measured (tuning sample, VERIFY). */
  readonly ssim?: number;
  /** Positions per inference call. */
  readonly batchSize?: number;
  readonly overlay?: string;
  readonly error?: string;
}

export interface OcclusionRun {
  readonly outcomes: readonly ImageOutcome[];
  readonly elapsedMs: number;
}

/** The results' columns that record the plan's approximation. */
function approximationColumns(spec: OperatorSpec, grid: OcclusionGrid) {
  const drill = spec.kind === 'drilldown' ? spec.shape : undefined;
  return {
    tau: cellSpecOf(spec).kind === 'incremental' ? thresholdOf(spec) : null,
    coarseStrideX: drill ? grid.strideX * drill.factorX : null,
    coarseStrideY: drill ? grid.strideY * drill.factorY : null,
    drillFraction: drill ? drill.fraction : null,
  };
}

/**
 * Streams the images through the chosen operator, one model session for all of them. Each image's
 * row is committed on its own, so an interrupted run keeps every finished image, and a rerun of
 * the same statement skips them. An image that cannot be read is reported and the others go on.
 *
 * Approximate plans record the SSIM they reached where it was measured: the tuning sample's images
 * (whose heatmaps the tuner already computed, stored as they are) and those VERIFY chose (an
 * exact heatmap is computed beside the approximate one).
 */
export interface ExecutionOptions {
  readonly onProgress?: (progress: OcclusionProgress) => void;
  /** Checked between batches: an aborted run keeps the images it finished. */
  readonly signal?: AbortSignal;
  /** Positions per inference call; chosen from memory when absent. */
  readonly batchSize?: number;
}

export async function executeOcclude(plan: PhysicalOcclude, store: Store, options: ExecutionOptions = {}): Promise<OcclusionRun> {
  const { onProgress, signal, batchSize } = options;
  const started = performance.now();
  const { logical } = plan;
  const { model, spec, labels } = logical.model;
  await store.ensureResultsTable(logical.table);
  const finished = await store.completedImages(logical.table, plan.queryId);
  const positions = cellCount(logical.grid);
  const outcomes: ImageOutcome[] = [];
  const todo = logical.images.filter((image) => !finished.has(image.path));
  const approximate = !isExact(plan.spec);
  const sampleResults = plan.tuning?.sampleResults;
  const cachedScores = new Map((plan.tuning?.cached ? plan.tuning.samples : []).map((s) => [s.path, s]));
  const needsOperator = todo.some((image) => !sampleResults?.has(image.path));
  const operator = needsOperator ? await createOperator(plan.spec, model, logical.grid) : undefined;
  let verifier: OcclusionOperator | undefined;
  const columns = approximationColumns(plan.spec, logical.grid);
  try {
    for (const image of logical.images) {
      const report = (positionsDone: number) => onProgress?.({ imagesDone: outcomes.length, images: logical.images.length, imagePath: image.path, positionsDone, positions });
      if (signal?.aborted) throw interrupted(outcomes, logical.tableName);
      if (finished.has(image.path)) {
        const overlay = logical.renderDir ? await renderStored(plan, store, image) : undefined;
        outcomes.push({ imageId: image.imageId, imagePath: image.path, status: 'already done', overlay });
        continue;
      }
      report(0);
      let prepared;
      try {
        prepared = await prepareImage(image.path, spec);
      } catch (error) {
        if (!isKryptonError(error)) throw error;
        outcomes.push({ imageId: image.imageId, imagePath: image.path, status: 'failed', error: messageOf(error) });
        continue;
      }
      const sample = sampleResults?.get(image.path);
      const imageStarted = performance.now();
      let heatmap: Heatmap;
      let measuredSsim: number | undefined;
      // The heatmap's own time: verification's exact run is not part of it.
      let computedMs = 0;
      try {
        const task = {
          input: prepared.tensor,
          patchValues: patchValues(logical.color, prepared, spec),
          target: logical.target,
          batchSize,
          // Drill-down runs fewer cells than the grid has: progress is the share done.
          onProgress: (done: number, total: number) => report(Math.round((done / Math.max(total, 1)) * positions)),
          signal,
        };
        if (sample) {
          heatmap = sample.heatmap;
          report(positions);
          if (approximate) measuredSsim = sample.ssim;
        } else {
          heatmap = await operator!.run(task);
          computedMs = performance.now() - imageStarted;
          const scored = cachedScores.get(image.path);
          if (approximate && scored && scored.checksum === heatmapChecksum(heatmap.values)) measuredSsim = scored.ssim;
          if (approximate && plan.verifyImages.has(image.path)) {
            verifier ??= await createOperator(EXACT_INCREMENTAL, model, logical.grid);
            const exact = await verifier.run({ ...task, onProgress: undefined });
            measuredSsim = ssim(exact.values, heatmap.values, logical.grid.columns, logical.grid.rows);
          }
        }
      } catch (error) {
        if (isKryptonError(error) && error.code === 'interrupted') throw interrupted(outcomes, logical.tableName);
        throw error;
      }
      const elapsedMs = sample ? sample.elapsedMs : computedMs;
      const classLabel = labels?.[heatmap.classIndex] ?? null;
      const record = {
        queryId: plan.queryId,
        imagePath: image.path,
        imageId: image.imageId,
        model: logical.model.name,
        classIndex: heatmap.classIndex,
        classLabel,
        baseProbability: heatmap.baseProbability,
        patchHeight: logical.grid.patchHeight,
        patchWidth: logical.grid.patchWidth,
        strideY: logical.grid.strideY,
        strideX: logical.grid.strideX,
        strategy: plan.strategy,
        height: logical.grid.rows,
        width: logical.grid.columns,
        heatmap: heatmap.values,
        elapsedMs,
        originX: logical.grid.originX,
        originY: logical.grid.originY,
        ssim: measuredSsim ?? null,
        ...columns,
      };
      await store.insertHeatmaps(logical.table, [record]);
      const overlay = logical.renderDir
        ? await render(plan, image, prepared, heatmap.values, heatmap.baseProbability, classLabel ?? `class ${heatmap.classIndex}`)
        : undefined;
      const summary = summariseHeatmap(record);
      outcomes.push({
        imageId: image.imageId, imagePath: image.path, status: 'done', classIndex: heatmap.classIndex, classLabel,
        baseProbability: heatmap.baseProbability, maxDrop: summary.maxDrop, maxDropX: summary.maxDropX, maxDropY: summary.maxDropY, elapsedMs,
        ssim: measuredSsim, batchSize: heatmap.batchSize, overlay,
      });
    }
  } finally {
    await operator?.release();
    await verifier?.release();
  }
  return { outcomes, elapsedMs: performance.now() - started };
}

function interrupted(outcomes: readonly ImageOutcome[], table: string): KryptonError {
  const kept = outcomes.filter((o) => o.status === 'done').length;
  return new KryptonError(`interrupted: ${kept === 1 ? '1 image' : `${kept} images`} finished in this run ${kept === 1 ? 'is' : 'are'} kept in ${table}; run the statement again to do the rest`, 'interrupted');
}

/** Draws one image's heatmap into the RENDER TO folder as <image_id>.png; returns the file. */
async function render(
  plan: PhysicalOcclude, image: ImageRef, prepared: PreparedImage, values: Float32Array, baseProbability: number, className: string,
): Promise<string> {
  const { grid, renderDir } = plan.logical;
  const overlay = join(renderDir!, `${image.imageId}.png`);
  await renderOverlay(prepared, heatmapGridOf(grid, values), overlay, { baseProbability, title: `${image.imageId}: ${className} p=${baseProbability.toFixed(3)}` });
  return overlay;
}

/**
 * An image done by an earlier run of the statement, rendered from its stored heatmap when its
 * overlay is missing (a RENDER TO added on the rerun, or a folder cleared since).
 */
async function renderStored(plan: PhysicalOcclude, store: Store, image: ImageRef): Promise<string | undefined> {
  const { logical } = plan;
  const overlay = join(logical.renderDir!, `${image.imageId}.png`);
  if (existsSync(overlay)) return overlay;
  const { rows } = await store.query(
    `SELECT heatmap, base_probability, class_index, class_label FROM ${logical.table} WHERE query_id = ${quoteString(plan.queryId)} AND image_path = ${quoteString(image.path)}`,
  );
  if (rows.length === 0) return undefined;
  const [row] = rows;
  let prepared: PreparedImage;
  try {
    prepared = await prepareImage(image.path, logical.model.spec);
  } catch (error) {
    if (isKryptonError(error)) return undefined;
    throw error;
  }
  const values = Float32Array.from(row.heatmap as number[]);
  return render(plan, image, prepared, values, row.base_probability as number, (row.class_label as string | null) ?? `class ${row.class_index}`);
}
