import { existsSync } from 'node:fs';
import { isDynamicPattern } from 'tinyglobby';
import { matchImages } from './executor/image-source.js';
import { KryptonError } from './errors.js';
import { KEYWORDS } from './parser/index.js';

/** The occlusion call as typed options, for pipelines that would rather not write the statement. */
export interface OccludeOptions {
  /**
   * A glob ('scans/*.png'), a list of paths and globs (each glob expands to its matches, sorted),
   * or a query whose first column is a path.
   */
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
  /** What the overlays' colours span: the drop 0–1 (default), each image's own drops, or the query's. */
  readonly renderScale?: 'absolute' | 'image' | 'query';
  /** Results table; default heatmaps. */
  readonly into?: string;
}

/** The problem with an option, named as the caller wrote it. */
const optionError = (option: string, detail: string, code: 'argument' | 'image' = 'argument') =>
  new KryptonError(`occlude option '${option}': ${detail}`, code);

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');

/** A model name as written: plain when it can be, quoted when it has other characters or is a keyword. */
const modelName = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.includes(name.toUpperCase()) ? name : identifier(name);

/** The words of one option in the rendered statement. */
interface OptionSpan {
  readonly option: string;
  readonly start: number;
  readonly end: number;
  /** How the language's messages name the value, e.g. 'REGION width' in "REGION width must be …". */
  readonly noun?: string;
}

/** Builds the statement word by word, remembering which option wrote which words. */
class StatementWriter {
  private text: string;
  private readonly spans: OptionSpan[] = [];

  constructor(prefix: string) {
    this.text = prefix;
  }

  /** Words after a space, or none after an opening parenthesis. */
  words(words: string): this {
    this.text += this.separated() ? words : ` ${words}`;
    return this;
  }

  /** Words that `write` adds belong to `option`; the innermost option is the one a problem names. */
  option(option: string, write: () => void, noun?: string): this {
    const start = this.text.length + (this.separated() ? 0 : 1);
    write();
    this.spans.push({ option, start, end: this.text.length, noun });
    return this;
  }

  /** `KEYWORD (a, b, c)` from named numbers. */
  numbers(keyword: string, entries: readonly (readonly [option: string, value: number, noun: string])[]): this {
    this.words(`${keyword} (`);
    entries.forEach(([option, value, noun], i) => {
      if (i > 0) this.text += ',';
      this.number(option, value, noun);
    });
    this.text += ')';
    return this;
  }

  /** A number: only what cannot be written is refused here; ranges and integrality are the language's to check. */
  number(option: string, value: number, noun?: string): this {
    if (!Number.isFinite(value)) throw optionError(option, `must be a number, got ${value}`);
    return this.option(option, () => this.words(String(value)), noun);
  }

  /** `n` or `x x y` for a stride-like option. */
  pair(option: string, value: number | { readonly x: number; readonly y: number }, noun: string): this {
    if (typeof value === 'number') return this.number(option, value, noun);
    return this.option(option, () => this.number(`${option}.x`, value.x, noun).words('x').number(`${option}.y`, value.y, noun));
  }

  private separated(): boolean {
    return this.text === '' || this.text.endsWith(' ') || this.text.endsWith('(');
  }

  done(): RenderedOcclude {
    return new RenderedOcclude(this.text, this.spans);
  }
}

/**
 * An OCCLUDE statement rendered from options, and which option each of its words came from: a
 * problem the language finds in a statement the caller never wrote is told in the options' terms.
 */
export class RenderedOcclude {
  constructor(readonly text: string, private readonly spans: readonly OptionSpan[]) {}

  /**
   * The problem the language reports at `offset` of the text, as a message about the option there:
   * "STRIDE must be a positive integer" at the stride's number becomes "occlude option 'stride':
   * must be a positive integer, got 0".
   */
  problem(offset: number, detail: string, token?: string): string {
    const span = this.spans
      .filter((s) => s.start <= offset && offset < s.end)
      .sort((a, b) => a.end - a.start - (b.end - b.start))[0];
    if (span === undefined) return `occlude options: ${detail}`;
    const bare = span.noun !== undefined && detail.startsWith(`${span.noun} must `) ? detail.slice(span.noun.length + 1) : undefined;
    if (bare === undefined) return `occlude option '${span.option}': ${detail}`;
    const shown = token !== undefined && /^-?\d/.test(token) ? `, got ${token}` : '';
    return `occlude option '${span.option}': ${bare}${shown}`;
  }
}

