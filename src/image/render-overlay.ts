import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { writeFileAtomically } from '../io/write-atomically.js';
import { KryptonError, messageOf } from '../errors.js';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, drawText, fillRect, printable, textWidth } from './bitmap-font.js';
import type { RgbCanvas } from './bitmap-font.js';
import { TURBO_TABLE, colormapIndex } from './colormap.js';
import { axisSamples, coveredArea, mapHeatmapGrid, validateHeatmapGrid } from './heatmap-grid.js';
import type { HeatmapGrid } from './heatmap-grid.js';
import { modelToShownPixels } from './source-region.js';
import type { AxisMapping, Size } from './source-region.js';
import { shownImageFromBuffer } from './prepare-image.js';
import type { ShownImage } from './prepare-image.js';
import type { ResizePolicy } from './input-spec.js';

export type { HeatmapGrid } from './heatmap-grid.js';

/** The picture the heatmap is drawn over: the model-input image, or the source image as shown. */
export interface OverlayImage {
  width: number;
  height: number;
  /** [H, W, 3] RGB 8-bit. */
  display: Uint8Array;
}

/** Where the drops the colour bar spans come from. */
export type OverlayScaleKind = 'absolute' | 'image' | 'query';

/**
 * absolute: the drop itself, 0 cold to 1 hot, so colours compare across images; image: the
 * image's own lowest to highest drop; query: a range shared by the query's images.
 */
export type OverlayScale =
  | { readonly kind: 'absolute' }
  | { readonly kind: 'image' }
  | { readonly kind: 'query'; readonly range: DropRange };

export interface OverlayOptions {
  /** The class probability on the unoccluded image; defaults to the grid's highest value. */
  baseProbability?: number;
  /** Above the image (printable ASCII), wrapped onto as many lines as it needs. */
  title?: string;
  /** Weight of the heatmap colour over the image, 0–1 (default 0.5). */
  opacity?: number;
  /** Default absolute. */
  scale?: OverlayScale;
  /** Where the grid's model-input pixels lie on the picture; left out, the picture is the model input. */
  placement?: AxisMapping;
}

/** Where everything sits on the output picture. */
export interface OverlayLayout {
  width: number;
  height: number;
  /** Each font pixel is fontScale × fontScale output pixels. */
  fontScale: number;
  padding: number;
  /** Text lines are lineHeight high with lineGap between them. */
  lineHeight: number;
  lineGap: number;
  titleLines: string[];
  imageX: number;
  imageY: number;
  bar: { x: number; y: number; width: number; height: number };
  labelY: number;
  legendLines: string[];
  legendY: number;
}

/** The drops the colour bar spans: its left end is `min`, its right end `max`. */
export interface DropRange {
  min: number;
  max: number;
}

export const DEFAULT_OPACITY = 0.5;
export const ABSOLUTE_RANGE: DropRange = Object.freeze({ min: 0, max: 1 });
/** A dark gray, one value for all three channels. */
const BACKGROUND = 32;
const TEXT = [240, 240, 240] as const;
const FRAME = [150, 150, 150] as const;
const WIDEST_LABEL = '-0.000';
/** The PNG text chunk that records an overlay's colour scale, so a rerun can tell one drawn on another scale. */
const SCALE_KEYWORD = 'krypton:scale';

/**
 * The picture: the title, wrapped, above the image (centred if the strip below is wider), then the
 * colour bar, its labels and the legend, wrapped: every line of text is whole, the bands grow.
 */
export function overlayLayout(imageWidth: number, imageHeight: number, title?: string, legend?: string): OverlayLayout {
  const fontScale = Math.min(3, Math.max(1, Math.floor(imageWidth / 112)));
  const padding = 3 * fontScale;
  const lineHeight = GLYPH_HEIGHT * fontScale;
  const lineGap = 2 * fontScale;
  const narrowest = 2 * padding + 2 * textWidth(WIDEST_LABEL, fontScale) + 2 * GLYPH_ADVANCE * fontScale;
  const width = Math.max(imageWidth, narrowest);
  const columns = Math.floor((width - 2 * padding + fontScale) / (GLYPH_ADVANCE * fontScale));
  const titleLines = title ? wrapText(printable(title), columns) : [];
  const legendLines = legend ? wrapText(printable(legend), columns) : [];
  const block = (lines: number) => lines * lineHeight + Math.max(0, lines - 1) * lineGap;
  const imageY = titleLines.length > 0 ? block(titleLines.length) + 2 * padding : 0;
  const bar = { x: padding, y: imageY + imageHeight + padding, width: width - 2 * padding, height: 6 * fontScale };
  const labelY = bar.y + bar.height + 2 * fontScale;
  const legendY = labelY + lineHeight + lineGap;
  return {
    width,
    height: (legendLines.length > 0 ? legendY + block(legendLines.length) : labelY + lineHeight) + padding,
    fontScale,
    padding,
    lineHeight,
    lineGap,
    titleLines,
    imageX: Math.floor((width - imageWidth) / 2),
    imageY,
    bar,
    labelY,
    legendLines,
    legendY,
  };
}

