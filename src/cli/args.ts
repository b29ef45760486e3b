import { KryptonError } from '../errors.js';
import type { Rectangle, Size } from '../model/occlusion-grid.js';

export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value <= 0) {
    throw new KryptonError(`${name} must be a positive integer, got '${text}'`);
  }
  return value;
}

export function nonNegativeInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value)) throw new KryptonError(`${name} must be a non-negative integer, got '${text}'`);
  return value;
}

/** '16' (square) or '16x12' (width x height). */
export function size(name: string, text: string): Size {
  const parts = text.toLowerCase().split('x');
  if (parts.length === 1) {
    const side = positiveInteger(name, parts[0]);
    return { width: side, height: side };
  }
  if (parts.length !== 2) throw new KryptonError(`${name} must be N or WxH, got '${text}'`);
  return { width: positiveInteger(`${name} width`, parts[0]), height: positiveInteger(`${name} height`, parts[1]) };
}

/** 'x,y,w,h' in pixels of the model-input image. */
export function rectangle(name: string, text: string): Rectangle {
  const parts = text.split(',');
  if (parts.length !== 4) throw new KryptonError(`${name} must be x,y,w,h, got '${text}'`);
  return {
    x: nonNegativeInteger(`${name} x`, parts[0]),
    y: nonNegativeInteger(`${name} y`, parts[1]),
    width: positiveInteger(`${name} width`, parts[2]),
    height: positiveInteger(`${name} height`, parts[3]),
  };
}

/** Comma-separated finite numbers, e.g. a mean per channel. */
export function numbers(name: string, text: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v, i) => !Number.isFinite(v) || text.split(',')[i].trim() === '')) {
    throw new KryptonError(`${name} must be comma-separated numbers, got '${text}'`);
  }
  return values;
}

export function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  const lower = text.toLowerCase() as T;
  if (!allowed.includes(lower)) throw new KryptonError(`${name} must be one of ${allowed.join(', ')}, got '${text}'`);
  return lower;
}
