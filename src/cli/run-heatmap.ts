// `krypton heatmap`'s work, in a module of its own so that only a heatmap run loads the engine (heatmap-command.ts defines the flags).
import { writeFileAtomically } from '../io/write-atomically.js';
import { resolve } from 'node:path';
import { KryptonError, messageOf, StatementError } from '../errors.js';
import { parsePatchColor } from '../image/patch-color.js';
import { renderImageOverlay } from '../image/render-overlay.js';
import { imageError } from '../image/decode-image.js';
import { imageFileCap, readRegularFile } from '../io/read-regular-file.js';
import { heatmapGridOf } from '../image/heatmap-grid.js';
import { ImageFailures, open, SyntaxErrors } from '../krypton.js';
import { occludeStatement, type OccludeOptions } from '../occlude-options.js';
import { quoteString } from '../store/index.js';
import { numbers, oneOf, positiveInteger, rectangle, size } from './args.js';
import type { ModelInputOptions } from './model-input.js';
import { progressBar } from './progress.js';
import type { ResizePolicy } from '../image/input-spec.js';

export interface HeatmapOptions extends ModelInputOptions {
  model: string;
  image: string;
  frame?: string;
  patch: string;
  stride: string;
  color: string;
  class: string;
  region?: string;
  regionIn?: string;
  mode?: string;
  strategy?: string;
  quality?: string;
  threshold?: string;
  drilldown?: string;
  retune?: boolean;
  db?: string;
  batch?: string;
  json?: string;
  png?: string;
  pngScale: string;
  labels?: string;
  output?: string;
  outputName?: string;
  quiet?: boolean;
}

/** The language's words for what the flags set, so its checks read as the command's. */
const FLAG_TERMS: readonly [RegExp, string][] = [
  [/^line \d+, column \d+: /, ''],
  [/^SSIM target/, '--quality'],
  [/^THRESHOLD/, '--threshold'],
  [/^DRILLDOWN STRIDE (\S+) cannot reach STRIDE/, '--drilldown stride $1 cannot reach --stride'],
  [/^FRACTION/, '--drilldown fraction'],
];

function inFlagTerms(problem: string): string {
  return FLAG_TERMS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), problem);
}

/** The name the command's model has in its session (never in the database's catalog). */
const SESSION_MODEL = 'heatmap_model';

/** The flags' input handling as a CREATE MODEL statement, so the model is bound as any other. */
function createModelStatement(options: HeatmapOptions): string {
  const parts = [`CREATE MODEL ${SESSION_MODEL} FROM ${quoteString(resolve(options.model))}`];
  if (options.input) {
    const { width, height } = size('--input', options.input);
    parts.push(`INPUT ${width} x ${height}`);
  }
  if (options.channels) parts.push(`CHANNELS ${oneOf('--channels', options.channels, ['rgb', 'bgr', 'gray'] as const).toUpperCase()}`);
  parts.push(`SCALE ${oneOf('--scale', options.scale, ['1', '255'] as const)}`);
  const normalize = oneOf('--normalize', options.normalize, ['imagenet', 'none'] as const);
  if (options.mean || options.std) {
    const list = (flag: string, text: string | undefined, fallback: number[]) => `(${(text ? numbers(flag, text) : fallback).join(', ')})`;
    const imagenet = normalize === 'imagenet';
    parts.push(`NORMALIZE MEAN ${list('--mean', options.mean, imagenet ? [0.485, 0.456, 0.406] : [0, 0, 0])} STD ${list('--std', options.std, imagenet ? [0.229, 0.224, 0.225] : [1, 1, 1])}`);
  } else {
    parts.push(`NORMALIZE ${normalize.toUpperCase()}`);
  }
  if (options.labels) parts.push(`LABELS ${quoteString(resolve(options.labels))}`);
  const kind = options.output && oneOf('--output', options.output, ['logits', 'probabilities', 'sigmoid'] as const).toUpperCase();
  if (options.outputName !== undefined) parts.push(`OUTPUT NAME ${quoteString(options.outputName)}${kind ? ` ${kind}` : ''}`);
  else if (kind) parts.push(`OUTPUT ${kind}`);
  return parts.join(' ');
}

