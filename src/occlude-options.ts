import { KryptonError } from './errors.js';
import { KEYWORDS } from './parser/index.js';

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
  /** Only patches inside this rectangle: of the model-input image (default), or of each source image with unit 'image'. */
  readonly region?: { readonly x: number; readonly y: number; readonly width: number; readonly height: number; readonly unit?: 'model' | 'image' };
  /**
   * An SSIM target the planner tunes approximate plans for: on `tuneOn` of the images (its default
   * 3), anew when `retune`; `verifyPercent` of the other images also get exact heatmaps, to measure.
   */
  readonly quality?: {
    readonly ssim: number;
    readonly tuneOn?: number;
    readonly retune?: boolean;
    readonly verifyPercent?: number;
  };
  /** Default 'auto'; 'incremental' when `threshold` or `drilldown` is given without it. */
  readonly strategy?: 'auto' | 'naive' | 'incremental';
  /** A fixed propagation threshold τ in (0, 1], for strategy 'incremental'. */
  readonly threshold?: number;
  /** A fixed two-stage drill-down over strategy 'incremental' or 'naive'. */
  readonly drilldown?: {
    readonly stride: number | { readonly x: number; readonly y: number };
    readonly fraction: number;
  };
  /** Candidate plans strategy 'auto' must not choose. */
  readonly without?: readonly ('naive' | 'incremental' | 'threshold' | 'drilldown')[];
  readonly renderTo?: string;
  /** Results table; default heatmaps. */
  readonly into?: string;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');

/** A model name as written: plain when it can be, quoted when it has other characters or is a keyword. */
const modelName = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.includes(name.toUpperCase()) ? name : identifier(name);

/**
 * A number as the statement writes it. Only what cannot be written is refused here; ranges and
 * integrality are the language's to check.
 */
function numeral(name: string, value: number): string {
  if (!Number.isFinite(value)) throw new KryptonError(`${name} must be a number, got ${value}`);
  return String(value);
}

const strideText = (name: string, stride: number | { x: number; y: number }) =>
  typeof stride === 'number' ? numeral(name, stride) : `${numeral(name, stride.x)} x ${numeral(name, stride.y)}`;

/** QUALITY and the clauses that tune and verify it. */
function qualityClauses(quality: NonNullable<OccludeOptions['quality']>): string[] {
  const parts = [`QUALITY SSIM >= ${numeral('quality.ssim', quality.ssim)}`];
  if (quality.tuneOn !== undefined) {
    parts.push(`TUNE ON ${numeral('quality.tuneOn', quality.tuneOn)} ${quality.tuneOn === 1 ? 'IMAGE' : 'IMAGES'}`);
  }
  if (quality.retune === true) parts.push('RETUNE');
  if (quality.verifyPercent !== undefined) parts.push(`VERIFY ${numeral('quality.verifyPercent', quality.verifyPercent)} %`);
  return parts;
}

/**
 * STRATEGY with its settings. Combinations the language has no words for are refused here, where
 * the options are named, rather than as a syntax error in a statement the caller never wrote.
 */
function strategyClause(options: OccludeOptions): string | undefined {
  const { threshold, drilldown, without = [] } = options;
  const fixed = threshold !== undefined || drilldown !== undefined;
  const strategy = options.strategy ?? (fixed ? 'incremental' : without.length > 0 ? 'auto' : undefined);
  if (strategy === undefined) return undefined;
  if (strategy === 'auto' && fixed) {
    throw new KryptonError("threshold and drilldown fix the plan: use them with strategy 'incremental' or 'naive', not 'auto'");
  }
  if (strategy === 'naive' && threshold !== undefined) {
    throw new KryptonError("threshold: strategy 'naive' propagates nothing to cut; use strategy 'incremental'");
  }
  if (strategy !== 'auto' && without.length > 0) throw new KryptonError("without: only strategy 'auto' chooses among plans");
  const parts = [`STRATEGY ${strategy.toUpperCase()}`];
  if (without.length > 0) parts.push(`WITHOUT ${without.map((name) => name.toUpperCase()).join(', ')}`);
  if (threshold !== undefined) parts.push(`THRESHOLD ${numeral('threshold', threshold)}`);
  if (drilldown !== undefined) {
    parts.push(`DRILLDOWN STRIDE ${strideText('drilldown.stride', drilldown.stride)} FRACTION ${numeral('drilldown.fraction', drilldown.fraction)}`);
  }
  return parts.join(' ');
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
  const modelRef = typeof model === 'string' ? modelName(model) : quote(model.file);
  const size = (value: number | { width: number; height: number }, name: string) =>
    typeof value === 'number' ? numeral(name, value) : `${numeral(name, value.width)} x ${numeral(name, value.height)}`;
  const stride = options.stride ?? 4;
  const parts = [`OCCLUDE ${source} USING MODEL ${modelRef}`];
  if (options.targetClass !== undefined) {
    parts.push(typeof options.targetClass === 'number' ? `FOR CLASS ${numeral('class', options.targetClass)}` : `FOR CLASS ${quote(options.targetClass.label)}`);
  }
  parts.push(`WITH PATCH ${size(patch, 'patch')}`);
  if (options.color) {
    parts.push(typeof options.color === 'string' ? `COLOR ${options.color.toUpperCase()}` : `COLOR (${[options.color.r, options.color.g, options.color.b].map((v) => numeral('color', v)).join(', ')})`);
  }
  parts.push(`STRIDE ${strideText('stride', stride)}`);
  if (options.region) {
    const { x, y, width, height, unit } = options.region;
    if (unit !== undefined && unit !== 'model' && unit !== 'image') throw new KryptonError(`region.unit must be 'model' or 'image', got '${String(unit)}'`);
    parts.push(`REGION (${[x, y, width, height].map((v) => numeral('region', v)).join(', ')})${unit === 'image' ? ' IN IMAGE PIXELS' : ''}`);
  }
  if (options.quality) parts.push(...qualityClauses(options.quality));
  const strategy = strategyClause(options);
  if (strategy !== undefined) parts.push(strategy);
  if (options.renderTo) parts.push(`RENDER TO ${quote(options.renderTo)}`);
  if (options.into) parts.push(`INTO ${identifier(options.into)}`);
  return parts.join(' ');
}
