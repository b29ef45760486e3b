import { colormapIndex, TURBO_TABLE } from '../../image/colormap.js';

import type { HeatmapGeometry } from '../../occlusion-progress.js';

export type { HeatmapGeometry };

export interface HeatmapData extends HeatmapGeometry {
  /** Row-major class probabilities; null (or NaN) where not computed yet. */
  readonly values: ArrayLike<number | null>;
  readonly baseProbability: number;
  /** The model's input size: the image is stretched to it, so cells map to image pixels by these ratios. */
  readonly modelWidth: number;
  readonly modelHeight: number;
  /** Top-left of the patch with the largest drop, model-input pixels. */
  readonly maxDrop?: { readonly x: number; readonly y: number };
  /** Lines under the image: who, which class, what probability. */
  readonly title?: string;
}

/**
 * 'fixed': an absolute drop of 0–1 spans the colours, so images compare; 'shared': the largest drop
 * among the heatmaps shown together does; 'image': each image's own largest drop does.
 */
export type ScaleMode = 'fixed' | 'shared' | 'image';

const valueAt = (values: ArrayLike<number | null>, cell: number): number | undefined => {
  const value = values[cell];
  return value === null || value === undefined || Number.isNaN(value) ? undefined : value;
};

/** An image at its own resolution with a heatmap drawn over it from the stored values, a caption, and a hover read-out. */
export class HeatmapView {
  readonly element = document.createElement('div');
  private readonly canvas = document.createElement('canvas');
  private readonly context: CanvasRenderingContext2D;
  private readonly tooltip = document.createElement('div');
  private readonly caption = document.createElement('div');
  private data?: HeatmapData;
  private opacity = 0.55;
  private scale: ScaleMode = 'fixed';
  private sharedTop = 1;

  constructor(readonly image: HTMLImageElement) {
    this.element.className = 'heatmap-view';
    this.canvas.width = image.naturalWidth;
    this.canvas.height = image.naturalHeight;
    // Small images (a 28-pixel digit) are shown larger, pixel for pixel; large ones fit the column.
    if (image.naturalWidth < 320) this.canvas.style.imageRendering = 'pixelated';
    this.context = this.canvas.getContext('2d')!;
    this.tooltip.className = 'tooltip';
    this.tooltip.hidden = true;
    this.caption.className = 'caption';
    this.element.append(this.canvas, this.tooltip, this.caption);
    this.canvas.addEventListener('mousemove', (event) => this.hover(event));
    this.canvas.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
    this.draw();
  }

  get surface(): HTMLCanvasElement {
    return this.canvas;
  }

  setHeatmap(data: HeatmapData | undefined): void {
    this.data = data;
    this.draw();
  }

  setOpacity(opacity: number): void {
    this.opacity = opacity;
    this.draw();
  }

  /** `sharedTop`: the largest drop of the heatmaps shown together, for 'shared'. */
  setScale(scale: ScaleMode, sharedTop = 1): void {
    this.scale = scale;
    this.sharedTop = Math.max(sharedTop, 1e-6);
    this.draw();
  }

  /** The drop that gets the top colour. */
  scaleMax(): number {
    if (this.scale === 'fixed' || !this.data) return 1;
    if (this.scale === 'shared') return this.sharedTop;
    let largest = 0;
    for (let cell = 0; cell < this.data.values.length; cell++) {
      const value = valueAt(this.data.values, cell);
      if (value !== undefined) largest = Math.max(largest, this.data.baseProbability - value);
    }
    return Math.max(largest, 1e-6);
  }

  /** Image pixels per model-input pixel, per axis. */
  private ratio(): { x: number; y: number } {
    const data = this.data!;
    return { x: this.canvas.width / data.modelWidth, y: this.canvas.height / data.modelHeight };
  }

  /** Extra drawing over the image and heatmap (the Ask view's region). */
  onDraw?: (context: CanvasRenderingContext2D) => void;

