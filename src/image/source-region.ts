import { KryptonError } from '../errors.js';
import type { ResizePolicy } from './input-spec.js';

export interface Rectangle {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Where a source pixel lands on the model input: `model = source · scale + offset` along each axis. */
export interface AxisMapping {
  readonly scaleX: number;
  readonly scaleY: number;
  readonly offsetX: number;
  readonly offsetY: number;
}

/**
 * The geometry of the resize: stretch scales each axis; cover scales to fill and crops the
 * centre; contain scales to fit and pads the centre.
 */
export function resizeGeometry(image: Size, model: Size & { readonly resize: ResizePolicy }): AxisMapping {
  const sx = model.width / image.width;
  const sy = model.height / image.height;
  const scaleX = model.resize === 'stretch' ? sx : model.resize === 'cover' ? Math.max(sx, sy) : Math.min(sx, sy);
  const scaleY = model.resize === 'stretch' ? sy : scaleX;
  return { scaleX, scaleY, offsetX: (model.width - image.width * scaleX) / 2, offsetY: (model.height - image.height * scaleY) / 2 };
}

/**
 * The inverse of the resize, then a shrink of the source to the picture drawn: where a model-input
 * pixel lies on a `shown`-sized picture of the whole source image.
 */
export function modelToShownPixels(model: Size & { readonly resize: ResizePolicy }, source: Size, shown: Size): AxisMapping {
  const resize = resizeGeometry(source, model);
  const kx = shown.width / source.width;
  const ky = shown.height / source.height;
  return { scaleX: kx / resize.scaleX, scaleY: ky / resize.scaleY, offsetX: (-resize.offsetX * kx) / resize.scaleX, offsetY: (-resize.offsetY * ky) / resize.scaleY };
}

/** How `describe` writes a region: `0, 0, 900, 10`, the four numbers as REGION takes them. */
export function regionText(region: Rectangle): string {
  return `${region.x}, ${region.y}, ${region.width}, ${region.height}`;
}

/**
 * A rectangle of the source image's pixels as model-input pixels, by the geometry of the resize
 * (stretch scales each axis; cover scales to fill and crops the centre; contain scales to fit and
 * pads the centre). Edges are rounded to the nearest model pixel. Refused when the rectangle is
 * not wholly inside the image, or not wholly inside what the model sees of it (cover), or shrinks
 * to nothing.
 */
export function regionInModelPixels(region: Rectangle, image: Size, label: string, model: Size & { readonly resize: ResizePolicy }): Rectangle {
  const said = `REGION ${regionText(region)} (image pixels)`;
  if (region.x + region.width > image.width || region.y + region.height > image.height) {
    throw new KryptonError(`${said} exceeds the ${image.width}x${image.height} image ${label}`, 'plan');
  }
  const { scaleX, scaleY, offsetX, offsetY } = resizeGeometry(image, model);
  const left = Math.round(region.x * scaleX + offsetX);
  const top = Math.round(region.y * scaleY + offsetY);
  const right = Math.round((region.x + region.width) * scaleX + offsetX);
  const bottom = Math.round((region.y + region.height) * scaleY + offsetY);
  if (left < 0 || top < 0 || right > model.width || bottom > model.height) {
    throw new KryptonError(`${said} reaches outside the part of the ${image.width}x${image.height} image ${label} that the model sees (resized to cover ${model.width}x${model.height}, the rest cropped)`, 'plan');
  }
  if (right <= left || bottom <= top) {
    throw new KryptonError(`${said} is less than a model-input pixel ${right <= left ? 'wide' : 'high'} in the ${image.width}x${image.height} image ${label} (resized to ${model.width}x${model.height})`, 'plan');
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}
