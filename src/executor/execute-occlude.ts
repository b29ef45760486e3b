import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { isKryptonError, KryptonError, messageOf } from '../errors.js';
import { patchValues } from '../image/patch-color.js';
import { prepareAndShowImage, prepareImageFromBuffer, shownImageFromBuffer, type ShownImage } from '../image/prepare-image.js';
import { imageFileCap, readRegularFile } from '../io/read-regular-file.js';
import { imageError } from '../image/decode-image.js';
import { dropRange, recordedScale, renderShownOverlay, scaleSignature, type DropRange, type OverlayScale } from '../image/render-overlay.js';
import { removeAbandonedTemporaries } from '../io/write-atomically.js';
import { heatmapGridOf } from '../image/heatmap-grid.js';
import { cellCount } from '../model/occlusion-grid.js';
import type { SessionCache } from '../model/session-cache.js';
import { checkMappedFile } from '../model/weight-files.js';
import { cellSpecOf, createOperator, EXACT_INCREMENTAL, isExact, thresholdOf, type OperatorSpec } from '../operators/create-operator.js';
import type { OcclusionGrid } from '../model/occlusion-grid.js';
import type { Heatmap, OcclusionOperator, PartialHeatmap } from '../operators/occlusion-task.js';
import { ssim } from '../operators/ssim.js';
import { heatmapChecksum } from '../planner/tune-quality.js';
import type { PhysicalOcclude } from '../planner/plan-occlude.js';
import type { Store } from '../store/index.js';
import { imageKey, quoteString, summariseHeatmap } from '../store/index.js';
import { sameInputs, type StoredInputs } from '../store/results-writer.js';
import type { ImageRef } from './image-source.js';
import type { OcclusionProgress } from '../occlusion-progress.js';

export type { OcclusionProgress } from '../occlusion-progress.js';

export type ImageStatus = 'done' | 'already done' | 'failed';

export interface ImageOutcome {
  readonly imageId: string;
  readonly imagePath: string;
  /** The frame of a multi-frame file, from 1. */
  readonly frame: number;
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
  /** Why a stored row of the image was recomputed and replaced: its image or model file changed since. */
  readonly replaced?: string;
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
  /** The session's cache of onnxruntime sessions: the operators' are taken from it and left in it. */
  readonly sessions?: SessionCache;
}

/** Why a stored row does not stand for the files as they are now, or undefined when it does. */
export function staleness(stored: StoredInputs, imageSha256: string, modelSha256: string): string | undefined {
  if (sameInputs(stored, { imageSha256, modelSha256 })) return undefined;
  if (stored.imageSha256 === null || stored.modelSha256 === null) return 'its stored row does not record the files it was computed from';
  const changed = [stored.imageSha256 !== imageSha256 && 'image', stored.modelSha256 !== modelSha256 && 'model'].filter(Boolean);
  return `the ${changed.join(' and ')} file changed since it was stored`;
}

/** An image file's bytes, read under the decoder's checks (a regular file, within the size cap). */
export function readImageFile(path: string): Promise<Buffer> {
  return readRegularFile(path, imageFileCap(), ({ problem }) => imageError(path, problem));
}

/**
 * RENDER TO file names, one per image and never two alike: the image id with characters other
 * than letters, digits, '.', '_' and '-' replaced by '_' (so an id such as 'p1/scan' or
 * '../x' stays inside the folder), and where two ids would still meet, a short hash of the path
 * (and frame). Keyed by imageKey.
 */
export function overlayFileNames(images: readonly ImageRef[]): Map<string, string> {
  const safe = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length)) || '_';
  const names = images.map((image) => safe(image.imageId));
  // Case-insensitive file systems would take 'Scan' and 'scan' for one file.
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name.toLowerCase(), (counts.get(name.toLowerCase()) ?? 0) + 1);
  return new Map(images.map((image, i) => {
    const name = names[i];
    const hashed = image.frame === 1 ? image.path : imageKey(image);
    const unique = counts.get(name.toLowerCase())! > 1 ? `${name}-${createHash('sha256').update(hashed).digest('hex').slice(0, 8)}` : name;
    return [imageKey(image), `${unique}.png`];
  }));
}