/** QUALITY and the clauses that tune and verify it. */
function writeQuality(writer: StatementWriter, quality: NonNullable<OccludeOptions['quality']>): void {
  writer.option('quality', () => writer.words('QUALITY SSIM >=').number('quality.ssim', quality.ssim, 'SSIM target'));
  if (quality.tuneOn !== undefined) {
    const { tuneOn } = quality;
    writer.option('quality.tuneOn', () => writer.words('TUNE ON').number('quality.tuneOn', tuneOn, 'TUNE ON').words(tuneOn === 1 ? 'IMAGE' : 'IMAGES'));
  }
  if (quality.retune === true) writer.option('quality.retune', () => writer.words('RETUNE'));
  if (quality.verifyPercent !== undefined) {
    // An SSIM of 1 is an exact plan; the language asks for an approximation to verify.
    if (quality.ssim === 1) throw optionError('quality.verifyPercent', 'needs quality.ssim below 1: an exact plan has no approximation to verify');
    const { verifyPercent } = quality;
    writer.option('quality.verifyPercent', () => writer.words('VERIFY').number('quality.verifyPercent', verifyPercent, 'VERIFY').words('%'));
  }
}

const CANDIDATES = ['naive', 'incremental', 'threshold', 'drilldown'] as const;

/**
 * STRATEGY with its settings. Combinations the language has no words for are refused here, where
 * the options are named, rather than as a syntax error in a statement the caller never wrote.
 */
function writeStrategy(writer: StatementWriter, options: OccludeOptions): void {
  const { threshold, drilldown, without = [] } = options;
  const fixed = threshold !== undefined || drilldown !== undefined;
  const strategy = options.strategy ?? (fixed ? 'incremental' : without.length > 0 ? 'auto' : undefined);
  if (strategy === undefined) return;
  const setting = threshold !== undefined ? 'threshold' : 'drilldown';
  if (strategy === 'auto' && fixed) {
    throw optionError(setting, "threshold and drilldown fix the plan: use them with strategy 'incremental' or 'naive', not 'auto'");
  }
  if (strategy === 'naive' && threshold !== undefined) {
    throw optionError('threshold', "strategy 'naive' propagates nothing to cut; use strategy 'incremental'");
  }
  if (fixed && options.quality !== undefined) {
    throw optionError(setting, 'quality tunes threshold and drilldown itself: give quality or a fixed threshold and drilldown, not both');
  }
  if (strategy !== 'auto' && without.length > 0) throw optionError('without', "only strategy 'auto' chooses among plans");
  const repeated = without.find((name, i) => without.indexOf(name) !== i);
  if (repeated !== undefined) throw optionError('without', `lists '${repeated}' more than once`);
  if (CANDIDATES.every((name) => without.includes(name))) throw optionError('without', 'leaves no strategy to choose from');
  writer.option('strategy', () => writer.words(`STRATEGY ${strategy.toUpperCase()}`));
  if (without.length > 0) writer.option('without', () => writer.words(`WITHOUT ${without.map((name) => name.toUpperCase()).join(', ')}`));
  if (threshold !== undefined) writer.option('threshold', () => writer.words('THRESHOLD').number('threshold', threshold, 'THRESHOLD'));
  if (drilldown !== undefined) {
    writer.option('drilldown', () =>
      writer.words('DRILLDOWN STRIDE').pair('drilldown.stride', drilldown.stride, 'DRILLDOWN STRIDE').words('FRACTION').number('drilldown.fraction', drilldown.fraction, 'FRACTION'));
  }
}

function writeSource(writer: StatementWriter, images: OccludeOptions['images']): void {
  if (typeof images === 'string') {
    writer.option('images', () => writer.words(quote(images)), 'image pattern');
  } else if (Array.isArray(images)) {
    const paths = images as readonly string[];
    if (paths.length === 0) throw optionError('images', 'the list is empty');
    writer.option('images', () => writer.words(`(${paths.map(quote).join(', ')})`), 'image path');
  } else {
    writer.option('images.sql', () => writer.words(`(${(images as { sql: string }).sql})`));
  }
}

