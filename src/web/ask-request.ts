import { imageDimensions } from '../image/decode-image.js';
import type { Krypton } from '../krypton.js';
import { quoteString } from '../store/index.js';
import type { OccludeOptions } from '../occlude-options.js';
import type { ImageAccess } from './image-access.js';
import { resultsTables } from './results-tables.js';
import { WebError } from './web-error.js';

/** What the page's Ask form sends: one occlusion over chosen images, REGION in the first image's pixels. */
export interface AskRequest {
  readonly model: string;
  readonly images: readonly string[];
  /** The frame (from 1) of each image, for multi-frame DICOM files; the first when absent. */
  readonly frame?: number;
  readonly patch: number;
  readonly stride?: number;
  readonly color?: 'gray' | 'black' | 'mean';
  /** 'predicted', a label, or a class index. */
  readonly targetClass?: string | number;
  /** An SSIM target; exact when absent. */
  readonly quality?: number;
  readonly region?: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly into?: string;
  /** Positions per inference call. */
  readonly batchSize?: number;
}

const MAX_IMAGES = 500;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function positiveInteger(value: unknown, name: string): number {
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) throw new WebError(400, `'${name}' must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The request as the library's typed options, every path checked against the allowed folders and
 * the model against the catalog; what only the planner can judge (patch against region, class
 * against the labels) it judges when the plan is made.
 */
export async function occludeOptionsOf(body: unknown, db: Krypton, access: ImageAccess): Promise<{ options: OccludeOptions; batchSize?: number }> {
  if (!isObject(body)) throw new WebError(400, 'the request body must be a JSON object');
  const { model, images, frame, patch, stride, color, targetClass, quality, region, into, batchSize } = body;
  if (typeof model !== 'string' || model === '') throw new WebError(400, "'model' must name a model of the catalog");
  const models = await db.listModels();
  const known = models.find((name) => name.toLowerCase() === model.toLowerCase());
  if (!known) throw new WebError(404, `unknown model '${model}' (${models.length ? `models: ${models.join(', ')}` : 'the catalog has no models; CREATE MODEL first'})`);
  if (!Array.isArray(images) || images.length === 0) throw new WebError(400, "'images' must list at least one image");
  if (images.length > MAX_IMAGES) throw new WebError(400, `'images' lists ${images.length} images; at most ${MAX_IMAGES} per run`);
  const paths: string[] = [];
  for (const image of images) paths.push(await access.resolve(image));
  if (new Set(paths).size !== paths.length) throw new WebError(400, "'images' names an image twice");
  positiveInteger(patch, 'patch');
  if (frame !== undefined) positiveInteger(frame, 'frame');
  if (stride !== undefined) positiveInteger(stride, 'stride');
  if (batchSize !== undefined) positiveInteger(batchSize, 'batchSize');
  if (color !== undefined && color !== 'gray' && color !== 'black' && color !== 'mean') throw new WebError(400, `'color' must be gray, black or mean, got ${JSON.stringify(color)}`);
  if (quality !== undefined && !(typeof quality === 'number' && quality > 0 && quality <= 1)) throw new WebError(400, `'quality' must be an SSIM target in (0, 1], got ${JSON.stringify(quality)}`);
  if (into !== undefined && (typeof into !== 'string' || into.trim() === '')) throw new WebError(400, "'into' must name a results table");
  if (typeof into === 'string') await refuseOtherTable(db, into.trim());
  const options: OccludeOptions = {
    images: frame === undefined || frame === 1 ? paths : framesOf(paths, frame as number),
    model: known,
    patch: patch as number,
    ...(stride !== undefined && { stride: stride as number }),
    ...(color !== undefined && { color }),
    ...targetOf(targetClass),
    ...(quality !== undefined && { quality: { ssim: quality as number } }),
    ...(region !== undefined && { region: { ...(await regionOf(region, paths)), unit: 'image' as const } }),
    ...(into !== undefined && { into: (into as string).trim() }),
  };
  return { options, batchSize: batchSize as number | undefined };
}

/** The images as a SELECT source with a frame column: how the language names a frame. */
function framesOf(paths: readonly string[], frame: number): { sql: string } {
  return { sql: `SELECT * FROM (VALUES ${paths.map((path) => `(${quoteString(path)}, ${frame})`).join(', ')}) AS asked(path, frame)` };
}

function targetOf(target: unknown): Pick<OccludeOptions, 'targetClass'> {
  if (target === undefined || target === null || target === '' || target === 'predicted') return {};
  if (typeof target === 'number') return { targetClass: target };
  if (typeof target === 'string') return /^\d+$/.test(target) ? { targetClass: Number(target) } : { targetClass: { label: target } };
  throw new WebError(400, `'targetClass' must be 'predicted', a label or a class index, got ${JSON.stringify(target)}`);
}

/** REGION in image pixels, inside every chosen image (the engine converts it to each image's model pixels). */
async function regionOf(region: unknown, paths: readonly string[]): Promise<{ x: number; y: number; width: number; height: number }> {
  if (!isObject(region)) throw new WebError(400, "'region' must be {x, y, width, height} in image pixels");
  const [x, y, width, height] = (['x', 'y', 'width', 'height'] as const).map((key) => {
    const value = region[key];
    if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= (key === 'x' || key === 'y' ? 0 : 1))) {
      throw new WebError(400, `'region.${key}' must be ${key === 'x' || key === 'y' ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(value)}`);
    }
    return value;
  });
  for (const path of paths) {
    const size = await imageDimensions(path);
    if (x + width > size.width || y + height > size.height) {
      throw new WebError(400, `region (${x}, ${y}, ${width}, ${height}) lies outside the ${size.width}x${size.height} image ${path}`);
    }
  }
  return { x, y, width, height };
}

/**
 * The engine refuses a table of another shape only once the run has started; the page should hear
 * it when it plans. DuckDB's names are case-insensitive.
 */
async function refuseOtherTable(db: Krypton, into: string): Promise<void> {
  const wanted = into.toLowerCase();
  if (!(await db.listTables()).some((name) => name.toLowerCase() === wanted)) return;
  if ((await resultsTables(db)).some((table) => table.name.toLowerCase() === wanted)) return;
  throw new WebError(400, `table '${into}' exists but is not a Krypton results table; choose another table to store into`);
}
