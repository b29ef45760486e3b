import { join } from 'node:path';
import { isKryptonError, KryptonError, messageOf } from '../errors.js';
import { patchValues } from '../image/patch-color.js';
import { prepareImage } from '../image/prepare-image.js';
import { renderOverlay } from '../image/render-overlay.js';
import { cellCount } from '../model/occlusion-grid.js';
import { createOperator } from '../operators/create-operator.js';
import type { Heatmap } from '../operators/occlusion-task.js';
import type { PhysicalOcclude } from '../planner/plan-occlude.js';
import type { Store } from '../store/index.js';
import { summariseHeatmap } from '../store/index.js';

export interface OcclusionProgress {
  /** Images finished (done, failed or already done) and all of them. */
  readonly imagesDone: number;
  readonly images: number;
  readonly imagePath: string;
  /** Positions of the current image done, and per image. */
  readonly positionsDone: number;
  readonly positions: number;
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
  readonly overlay?: string;
  readonly error?: string;
}

export interface OcclusionRun {
  readonly outcomes: readonly ImageOutcome[];
  readonly elapsedMs: number;
}

/**
 * Streams the images through the chosen operator, one model session for all of them. Each image's
 * row is committed on its own, so an interrupted run keeps every finished image, and a rerun of
 * the same statement skips them. An image that cannot be read is reported and the others go on.
 */
export async function executeOcclude(
  plan: PhysicalOcclude, store: Store, onProgress?: (progress: OcclusionProgress) => void, signal?: AbortSignal,
): Promise<OcclusionRun> {
  const started = performance.now();
  const { logical } = plan;
  const { model, spec, labels } = logical.model;
  await store.ensureResultsTable(logical.table);
  const finished = await store.completedImages(logical.table, logical.queryId);
  const positions = cellCount(logical.grid);
  const outcomes: ImageOutcome[] = [];
  const todo = logical.images.filter((image) => !finished.has(image.path));
  const operator = todo.length > 0 ? await createOperator(plan.strategy, model, logical.grid) : undefined;
  try {
    for (const image of logical.images) {
      const report = (positionsDone: number) => onProgress?.({ imagesDone: outcomes.length, images: logical.images.length, imagePath: image.path, positionsDone, positions });
      if (signal?.aborted) throw interrupted(outcomes, logical.tableName);
      if (finished.has(image.path)) {
        outcomes.push({ imageId: image.imageId, imagePath: image.path, status: 'already done' });
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
      const imageStarted = performance.now();
      let heatmap: Heatmap;
      try {
        heatmap = await operator!.run({
          input: prepared.tensor,
          patchValues: patchValues(logical.color, prepared, spec),
          target: logical.target,
          onProgress: (done) => report(done),
          signal,
        });
      } catch (error) {
        if (isKryptonError(error) && error.code === 'interrupted') throw interrupted(outcomes, logical.tableName);
        throw error;
      }
      const elapsedMs = performance.now() - imageStarted;
      const classLabel = labels?.[heatmap.classIndex] ?? null;
      const record = {
        queryId: logical.queryId,
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
      };
      await store.insertHeatmaps(logical.table, [record]);
      let overlay: string | undefined;
      if (logical.renderDir) {
        overlay = join(logical.renderDir, `${image.imageId}.png`);
        const grid = logical.grid;
        await renderOverlay(prepared, {
          width: grid.columns, height: grid.rows, values: heatmap.values, patchWidth: grid.patchWidth, patchHeight: grid.patchHeight,
          strideX: grid.strideX, strideY: grid.strideY, originX: grid.originX, originY: grid.originY,
        }, overlay, { baseProbability: heatmap.baseProbability, title: `${image.imageId}: ${classLabel ?? `class ${heatmap.classIndex}`} p=${heatmap.baseProbability.toFixed(3)}` });
      }
      const summary = summariseHeatmap(record);
      outcomes.push({
        imageId: image.imageId, imagePath: image.path, status: 'done', classIndex: heatmap.classIndex, classLabel,
        baseProbability: heatmap.baseProbability, maxDrop: summary.maxDrop, maxDropX: summary.maxDropX, maxDropY: summary.maxDropY, elapsedMs, overlay,
      });
    }
  } finally {
    await operator?.release();
  }
  return { outcomes, elapsedMs: performance.now() - started };
}

function interrupted(outcomes: readonly ImageOutcome[], table: string): KryptonError {
  const kept = outcomes.filter((o) => o.status === 'done').length;
  return new KryptonError(`interrupted: ${kept === 1 ? '1 image' : `${kept} images`} finished in this run ${kept === 1 ? 'is' : 'are'} kept in ${table}; run the statement again to do the rest`, 'interrupted');
}