/** Greedy word wrap into lines of at most `columns` characters; a word longer than a line is split. */
export function wrapText(text: string, columns: number): string[] {
  const width = Math.max(1, columns);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter((w) => w.length > 0)) {
    let rest = word;
    if (line.length > 0 && line.length + 1 + rest.length <= width) {
      line += ` ${rest}`;
      continue;
    }
    if (line.length > 0) lines.push(line);
    while (rest.length > width) {
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    line = rest;
  }
  if (line.length > 0 || lines.length === 0) lines.push(line);
  return lines;
}

/** What every overlay says under its colour bar: the grid and the scale. */
export function legendText(grid: HeatmapGrid, scale: OverlayScale): string {
  const size = (a: number, b: number) => `${a}x${b}`;
  const scaleText = { absolute: 'scale absolute drop 0-1', image: 'scale of this image', query: 'scale shared by the query' }[scale.kind];
  return `patch ${size(grid.patchWidth, grid.patchHeight)}, stride ${size(grid.strideX, grid.strideY)}, ${scaleText}`;
}

/**
 * Colours each pixel the patches cover by the probability drop (base − value), bilinearly
 * upsampled from the patch centres, so the regions the model relies on are hot; the rest of the
 * image is untouched. The grid is in model-input pixels; `placement` puts it on the picture.
 */
export function drawOverlay(
  image: OverlayImage,
  grid: HeatmapGrid,
  options: OverlayOptions = {},
): { canvas: RgbCanvas; layout: OverlayLayout; range: DropRange } {
  validateOverlayInput(image, grid, options);
  const scale = options.scale ?? { kind: 'absolute' };
  const layout = overlayLayout(image.width, image.height, options.title, legendText(grid, scale));
  const canvas: RgbCanvas = { width: layout.width, height: layout.height, data: new Uint8Array(layout.width * layout.height * 3) };
  canvas.data.fill(BACKGROUND);
  for (let y = 0; y < image.height; y++) {
    const row = image.display.subarray(3 * y * image.width, 3 * (y + 1) * image.width);
    canvas.data.set(row, 3 * ((layout.imageY + y) * canvas.width + layout.imageX));
  }

  const { levels, range } = dropLevels(grid, options.baseProbability, scale);
  const placed = options.placement ? mapHeatmapGrid(grid, options.placement) : grid;
  blendHeat(canvas, layout, image, placed, levels, options.opacity ?? DEFAULT_OPACITY);
  drawColourBar(canvas, layout, range);
  drawLines(canvas, layout, layout.titleLines, layout.padding);
  drawLines(canvas, layout, layout.legendLines, layout.legendY);
  return { canvas, layout, range };
}

/** The overlay picture as PNG bytes. */
export async function renderOverlayPng(image: OverlayImage, grid: HeatmapGrid, options: OverlayOptions = {}): Promise<Buffer> {
  const { canvas } = drawOverlay(image, grid, options);
  const png = await sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 3 } }).png().toBuffer();
  return withTextChunk(png, SCALE_KEYWORD, scaleSignature(options.scale ?? { kind: 'absolute' }));
}

/**
 * Writes the overlay of an encoded image's heatmap over the image at its own size (shrunk to
 * OVERLAY_MAX_WIDTH at most): the grid, in the model's input pixels, is put where the model's
 * resize took them from.
 */
export async function renderImageOverlay(
  bytes: Buffer, label: string, input: Size & { readonly resize: ResizePolicy }, grid: HeatmapGrid, outPath: string, options: Omit<OverlayOptions, 'placement'> = {}, frame = 1,
): Promise<void> {
  await renderShownOverlay(await shownImageFromBuffer(bytes, label, undefined, frame), input, grid, outPath, options);
}

