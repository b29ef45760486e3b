import { KryptonError } from './errors.js';

/** The occlusion call as typed options, for pipelines that would rather not write the statement. */
export interface OccludeOptions {
  /** A glob ('scans/*.png'), a list of paths, or a query whose first column is a path. */
  readonly images: string | readonly string[] | { readonly sql: string };
  /** A model registered with CREATE MODEL, or an ONNX file used with ImageNet defaults. */
  readonly model: string | { readonly file: string };
  /** Square side, or width and height, in model-input pixels. */
  readonly patch: number | { readonly width: number; readonly height: number };
  /** Default 4. */
  readonly stride?: number | { readonly x: number; readonly y: number };
  readonly color?: 'gray' | 'black' | 'mean' | { readonly r: number; readonly g: number; readonly b: number };
  /** A class index or label; the predicted class when absent. */
  readonly targetClass?: number | { readonly label: string };
  readonly region?: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly quality?: { readonly ssim: number };
  readonly strategy?: 'auto' | 'naive' | 'incremental';
  readonly renderTo?: string;
  /** Results table; default heatmaps. */
  readonly into?: string;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');

function integer(name: string, value: number): string {
  if (!Number.isFinite(value)) throw new KryptonError(`${name} must be a number, got ${value}`);
  return String(value);
}

/**
 * The statement the options describe. Going through the language keeps one set of checks and
 * meanings for both ways of asking.
 */
export function occludeStatement(options: OccludeOptions): string {
  const { images, model, patch } = options;
  const source = typeof images === 'string' ? quote(images)
    : 'sql' in images ? `(${images.sql})`
    : `(${(images as readonly string[]).map(quote).join(', ')})`;
  if (Array.isArray(images) && images.length === 0) throw new KryptonError('images: the list is empty');
  const modelRef = typeof model === 'string' ? model.split('.').length === 1 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(model) ? model : identifier(model) : quote(model.file);
  const size = (value: number | { width: number; height: number }, name: string) =>
    typeof value === 'number' ? integer(name, value) : `${integer(name, value.width)} x ${integer(name, value.height)}`;
  const stride = options.stride ?? 4;
  const parts = [`OCCLUDE ${source} USING MODEL ${modelRef}`];
  if (options.targetClass !== undefined) {
    parts.push(typeof options.targetClass === 'number' ? `FOR CLASS ${integer('class', options.targetClass)}` : `FOR CLASS ${quote(options.targetClass.label)}`);
  }
  parts.push(`WITH PATCH ${size(patch, 'patch')}`);
  if (options.color) {
    parts.push(typeof options.color === 'string' ? `COLOR ${options.color.toUpperCase()}` : `COLOR (${[options.color.r, options.color.g, options.color.b].map((v) => integer('color', v)).join(', ')})`);
  }
  parts.push(`STRIDE ${typeof stride === 'number' ? integer('stride', stride) : `${integer('stride', stride.x)} x ${integer('stride', stride.y)}`}`);
  if (options.region) parts.push(`REGION (${[options.region.x, options.region.y, options.region.width, options.region.height].map((v) => integer('region', v)).join(', ')})`);
  if (options.quality) parts.push(`QUALITY SSIM >= ${options.quality.ssim}`);
  if (options.strategy) parts.push(`STRATEGY ${options.strategy.toUpperCase()}`);
  if (options.renderTo) parts.push(`RENDER TO ${quote(options.renderTo)}`);
  if (options.into) parts.push(`INTO ${identifier(options.into)}`);
  return parts.join(' ');
}
