import sharp from 'sharp';
import { writeFileAtomically } from '../io/write-atomically.js';
import { KryptonError, messageOf } from '../errors.js';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, drawText, fillRect, printable, textWidth } from './bitmap-font.js';
import type { RgbCanvas } from './bitmap-font.js';
import { TURBO_TABLE, colormapIndex } from './colormap.js';
import { axisSamples, coveredArea, validateHeatmapGrid } from './heatmap-grid.js';
import type { HeatmapGrid } from './heatmap-grid.js';

export type { HeatmapGrid } from './heatmap-grid.js';

/** The model-input image as PreparedImage has it. */
export interface OverlayImage {
  width: number;
  height: number;
  /** [H, W, 3] RGB 8-bit. */
  display: Uint8Array;
}

export interface OverlayOptions {
  /** The class probability on the unoccluded image; defaults to the grid's highest value. */
  baseProbability?: number;
  /** One line above the image (printable ASCII; longer titles are cut). */
  title?: string;
  /** Weight of the heatmap colour over the image, 0–1 (default 0.5). */
  opacity?: number;
}

/** Where everything sits on the output picture. */
export interface OverlayLayout {
  width: number;
  height: number;
  /** Each font pixel is fontScale × fontScale output pixels. */
  fontScale: number;
  padding: number;
  imageX: number;
  imageY: number;
  bar: { x: number; y: number; width: number; height: number };
  labelY: number;
}

/** The drops the colour bar spans: its left end is `min`, its right end `max`. */
export interface DropRange {
  min: number;
  max: number;
}

export const DEFAULT_OPACITY = 0.5;
const BACKGROUND = [32, 32, 32] as const;
const TEXT = [240, 240, 240] as const;
const FRAME = [150, 150, 150] as const;
const WIDEST_LABEL = '-0.000';

/** The picture: an optional title strip, the image (centred if the strip below is wider), the colour bar and its labels. */
export function overlayLayout(imageWidth: number, imageHeight: number, title?: string): OverlayLayout {
  const fontScale = Math.min(3, Math.max(1, Math.floor(imageWidth / 112)));
  const padding = 3 * fontScale;
  const lineHeight = GLYPH_HEIGHT * fontScale;
  const narrowest = 2 * padding + 2 * textWidth(WIDEST_LABEL, fontScale) + 2 * GLYPH_ADVANCE * fontScale;
  const width = Math.max(imageWidth, narrowest);
  const imageY = title ? lineHeight + 2 * padding : 0;
  const bar = { x: padding, y: imageY + imageHeight + padding, width: width - 2 * padding, height: 6 * fontScale };
  const labelY = bar.y + bar.height + 2 * fontScale;
  return {
    width,
    height: labelY + lineHeight + padding,
    fontScale,
    padding,
    imageX: Math.floor((width - imageWidth) / 2),
    imageY,
    bar,
    labelY,
  };
}

/**
 * Colours each pixel the patches cover by the probability drop (base − value), bilinearly
 * upsampled from the patch centres, so the regions the model relies on are hot; the rest of the
 * image is untouched.
 */
export function drawOverlay(
  image: OverlayImage,
  grid: HeatmapGrid,
  options: OverlayOptions = {},
): { canvas: RgbCanvas; layout: OverlayLayout; range: DropRange } {
  validateOverlayInput(image, grid, options);
  const layout = overlayLayout(image.width, image.height, options.title);
  const canvas: RgbCanvas = { width: layout.width, height: layout.height, data: new Uint8Array(layout.width * layout.height * 3) };
  fillRect(canvas, 0, 0, canvas.width, canvas.height, BACKGROUND);
  for (let y = 0; y < image.height; y++) {
    const row = image.display.subarray(3 * y * image.width, 3 * (y + 1) * image.width);
    canvas.data.set(row, 3 * ((layout.imageY + y) * canvas.width + layout.imageX));
  }

  const { levels, range } = dropLevels(grid, options.baseProbability);
  blendHeat(canvas, layout, image, grid, levels, options.opacity ?? DEFAULT_OPACITY);
  drawColourBar(canvas, layout, range);
  if (options.title) drawTitle(canvas, layout, options.title);
  return { canvas, layout, range };
}

/** The overlay picture as PNG bytes. */
export async function renderOverlayPng(image: OverlayImage, grid: HeatmapGrid, options: OverlayOptions = {}): Promise<Buffer> {
  const { canvas } = drawOverlay(image, grid, options);
  return sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 3 } }).png().toBuffer();
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

/** Each cell's drop as a position on the colour scale, 0–1 (NaN where the value is not finite). */
function dropLevels(grid: HeatmapGrid, baseProbability: number | undefined): { levels: Float32Array; range: DropRange } {
  let highest = -Infinity;
  for (const value of grid.values) if (value > highest) highest = value;
  const base = baseProbability ?? highest;
  let min = Infinity;
  let max = -Infinity;
  for (const value of grid.values) {
    if (!Number.isFinite(value)) continue;
    min = Math.min(min, base - value);
    max = Math.max(max, base - value);
  }
  if (min > max) min = max = 0;
  const span = max - min;
  const levels = grid.values.map((value) => (Number.isFinite(value) ? (span > 0 ? (base - value - min) / span : 0) : NaN));
  return { levels, range: { min, max } };
}

function blendHeat(canvas: RgbCanvas, layout: OverlayLayout, image: OverlayImage, grid: HeatmapGrid, levels: Float32Array, opacity: number): void {
  const area = coveredArea(grid, image.width, image.height);
  const xs = axisSamples(area.x0, area.x1, grid.originX, grid.strideX, grid.patchWidth, grid.width);
  const ys = axisSamples(area.y0, area.y1, grid.originY, grid.strideY, grid.patchHeight, grid.height);
  for (let y = area.y0; y < area.y1; y++) {
    const k = y - area.y0;
    const top = ys.low[k] * grid.width;
    const bottom = ys.high[k] * grid.width;
    const wy = ys.weight[k];
    let out = 3 * ((layout.imageY + y) * canvas.width + layout.imageX + area.x0);
    for (let x = area.x0; x < area.x1; x++, out += 3) {
      const j = x - area.x0;
      const wx = xs.weight[j];
      const upper = levels[top + xs.low[j]] * (1 - wx) + levels[top + xs.high[j]] * wx;
      const lower = levels[bottom + xs.low[j]] * (1 - wx) + levels[bottom + xs.high[j]] * wx;
      const level = upper * (1 - wy) + lower * wy;
      if (Number.isNaN(level)) continue;
      const colour = 3 * colormapIndex(level);
      for (let c = 0; c < 3; c++) {
        canvas.data[out + c] = Math.round(canvas.data[out + c] * (1 - opacity) + TURBO_TABLE[colour + c] * opacity);
      }
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

/** One line; a smaller font before cutting it with '...'. */
function drawTitle(canvas: RgbCanvas, layout: OverlayLayout, title: string): void {
  const room = canvas.width - 2 * layout.padding;
  let text = printable(title);
  let scale = layout.fontScale;
  if (textWidth(text, scale) > room) scale = Math.max(1, scale - 1);
  const fits = Math.floor((room + scale) / (GLYPH_ADVANCE * scale));
  if (text.length > fits) text = `${text.slice(0, Math.max(0, fits - 3))}...`;
  const y = layout.padding + Math.floor(((layout.fontScale - scale) * GLYPH_HEIGHT) / 2);
  drawText(canvas, text, layout.padding, y, scale, TEXT);
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