export async function executeOcclude(plan: PhysicalOcclude, store: Store, options: ExecutionOptions = {}): Promise<OcclusionRun> {
  const { onProgress, signal, batchSize, sessions } = options;
  const started = performance.now();
  const { logical } = plan;
  const { model, spec } = logical.model;
  await store.ensureResultsTable(logical.table);
  const stored = await store.storedInputs(logical.table, plan.queryId);
  const positions = cellCount(logical.grid);
  const outcomes: ImageOutcome[] = [];
  const approximate = !isExact(plan.spec);
  const sampleResults = plan.tuning?.sampleResults;
  const cachedScores = new Map((plan.tuning?.cached ? plan.tuning.samples : []).map((s) => [imageKey(s), s]));
  const overlayNames = overlayFileNames(logical.images);
  if (logical.renderDir) await removeAbandonedTemporaries(logical.renderDir);
  let operator: OcclusionOperator | undefined;
  let verifier: OcclusionOperator | undefined;
  const modelSha256 = logical.model.fileHash;
  const { columns: gridColumns, rows, patchWidth, patchHeight, strideX, strideY, originX, originY } = logical.grid;
  const gridGeometry = { columns: gridColumns, rows, patchWidth, patchHeight, strideX, strideY, originX, originY };
  const estimatedSeconds = plan.chosen.secondsPerImage * logical.images.filter((image) => !stored.has(imageKey(image))).length;
  const { sharedScale, ownScale } = overlayScales(plan);
  try {
    for (const image of logical.images) {
      const key = imageKey(image);
      const report = (positionsDone: number, partial?: PartialHeatmap) => onProgress?.({
        imagesDone: outcomes.length, images: logical.images.length, imagePath: image.path, positionsDone, positions, estimatedSeconds,
        ...(partial && { heatmap: { stage: partial.stage, ...gridGeometry, classIndex: partial.classIndex, baseProbability: partial.baseProbability, values: partial.values } }),
      });
      const failed = (error: unknown) => outcomes.push({ imageId: image.imageId, imagePath: image.path, frame: image.frame, status: 'failed', error: messageOf(error) });
      if (signal?.aborted) throw interrupted(outcomes, logical.tableName);
      // Read once: the hash recorded is that of the very bytes decoded.
      let bytes: Buffer;
      try {
        bytes = await readImageFile(image.path);
      } catch (error) {
        if (!isKryptonError(error)) throw error;
        failed(error);
        continue;
      }
      const imageSha256 = createHash('sha256').update(bytes).digest('hex');
      const storedInputs = stored.get(key);
      const replaced = storedInputs && staleness(storedInputs, imageSha256, modelSha256);
      // A shared scale is known only once every image is done: those overlays are drawn after the loop.
      const overlayFile = logical.renderDir && !sharedScale ? join(logical.renderDir, overlayNames.get(key)!) : undefined;
      if (storedInputs && !replaced) {
        let overlay: string | undefined;
        try {
          overlay = overlayFile ? await renderStored(plan, store, image, bytes, overlayFile, ownScale) : undefined;
        } catch (error) {
          if (!isKryptonError(error)) throw error;
          failed(error);
          continue;
        }
        outcomes.push({ imageId: image.imageId, imagePath: image.path, frame: image.frame, status: 'already done', overlay });
        continue;
      }
      report(0);
      let prepared;
      let shown: ShownImage | undefined;
      try {
        // One decode serves the model and, at the image's own size, its overlay.
        if (overlayFile) ({ prepared, shown } = await prepareAndShowImage(bytes, spec, image.path, undefined, image.frame));
        else prepared = await prepareImageFromBuffer(bytes, spec, image.path, image.frame);
      } catch (error) {
        if (!isKryptonError(error)) throw error;
        failed(error);
        continue;
      }
      // The tuning computed the sample's heatmaps in this run, from the files as they are.
      const sample = sampleResults?.get(key);
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
          onProgress: (done: number, total: number, partial?: PartialHeatmap) => report(Math.round((done / Math.max(total, 1)) * positions), partial),
          signal,
        };
        if (sample) {
          heatmap = sample.heatmap;
          report(positions, { stage: 'all', values: heatmap.values, classIndex: heatmap.classIndex, baseProbability: heatmap.baseProbability });
          if (approximate) measuredSsim = sample.ssim;
        } else {
          operator ??= await createOperator(plan.spec, model, logical.grid, { sessions });
          heatmap = await operator.run(task);
          computedMs = performance.now() - imageStarted;
          const scored = cachedScores.get(key);
          if (approximate && scored && scored.checksum === heatmapChecksum(heatmap.values)) measuredSsim = scored.ssim;
          if (approximate && plan.verifyImages.has(key)) {
            verifier ??= await createOperator(EXACT_INCREMENTAL, model, logical.grid, { sessions });
            const exact = await verifier.run({ ...task, onProgress: undefined });
            measuredSsim = ssim(exact.values, heatmap.values, logical.grid.columns, logical.grid.rows);
          }
        }
      } catch (error) {
        if (isKryptonError(error) && error.code === 'interrupted') throw interrupted(outcomes, logical.tableName);
        throw error;
      }
      const elapsedMs = sample ? sample.elapsedMs : computedMs;
      outcomes.push(await storeHeatmap(plan, store, { image, shown, heatmap, elapsedMs, ssim: measuredSsim, imageSha256, modelSha256, replaced, overlayFile }, ownScale));
    }
  } finally {
    await operator?.release();
    await verifier?.release();
  }
  if (logical.renderDir && sharedScale) await renderOnSharedScale(plan, store, outcomes, overlayNames);
  return { outcomes, elapsedMs: performance.now() - started };
}

