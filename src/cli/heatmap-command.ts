import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { KryptonError, messageOf } from '../errors.js';
import { parsePatchColor, patchValues } from '../image/patch-color.js';
import { prepareImage } from '../image/prepare-image.js';
import { renderOverlay } from '../image/render-overlay.js';
import { heatmapGridOf } from '../image/heatmap-grid.js';
import { classIndexOf, readLabels } from '../model/labels.js';
import { loadModel } from '../model/load-model.js';
import { occlusionGrid } from '../model/occlusion-grid.js';
import { createOperator, EXACT_INCREMENTAL, NAIVE } from '../operators/create-operator.js';
import { summariseHeatmap } from '../store/index.js';
import { oneOf, positiveInteger, rectangle, size } from './args.js';
import { addModelInputOptions, inputSize, inputSpecFor, type ModelInputOptions } from './model-input.js';
import { progressBar } from './progress.js';

interface HeatmapOptions extends ModelInputOptions {
  model: string;
  image: string;
  patch: string;
  stride: string;
  color: string;
  class: string;
  region?: string;
  mode: string;
  batch?: string;
  json?: string;
  png?: string;
  labels?: string;
  quiet?: boolean;
}

export function heatmapCommand(program: Command): void {
  const command = program
    .command('heatmap')
    .description('occlusion heatmap of one image: the class probability with a patch at each position')
    .requiredOption('--model <file.onnx>', 'ONNX image classifier')
    .requiredOption('--image <file>', 'PNG or JPEG image')
    .requiredOption('--patch <N|WxH>', 'patch size in model-input pixels')
    .option('--stride <N|XxY>', 'step between patch positions', '4')
    .option('--color <color>', 'patch colour: gray, black, mean or R,G,B', 'gray')
    .option('--class <N|label|predicted>', 'class whose probability is recorded', 'predicted')
    .option('--region <x,y,w,h>', 'only patches inside this rectangle of the model-input image')
    .option('--mode <mode>', 'naive (full inference per position) or exact (incremental, same result)', 'exact')
    .option('--batch <N>', 'positions per inference call (default: chosen from memory)')
    .option('--labels <file>', 'class names, one per line')
    .option('--json <file>', 'write the heatmap as JSON')
    .option('--png <file>', 'write the image with the heatmap overlaid')
    .option('--quiet', 'no progress bar');
  addModelInputOptions(command).action(async (options: HeatmapOptions) => {
    await runHeatmap(options);
  });
}

async function runHeatmap(options: HeatmapOptions): Promise<void> {
  const mode = oneOf('--mode', options.mode, ['naive', 'exact'] as const);
  const patch = size('--patch', options.patch);
  const strideSize = size('--stride', options.stride);
  const stride = { x: strideSize.width, y: strideSize.height };
  const color = parsePatchColor(options.color);
  const region = options.region ? rectangle('--region', options.region) : undefined;
  const batchSize = options.batch ? positiveInteger('--batch', options.batch) : undefined;
  const labels = options.labels ? await readLabels(options.labels) : undefined;

  const model = await loadModel(options.model, { inputSize: inputSize(options) });
  const spec = inputSpecFor(model, options);
  const grid = occlusionGrid({ image: { width: spec.width, height: spec.height }, patch, stride, region });
  const target = options.class === 'predicted' ? 'predicted' : classIndexOf(options.class, labels, model.output.classes);
  const image = await prepareImage(options.image, spec);

  const operator = await createOperator(mode === 'naive' ? NAIVE : EXACT_INCREMENTAL, model, grid);
  const progress = progressBar(mode, options.quiet ?? false);
  const started = performance.now();
  let heatmap;
  try {
    heatmap = await operator.run({
      input: image.tensor,
      patchValues: patchValues(color, image, spec),
      target,
      batchSize,
      onProgress: (done, total) => progress.update(done, total),
    });
  } finally {
    progress.stop();
    await operator.release();
  }
  const elapsedMs = performance.now() - started;
  const summary = summariseHeatmap({
    imagePath: options.image, heatmap: heatmap.values, width: grid.columns, height: grid.rows, baseProbability: heatmap.baseProbability,
    strideX: grid.strideX, strideY: grid.strideY, originX: grid.originX, originY: grid.originY,
  });
  const classLabel = labels?.[heatmap.classIndex];

  if (options.json) {
    await writeOutput(options.json, JSON.stringify({
      model: options.model,
      image: options.image,
      width: grid.columns,
      height: grid.rows,
      values: Array.from(heatmap.values),
      classIndex: heatmap.classIndex,
      classLabel,
      baseProbability: heatmap.baseProbability,
      mode,
      elapsedMs,
      patch: { width: patch.width, height: patch.height },
      stride,
      origin: { x: grid.originX, y: grid.originY },
      inputSize: { width: spec.width, height: spec.height },
      batchSize: heatmap.batchSize,
      ...summary,
    }) + '\n');
  }
  if (options.png) {
    const title = `${classLabel ?? `class ${heatmap.classIndex}`} p=${heatmap.baseProbability.toFixed(3)}`;
    await renderOverlay(image, heatmapGridOf(grid, heatmap.values), options.png, { baseProbability: heatmap.baseProbability, title });
  }
  const lines = [
    `class ${heatmap.classIndex}${classLabel ? ` (${classLabel})` : ''}: probability ${heatmap.baseProbability.toFixed(4)}`,
    `heatmap ${grid.columns}x${grid.rows} (patch ${patch.width}x${patch.height}, stride ${stride.x}x${stride.y}), ${mode} in ${(elapsedMs / 1000).toFixed(2)} s`,
    `largest drop ${summary.maxDrop.toFixed(4)} (to ${summary.minProbability.toFixed(4)}) with the patch at x=${summary.maxDropX}, y=${summary.maxDropY}`,
  ];
  if (options.json) lines.push(`wrote ${options.json}`);
  if (options.png) lines.push(`wrote ${options.png}`);
  process.stdout.write(lines.join('\n') + '\n');
}

async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (error) {
    throw new KryptonError(`cannot write ${path}: ${messageOf(error)}`, 'io');
  }
}