/** renderImageOverlay for an image already decoded as overlays show it. */
export async function renderShownOverlay(
  shown: ShownImage, input: Size & { readonly resize: ResizePolicy }, grid: HeatmapGrid, outPath: string, options: Omit<OverlayOptions, 'placement'> = {},
): Promise<void> {
  const placement = modelToShownPixels(input, { width: shown.sourceWidth, height: shown.sourceHeight }, shown);
  await renderOverlay(shown, grid, outPath, { ...options, placement });
}

/** How an overlay file records its scale: the kind, and for a shared range its ends. */
export function scaleSignature(scale: OverlayScale): string {
  return scale.kind === 'query' ? `query ${scale.range.min} ${scale.range.max}` : scale.kind;
}

/** The scale an overlay file records (undefined for a file without one, or not a PNG sharp reads). */
export async function recordedScale(path: string): Promise<string | undefined> {
  try {
    const { comments } = await sharp(path).metadata();
    return comments?.find((comment) => comment.keyword === SCALE_KEYWORD)?.text;
  } catch {
    return undefined;
  }
}

/** A PNG with a tEXt chunk added right after its header chunk (sharp writes no text chunks). */
function withTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  const headerEnd = 8 + 4 + 4 + 13 + 4;
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(body.length - 4, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 4 + body.length);
  return Buffer.concat([png.subarray(0, headerEnd), chunk, png.subarray(headerEnd)]);
}

/** Writes the overlay picture as a PNG, whole or not at all, creating the output folder if needed. */
export async function renderOverlay(image: OverlayImage, grid: HeatmapGrid, outPath: string, options: OverlayOptions = {}): Promise<void> {
  const png = await renderOverlayPng(image, grid, options);
  try {
    await writeFileAtomically(outPath, png);
  } catch (error) {
    throw new KryptonError(`Cannot write heatmap overlay '${outPath}': ${describeWriteFailure(error)}`, 'io');
  }
}

/** The lowest and highest drop (base − value) over the finite values; base defaults to the highest value. */
export function dropRange(values: Float32Array, baseProbability?: number): DropRange {
  let highest = -Infinity;
  for (const value of values) if (value > highest) highest = value;
  const base = baseProbability ?? highest;
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    min = Math.min(min, base - value);
    max = Math.max(max, base - value);
  }
  return min > max ? { min: 0, max: 0 } : { min, max };
}

/** Each cell's drop as a position on the colour scale, 0–1 (NaN where the value is not finite). */
function dropLevels(grid: HeatmapGrid, baseProbability: number | undefined, scale: OverlayScale): { levels: Float32Array; range: DropRange } {
  let highest = -Infinity;
  for (const value of grid.values) if (value > highest) highest = value;
  const base = baseProbability ?? highest;
  const range = scale.kind === 'absolute' ? ABSOLUTE_RANGE : scale.kind === 'query' ? scale.range : dropRange(grid.values, base);
  const span = range.max - range.min;
  // Outside a shared or absolute range a drop is clamped to the nearer end by the colour map.
  const levels = grid.values.map((value) => (Number.isFinite(value) ? (span > 0 ? (base - value - range.min) / span : 0) : NaN));
  return { levels, range };
}