/**
 * SCALE QUERY: every stored heatmap of the query's images on one range, the lowest to the highest
 * drop among them. An overlay already drawn on that very range is kept.
 */
/**
 * The scale overlays are drawn on as each image finishes; SCALE QUERY's shared range is known only
 * once every image is done, so those overlays are drawn after the last (renderOnSharedScale).
 */
export function overlayScales(plan: PhysicalOcclude): { sharedScale: boolean; ownScale: OverlayScale } {
  const { renderScale } = plan.logical;
  return { sharedScale: renderScale === 'query', ownScale: renderScale === 'image' ? { kind: 'image' } : { kind: 'absolute' } };
}

export async function renderOnSharedScale(plan: PhysicalOcclude, store: Store, outcomes: ImageOutcome[], overlayNames: Map<string, string>): Promise<void> {
  const { logical } = plan;
  const keys = new Set(outcomes.filter((o) => o.status !== 'failed').map((o) => imageKey({ path: o.imagePath, frame: o.frame })));
  if (keys.size === 0) return;
  const range = await storedDropRange(store, plan, keys);
  const images = new Map(logical.images.map((image) => [imageKey(image), image]));
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'failed') continue;
    const key = imageKey({ path: outcome.imagePath, frame: outcome.frame });
    const file = join(logical.renderDir!, overlayNames.get(key)!);
    try {
      const bytes = await readImageFile(outcome.imagePath);
      const overlay = await renderStored(plan, store, images.get(key)!, bytes, file, { kind: 'query', range });
      outcomes[i] = { ...outcome, overlay };
    } catch (error) {
      if (!isKryptonError(error)) throw error;
      // As with the other scales: a heatmap computed in this run stays stored, a rerun draws its overlay.
      const problem = outcome.status === 'done' ? `heatmap stored, overlay not written: ${messageOf(error)}` : messageOf(error);
      outcomes[i] = { ...outcome, status: 'failed', error: problem };
    }
  }
}

async function storedDropRange(store: Store, plan: PhysicalOcclude, keys: ReadonlySet<string>): Promise<DropRange> {
  const { rows } = await store.query(`SELECT image_path, frame, heatmap, base_probability FROM ${plan.logical.table} WHERE query_id = ${quoteString(plan.queryId)}`);
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows) {
    if (!keys.has(imageKey({ path: row.image_path as string, frame: Number(row.frame) }))) continue;
    const range = dropRange(Float32Array.from(row.heatmap as number[]), row.base_probability as number);
    min = Math.min(min, range.min);
    max = Math.max(max, range.max);
  }
  return min > max ? { min: 0, max: 0 } : { min, max };
}

/** One image's computed heatmap, wherever it was computed, on its way into the results. */
export interface ComputedImage {
  readonly image: ImageRef;
  /** The image as its overlay shows it; needed only with RENDER TO. */
  readonly shown?: ShownImage;
  readonly heatmap: Pick<Heatmap, 'values' | 'classIndex' | 'baseProbability' | 'batchSize'>;
  readonly elapsedMs: number;
  readonly ssim?: number;
  readonly imageSha256: string;
  readonly modelSha256: string;
  readonly replaced?: string;
  readonly overlayFile?: string;
  /** Why the image could not be decoded for its overlay, where it could not: the image then fails. */
  readonly shownError?: KryptonError;
}

/**
 * Commits one image's row in its own transaction, then draws its overlay: the once-per-image
 * commit local and distributed runs share.
 */
export async function storeHeatmap(plan: PhysicalOcclude, store: Store, computed: ComputedImage, scale: OverlayScale): Promise<ImageOutcome> {
  const [outcome] = await storeHeatmaps(plan, store, [computed], scale);
  return outcome;
}

/**
 * Commits images' rows in one transaction (each image whole or not at all, and once), then draws
 * their overlays. A coordinator whose workers deliver several heatmaps at once commits them
 * together: a DuckDB commit costs more than storing a row.
 */