  draw(): void {
    const { context, canvas } = this;
    context.globalAlpha = 1;
    context.drawImage(this.image, 0, 0, canvas.width, canvas.height);
    const data = this.data;
    if (data) {
      const cells = new ImageData(data.columns, data.rows);
      const top = this.scaleMax();
      for (let cell = 0; cell < data.columns * data.rows; cell++) {
        const value = valueAt(data.values, cell);
        if (value === undefined) continue;
        const t = Math.max(0, data.baseProbability - value) / top;
        const index = 3 * colormapIndex(t);
        // Cells where the patch changed little stay faint, so the image shows through where nothing happened.
        cells.data.set([TURBO_TABLE[index], TURBO_TABLE[index + 1], TURBO_TABLE[index + 2], Math.round(255 * Math.min(1, 0.2 + 1.6 * t))], 4 * cell);
      }
      const grid = document.createElement('canvas');
      grid.width = data.columns;
      grid.height = data.rows;
      grid.getContext('2d')!.putImageData(cells, 0, 0);
      // Each cell is drawn as the stride-sized block around its patch's centre, in image pixels.
      const { x: rx, y: ry } = this.ratio();
      const left = (data.originX + data.patchWidth / 2 - data.strideX / 2) * rx;
      const upper = (data.originY + data.patchHeight / 2 - data.strideY / 2) * ry;
      context.globalAlpha = this.opacity;
      context.imageSmoothingEnabled = false;
      context.drawImage(grid, left, upper, data.columns * data.strideX * rx, data.rows * data.strideY * ry);
      context.globalAlpha = 1;
      if (data.maxDrop) {
        const line = Math.max(1, canvas.width / 300);
        context.lineWidth = line * 2;
        context.strokeStyle = '#000';
        context.strokeRect(data.maxDrop.x * rx, data.maxDrop.y * ry, data.patchWidth * rx, data.patchHeight * ry);
        context.lineWidth = line;
        context.strokeStyle = '#fff';
        context.strokeRect(data.maxDrop.x * rx, data.maxDrop.y * ry, data.patchWidth * rx, data.patchHeight * ry);
      }
      const scale = this.scale === 'fixed' ? 'fixed scale: drop 0–1' : `${this.scale === 'shared' ? 'shared' : 'per-image'} scale: drop 0–${top.toFixed(3)}`;
      this.caption.textContent = '';
      if (data.title) {
        const title = document.createElement('b');
        title.textContent = data.title;
        this.caption.append(title, document.createElement('br'));
      }
      this.caption.append(`patch ${data.patchWidth}×${data.patchHeight}, stride ${data.strideX}×${data.strideY} (model pixels of ${data.modelWidth}×${data.modelHeight}) · ${scale}`);
    }
    this.onDraw?.(context);
  }

  /** Image pixels under a mouse event. */
  imagePoint(event: MouseEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) / box.width) * this.canvas.width, y: ((event.clientY - box.top) / box.height) * this.canvas.height };
  }

  private hover(event: MouseEvent): void {
    const data = this.data;
    if (!data) return;
    const point = this.imagePoint(event);
    const { x: rx, y: ry } = this.ratio();
    const column = Math.floor((point.x / rx - data.originX - data.patchWidth / 2 + data.strideX / 2) / data.strideX);
    const row = Math.floor((point.y / ry - data.originY - data.patchHeight / 2 + data.strideY / 2) / data.strideY);
    const value = column >= 0 && row >= 0 && column < data.columns && row < data.rows ? valueAt(data.values, row * data.columns + column) : undefined;
    if (value === undefined) {
      this.tooltip.hidden = true;
      return;
    }
    const patchX = data.originX + column * data.strideX;
    const patchY = data.originY + row * data.strideY;
    this.tooltip.textContent = `p = ${value.toFixed(4)} (drop ${(data.baseProbability - value).toFixed(4)}) · cell (${column}, ${row}) · patch at (${patchX}, ${patchY})`;
    const box = this.canvas.getBoundingClientRect();
    this.tooltip.hidden = false;
    // Measured once shown: on a narrow card the text wraps, and it must not stick out past the image.
    this.tooltip.style.maxWidth = `${box.width}px`;
    this.tooltip.style.left = '0px';
    this.tooltip.style.left = `${Math.max(0, Math.min(event.clientX - box.left + 12, box.width - this.tooltip.offsetWidth))}px`;
    this.tooltip.style.top = `${event.clientY - box.top + 12}px`;
  }
}

/** The colour scale: the turbo map from drop 0 to `top`. */
export function legend(top: number, mode: ScaleMode): HTMLElement {
  const element = document.createElement('span');
  element.className = 'legend';
  const bar = document.createElement('canvas');
  bar.width = 256;
  bar.height = 1;
  const cells = new ImageData(256, 1);
  for (let i = 0; i < 256; i++) cells.data.set([TURBO_TABLE[3 * i], TURBO_TABLE[3 * i + 1], TURBO_TABLE[3 * i + 2], 255], 4 * i);
  bar.getContext('2d')!.putImageData(cells, 0, 0);
  element.append('drop 0', bar, mode === 'image' ? `each image's largest` : top.toFixed(mode === 'fixed' ? 1 : 3));
  return element;
}