function occludeOptions(options: HeatmapOptions): OccludeOptions {
  const patch = size('--patch', options.patch);
  const strideSize = size('--stride', options.stride);
  const color = parsePatchColor(options.color);
  if (options.mode && options.strategy) throw new KryptonError('give --mode or --strategy, not both');
  if (options.quality && (options.threshold || options.drilldown)) {
    throw new KryptonError('--quality tunes the threshold and drill-down itself: give --quality or --threshold/--drilldown, not both');
  }
  const strategy = options.mode
    ? ({ naive: 'naive', exact: 'incremental' } as const)[oneOf('--mode', options.mode, ['naive', 'exact'] as const)]
    : options.strategy
      ? oneOf('--strategy', options.strategy, ['auto', 'naive', 'incremental'] as const)
      : options.quality ? 'auto' : 'incremental';
  const fraction = (text: string, flag: string) => {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new KryptonError(`${flag} must be a number, got '${text}'`);
    return value;
  };
  let drilldown: OccludeOptions['drilldown'];
  if (options.drilldown) {
    const [stride, share, extra] = options.drilldown.split(',');
    if (share === undefined || extra !== undefined) throw new KryptonError(`--drilldown must be stride,fraction (e.g. 12,0.25), got '${options.drilldown}'`);
    const coarse = size('--drilldown stride', stride);
    drilldown = { stride: { x: coarse.width, y: coarse.height }, fraction: fraction(share, '--drilldown fraction') };
  }
  const target = options.class === 'predicted' ? undefined : /^\d+$/.test(options.class) ? Number(options.class) : { label: options.class };
  // A frame is named as a SELECT source names it: by a frame column.
  const frame = options.frame === undefined ? undefined : positiveInteger('--frame', options.frame);
  return {
    images: frame === undefined ? [resolve(options.image)] : { sql: `SELECT ${quoteString(resolve(options.image))} AS path, ${frame} AS frame` },
    model: SESSION_MODEL,
    patch: { width: patch.width, height: patch.height },
    stride: { x: strideSize.width, y: strideSize.height },
    color: color.kind === 'rgb' ? { r: color.r, g: color.g, b: color.b } : color.kind,
    targetClass: target,
    region: options.region
      ? { ...rectangle('--region', options.region), unit: oneOf('--region-in', options.regionIn ?? 'model', ['model', 'image'] as const) }
      : undefined,
    quality: options.quality ? { ssim: fraction(options.quality, '--quality'), retune: options.retune } : undefined,
    strategy: strategy === 'auto' && (options.threshold || drilldown) ? 'incremental' : strategy,
    threshold: options.threshold ? fraction(options.threshold, '--threshold') : undefined,
    drilldown,
  };
}

/**
 * One image through the same planner and executor as an OCCLUDE statement: the flags become a
 * session model and typed occlusion options, the result is a row of the database (in memory
 * unless --db names a file), and the JSON and PNG are drawn from that row.
 */