export async function storeHeatmaps(plan: PhysicalOcclude, store: Store, computed: readonly ComputedImage[], scale: OverlayScale): Promise<ImageOutcome[]> {
  // Sessions may map weights from the model file: one that changed since is not the model the rows name.
  checkMappedFile(plan.logical.model.model.path);
  const { logical } = plan;
  const labelOf = (classIndex: number) => logical.model.labels?.[classIndex] ?? null;
  const records = computed.map(({ image, heatmap, elapsedMs, imageSha256, modelSha256, ssim }) => ({
    queryId: plan.queryId,
    imagePath: image.path,
    frame: image.frame,
    imageId: image.imageId,
    model: logical.model.name,
    classIndex: heatmap.classIndex,
    classLabel: labelOf(heatmap.classIndex),
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
    ssim: ssim ?? null,
    ...approximationColumns(plan.spec, logical.grid),
    imageSha256,
    modelSha256,
  }));
  if (records.length) await store.insertHeatmaps(logical.table, records);
  const outcomes: ImageOutcome[] = [];
  for (const [i, { image, heatmap, elapsedMs, replaced, overlayFile, shown, shownError }] of computed.entries()) {
    const summary = summariseHeatmap(records[i]);
    const classLabel = labelOf(heatmap.classIndex);
    let overlay: string | undefined;
    let overlayError: unknown;
    try {
      if (overlayFile) {
        if (!shown) throw shownError ?? new KryptonError(`no decoded image of '${image.path}' to draw its overlay on`, 'image');
        await render(plan, image, shown, heatmap.values, heatmap.baseProbability, classLabel ?? `class ${heatmap.classIndex}`, overlayFile, scale);
        overlay = overlayFile;
      }
    } catch (error) {
      if (!isKryptonError(error)) throw error;
      // The heatmap is stored; the overlay is drawn again by a rerun. The image still counts as failed.
      overlayError = error;
    }
    outcomes.push({
      imageId: image.imageId, imagePath: image.path, frame: image.frame, status: overlayError ? 'failed' : 'done', classIndex: heatmap.classIndex, classLabel,
      baseProbability: heatmap.baseProbability, maxDrop: summary.maxDrop, maxDropX: summary.maxDropX, maxDropY: summary.maxDropY, elapsedMs,
      ssim: computed[i].ssim, batchSize: heatmap.batchSize, overlay, replaced,
      ...(overlayError ? { error: `heatmap stored, overlay not written: ${messageOf(overlayError)}` } : {}),
    });
  }
  return outcomes;
}

export function interrupted(outcomes: readonly ImageOutcome[], table: string): KryptonError {
  const kept = outcomes.filter((o) => o.status === 'done').length;
  return new KryptonError(`interrupted: ${kept === 1 ? '1 image' : `${kept} images`} finished in this run ${kept === 1 ? 'is' : 'are'} kept in ${table}; run the statement again to do the rest`, 'interrupted');
}

/** Draws one image's heatmap into its RENDER TO file, over the image at its own size. */
export async function render(
  plan: PhysicalOcclude, image: ImageRef, shown: ShownImage, values: Float32Array, baseProbability: number, className: string, overlay: string, scale: OverlayScale,
): Promise<void> {
  const { grid, model } = plan.logical;
  const title = `${image.imageId}: ${className} p=${baseProbability.toFixed(3)}`;
  await renderShownOverlay(shown, model.spec, heatmapGridOf(grid, values), overlay, { baseProbability, title, scale });
}

/** Whether a file is a PNG that decodes whole (an overlay cut short by a crash or a full disk does not). */
async function isWholePng(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    const image = sharp(path, { failOn: 'truncated' });
    const { format } = await image.metadata();
    if (format !== 'png') return false;
    await image.raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * An image done by an earlier run of the statement, rendered from its stored heatmap when its
 * overlay is missing, broken (a RENDER TO added on the rerun, a folder cleared since, a write cut
 * short) or drawn on another scale.
 */
export async function renderStored(plan: PhysicalOcclude, store: Store, image: ImageRef, bytes: Buffer, overlay: string, scale: OverlayScale): Promise<string | undefined> {
  const { logical } = plan;
  if ((await isWholePng(overlay)) && (await recordedScale(overlay)) === scaleSignature(scale)) return overlay;
  const { rows } = await store.query(
    `SELECT heatmap, base_probability, class_index, class_label FROM ${logical.table} WHERE query_id = ${quoteString(plan.queryId)} AND image_path = ${quoteString(image.path)} AND frame = ${image.frame}`,
  );
  if (rows.length === 0) return undefined;
  const [row] = rows;
  const values = Float32Array.from(row.heatmap as number[]);
  const shown = await shownImageFromBuffer(bytes, image.path, undefined, image.frame);
  await render(plan, image, shown, values, row.base_probability as number, (row.class_label as string | null) ?? `class ${row.class_index}`, overlay, scale);
  return overlay;
}
