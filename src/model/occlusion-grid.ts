import { KryptonError } from '../errors.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Rectangle {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Where the patch goes: cell (col, row) of the heatmap puts the patch's top-left corner at
 * (originX + col * strideX, originY + row * strideY).
 *
 * Every patch lies wholly inside the image (or the requested region): a row has
 * floor((W - patchW) / strideX) + 1 cells, and when the stride does not divide W - patchW the last
 * strip narrower than a stride is not visited (no patch is clipped or shifted to fit). Captum
 * instead adds one more, partial step; we prefer cells that all mean the same thing.
 */
export interface OcclusionGrid {
  readonly originX: number;
  readonly originY: number;
  readonly strideX: number;
  readonly strideY: number;
  readonly columns: number;
  readonly rows: number;
  readonly patchWidth: number;
  readonly patchHeight: number;
}

export interface GridRequest {
  readonly image: Size;
  readonly patch: Size;
  readonly stride: { readonly x: number; readonly y: number };
  /** Only patches lying inside this rectangle of the model-input image. */
  readonly region?: Rectangle;
}

export function occlusionGrid({ image, patch, stride, region }: GridRequest): OcclusionGrid {
  for (const [name, value] of [['patch width', patch.width], ['patch height', patch.height]] as const) {
    if (!Number.isInteger(value) || value <= 0) throw new KryptonError(`${name} must be a positive integer, got ${value}`);
  }
  for (const [name, value] of [['stride', stride.x], ['stride', stride.y]] as const) {
    if (!Number.isInteger(value) || value <= 0) throw new KryptonError(`${name} must be a positive integer, got ${value}`);
  }
  const area = region ?? { x: 0, y: 0, width: image.width, height: image.height };
  if (region) {
    if (![region.x, region.y, region.width, region.height].every(Number.isInteger) || region.width <= 0 || region.height <= 0 || region.x < 0 || region.y < 0) {
      throw new KryptonError(`region ${describe(region)} must have non-negative integer x, y and positive width, height`);
    }
    if (region.x + region.width > image.width || region.y + region.height > image.height) {
      throw new KryptonError(`region ${describe(region)} lies outside the ${image.width}x${image.height} model-input image`);
    }
  }
  if (patch.width > area.width || patch.height > area.height) {
    const where = region ? `region ${describe(region)}` : `${image.width}x${image.height} model-input image`;
    throw new KryptonError(`patch ${patch.width}x${patch.height} is larger than the ${where}`);
  }
  return {
    originX: area.x,
    originY: area.y,
    strideX: stride.x,
    strideY: stride.y,
    columns: Math.floor((area.width - patch.width) / stride.x) + 1,
    rows: Math.floor((area.height - patch.height) / stride.y) + 1,
    patchWidth: patch.width,
    patchHeight: patch.height,
  };
}

export function cellCount(grid: OcclusionGrid): number {
  return grid.columns * grid.rows;
}

/** Patch top-left corners of every cell, row-major (the heatmap's order). */
export function patchCorners(grid: OcclusionGrid): { tops: Int32Array; lefts: Int32Array } {
  const count = cellCount(grid);
  const tops = new Int32Array(count);
  const lefts = new Int32Array(count);
  for (let row = 0, i = 0; row < grid.rows; row++) {
    for (let col = 0; col < grid.columns; col++, i++) {
      tops[i] = grid.originY + row * grid.strideY;
      lefts[i] = grid.originX + col * grid.strideX;
    }
  }
  return { tops, lefts };
}

function describe(r: Rectangle): string {
  return `(${r.x}, ${r.y}, ${r.width}, ${r.height})`;
}