function blendHeat(canvas: RgbCanvas, layout: OverlayLayout, image: OverlayImage, grid: HeatmapGrid, levels: Float32Array, opacity: number): void {
  const area = coveredArea(grid, image.width, image.height);
  const xs = axisSamples(area.x0, area.x1, grid.originX, grid.strideX, grid.patchWidth, grid.width);
  const ys = axisSamples(area.y0, area.y1, grid.originY, grid.strideY, grid.patchHeight, grid.height);
  const data = canvas.data;
  const keep = 1 - opacity;
  // The colour map at its weight, once: an overlay at an X-ray's own size blends a few hundred thousand pixels.
  const heat = new Float64Array(TURBO_TABLE.length);
  for (let i = 0; i < heat.length; i++) heat[i] = TURBO_TABLE[i] * opacity;
  for (let y = area.y0; y < area.y1; y++) {
    const k = y - area.y0;
    const top = ys.low[k] * grid.width;
    const bottom = ys.high[k] * grid.width;
    const wy = ys.weight[k];
    let out = 3 * ((layout.imageY + y) * canvas.width + layout.imageX + area.x0);
    for (let j = 0; j < area.x1 - area.x0; j++, out += 3) {
      const wx = xs.weight[j];
      const low = xs.low[j];
      const high = xs.high[j];
      const upper = levels[top + low] * (1 - wx) + levels[top + high] * wx;
      const lower = levels[bottom + low] * (1 - wx) + levels[bottom + high] * wx;
      const level = upper * (1 - wy) + lower * wy;
      if (Number.isNaN(level)) continue;
      const colour = 3 * colormapIndex(level);
      data[out] = Math.round(data[out] * keep + heat[colour]);
      data[out + 1] = Math.round(data[out + 1] * keep + heat[colour + 1]);
      data[out + 2] = Math.round(data[out + 2] * keep + heat[colour + 2]);
    }
  }
}

function drawColourBar(canvas: RgbCanvas, layout: OverlayLayout, range: DropRange): void {
  const { bar, fontScale: scale } = layout;
  fillRect(canvas, bar.x - 1, bar.y - 1, bar.width + 2, bar.height + 2, FRAME);
  for (let k = 0; k < bar.width; k++) {
    const colour = 3 * colormapIndex(bar.width > 1 ? k / (bar.width - 1) : 0);
    fillRect(canvas, bar.x + k, bar.y, 1, bar.height, TURBO_TABLE.subarray(colour, colour + 3));
  }
  const low = formatDrop(range.min);
  const high = formatDrop(range.max);
  const right = bar.x + bar.width;
  drawText(canvas, low, bar.x, layout.labelY, scale, TEXT);
  drawText(canvas, high, right - textWidth(high, scale), layout.labelY, scale, TEXT);
  // The caption goes between the labels when it fits with a character's gap on each side.
  const gap = GLYPH_ADVANCE * scale;
  const room = bar.width - textWidth(low, scale) - textWidth(high, scale) - 2 * gap;
  const caption = ['probability drop', 'drop'].find((text) => textWidth(text, scale) <= room);
  if (caption) drawText(canvas, caption, bar.x + Math.floor((bar.width - textWidth(caption, scale)) / 2), layout.labelY, scale, TEXT);
}

function drawLines(canvas: RgbCanvas, layout: OverlayLayout, lines: readonly string[], top: number): void {
  lines.forEach((line, i) => drawText(canvas, line, layout.padding, top + i * (layout.lineHeight + layout.lineGap), layout.fontScale, TEXT));
}

/** Three decimals; never '-0.000'. */
export function formatDrop(drop: number): string {
  const text = drop.toFixed(3);
  return text === '-0.000' ? '0.000' : text;
}

function validateOverlayInput(image: OverlayImage, grid: HeatmapGrid, options: OverlayOptions): void {
  const fail = (problem: string): never => {
    throw new KryptonError(`Cannot render heatmap overlay: ${problem}`, 'argument');
  };
  if (!Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 || image.height < 1) fail('image size must be positive');
  if (image.display.length !== image.width * image.height * 3) fail(`display has ${image.display.length} bytes, ${image.width}×${image.height} RGB needs ${image.width * image.height * 3}`);
  validateHeatmapGrid(grid);
  const opacity = options.opacity ?? DEFAULT_OPACITY;
  if (!(opacity >= 0 && opacity <= 1)) fail(`opacity must be between 0 and 1, got ${opacity}`);
  if (options.baseProbability !== undefined && !Number.isFinite(options.baseProbability)) fail('base probability must be a finite number');
  const { scale, placement } = options;
  if (scale?.kind === 'query' && !(Number.isFinite(scale.range.min) && Number.isFinite(scale.range.max) && scale.range.min <= scale.range.max)) {
    fail(`a shared scale needs finite ends, low to high, got ${scale.range.min} to ${scale.range.max}`);
  }
  if (placement && ![placement.scaleX, placement.scaleY].every((k) => k > 0 && Number.isFinite(k))) fail('placement scales must be positive');
  if (placement && ![placement.offsetX, placement.offsetY].every(Number.isFinite)) fail('placement offsets must be finite');
}

function describeWriteFailure(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a parent of it is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return messageOf(error);
  }
}