/** The statement the options describe, with where each option went (after `prefix`, e.g. 'EXPLAIN '). */
export function renderOcclude(options: OccludeOptions, prefix = ''): RenderedOcclude {
  const { model, patch, targetClass, color, region } = options;
  const writer = new StatementWriter(prefix).words('OCCLUDE');
  writeSource(writer, options.images);
  writer.option('model', () => {
    if (typeof model === 'string') writer.words(`USING MODEL ${modelName(model)}`);
    else writer.words(`USING MODEL ${quote(model.file)}`);
  }, typeof model === 'string' ? 'a quoted name' : 'model file path');
  if (targetClass !== undefined) {
    writer.option('targetClass', () => {
      writer.words('FOR CLASS');
      if (typeof targetClass === 'number') writer.number('targetClass', targetClass, 'CLASS index');
      else writer.option('targetClass.label', () => writer.words(quote(targetClass.label)), 'class label');
    });
  }
  writer.option('patch', () => {
    writer.words('WITH PATCH');
    if (typeof patch === 'number') writer.number('patch', patch, 'PATCH');
    else writer.number('patch.width', patch.width, 'PATCH').words('x').number('patch.height', patch.height, 'PATCH');
  });
  if (color !== undefined) {
    writer.option('color', () => {
      if (typeof color === 'string') {
        writer.words(`COLOR ${color.toUpperCase()}`);
        return;
      }
      writer.numbers('COLOR', (['r', 'g', 'b'] as const).map((channel) => [`color.${channel}`, color[channel], 'COLOR components'] as const));
    });
  }
  writer.option('stride', () => writer.words('STRIDE').pair('stride', options.stride ?? 4, 'STRIDE'));
  if (region !== undefined) {
    const { unit } = region;
    if (unit !== undefined && unit !== 'model' && unit !== 'image') throw optionError('region.unit', `must be 'model' or 'image', got '${String(unit)}'`);
    writer.option('region', () => {
      writer.numbers('REGION', (['x', 'y', 'width', 'height'] as const).map((side) => [`region.${side}`, region[side], `REGION ${side}`] as const));
      if (unit === 'image') writer.words('IN IMAGE PIXELS');
    });
  }
  if (options.quality) writeQuality(writer, options.quality);
  writeStrategy(writer, options);
  const { renderTo, renderScale, into } = options;
  if (renderScale !== undefined && renderTo === undefined) throw optionError('renderScale', "needs 'renderTo'");
  if (renderScale !== undefined && !['absolute', 'image', 'query'].includes(renderScale)) {
    throw optionError('renderScale', `must be 'absolute', 'image' or 'query', got '${String(renderScale)}'`);
  }
  if (renderTo !== undefined) writer.option('renderTo', () => writer.words(`RENDER TO ${quote(renderTo)}`), 'RENDER TO directory');
  if (renderScale !== undefined) writer.option('renderScale', () => writer.words(`SCALE ${renderScale.toUpperCase()}`));
  if (into !== undefined) writer.option('into', () => writer.words(`INTO ${identifier(into)}`), 'a quoted name');
  return writer.done();
}

/**
 * The statement the options describe. Going through the language keeps one set of checks and
 * meanings for both ways of asking. Globs in a list of images are written as they are; `occlude`
 * expands them first (`expandImages`).
 */
export function occludeStatement(options: OccludeOptions): string {
  return renderOcclude(options).text;
}

/**
 * The options with every glob in a list of images expanded as the language expands a glob source:
 * its files, sorted. An entry that names an existing file is that file, whatever its characters.
 */
export async function expandImages(options: OccludeOptions): Promise<OccludeOptions> {
  const { images } = options;
  if (!Array.isArray(images)) return options;
  const paths: string[] = [];
  for (const entry of images as readonly string[]) {
    if (!isDynamicPattern(entry) || existsSync(entry)) {
      paths.push(entry);
      continue;
    }
    const matches = await matchImages(entry);
    if (matches.length === 0) throw optionError('images', `no images match '${entry}'`, 'image');
    paths.push(...matches);
  }
  return { ...options, images: paths };
}