export async function runHeatmap(options: HeatmapOptions): Promise<void> {
  const batchSize = options.batch ? positiveInteger('--batch', options.batch) : undefined;
  const pngScale = oneOf('--png-scale', options.pngScale, ['absolute', 'image'] as const);
  const occlusion = occludeOptions(options);
  const db = await open(options.db ?? ':memory:');
  try {
    const notes = await db.defineSessionModel(createModelStatement(options), { resize: oneOf('--resize', options.resize, ['stretch', 'cover', 'contain'] as const) as ResizePolicy });
    const progress = progressBar('heatmap', options.quiet ?? false);
    let result;
    try {
      // The statement rather than db.occlude, whose messages name its options: the language's own are put in the flags' terms here.
      result = await db.query(occludeStatement({ ...occlusion, into: 'heatmaps' }), {
        batchSize,
        onProgress: (p) => { if (!p.tuning) progress.update(p.positionsDone, p.positions); },
      });
    } catch (error) {
      if (error instanceof ImageFailures) throw new KryptonError(error.result.failures![0].error, 'image');
      if (error instanceof SyntaxErrors) throw new KryptonError(error.problems.map(inFlagTerms).join('; '), 'argument');
      if (error instanceof StatementError) throw new KryptonError(inFlagTerms(error.detail), error.code);
      throw error;
    } finally {
      progress.stop();
    }
    const [outcome] = result.rows;
    const { rows } = await db.query(`SELECT * FROM heatmaps WHERE query_id = ${quoteString(String(outcome.query_id))} AND image_path = ${quoteString(String(outcome.image_path))} AND frame = ${Number(outcome.frame)}`);
    const row = rows[0];
    const values = Float32Array.from(row.heatmap as number[]);
    const approximate = row.strategy !== 'naive' && row.strategy !== 'incremental';
    const mode = row.strategy === 'naive' ? 'naive' : approximate ? 'approximate' : 'exact';
    const elapsedMs = outcome.status === 'already done' ? Number(row.elapsed_ms) : Number(outcome.elapsed_ms ?? row.elapsed_ms);
    const grid = {
      originX: Number(row.origin_x), originY: Number(row.origin_y), strideX: Number(row.stride_x), strideY: Number(row.stride_y),
      columns: Number(row.width), rows: Number(row.height), patchWidth: Number(row.patch_w), patchHeight: Number(row.patch_h),
    };
    const baseProbability = Number(row.base_probability);
    const classIndex = Number(row.class_index);
    const classLabel = row.class_label === null ? undefined : String(row.class_label);
    if (options.json) {
      await writeOutput(options.json, JSON.stringify({
        model: options.model,
        image: options.image,
        frame: Number(outcome.frame),
        width: grid.columns,
        height: grid.rows,
        values: Array.from(values),
        classIndex,
        classLabel,
        baseProbability,
        mode,
        strategy: row.strategy,
        tau: row.tau,
        coarseStride: row.coarse_stride_x === null ? null : { x: row.coarse_stride_x, y: row.coarse_stride_y },
        drillFraction: row.drill_fraction,
        ssim: row.ssim,
        elapsedMs,
        patch: { width: grid.patchWidth, height: grid.patchHeight },
        stride: { x: grid.strideX, y: grid.strideY },
        origin: { x: grid.originX, y: grid.originY },
        batchSize: outcome.batch_size ?? undefined,
        queryId: outcome.query_id,
        minProbability: row.min_probability,
        maxDrop: row.max_drop,
        maxDropX: row.max_drop_x,
        maxDropY: row.max_drop_y,
      }) + '\n');
    }
    if (options.png) {
      const title = `${classLabel ?? `class ${classIndex}`} p=${baseProbability.toFixed(3)}`;
      const bytes = await readRegularFile(options.image, imageFileCap(), ({ problem }) => imageError(options.image, problem));
      await renderImageOverlay(bytes, options.image, await db.inputSpecOf(SESSION_MODEL), heatmapGridOf(grid, values), options.png, { baseProbability, title, scale: { kind: pngScale } }, Number(outcome.frame));
    }
    const how = approximate ? `${result.message?.match(/\(([^)]*)\)/)?.[1] ?? 'approximate'}${row.ssim === null ? '' : `, SSIM ${Number(row.ssim).toFixed(3)}`}` : mode;
    const lines = [
      `class ${classIndex}${classLabel ? ` (${classLabel})` : ''}: probability ${baseProbability.toFixed(4)}`,
      `heatmap ${grid.columns}x${grid.rows} (patch ${grid.patchWidth}x${grid.patchHeight}, stride ${grid.strideX}x${grid.strideY}), ${how} in ${(elapsedMs / 1000).toFixed(2)} s`,
      `largest drop ${Number(row.max_drop).toFixed(4)} (to ${Number(row.min_probability).toFixed(4)}) with the patch at x=${row.max_drop_x}, y=${row.max_drop_y}`,
    ];
    if (result.message && /tuned on|tuning reused/.test(result.message)) lines.push(result.message.replace(/^occluded [^,]*, /, ''));
    lines.push(...notes.map((note) => `note: ${note}`));
    if (options.json) lines.push(`wrote ${options.json}`);
    if (options.png) lines.push(`wrote ${options.png}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await db.close();
  }
}

async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomically(path, text);
  } catch (error) {
    throw new KryptonError(`cannot write ${path}: ${messageOf(error)}`, 'io');
  }
}
