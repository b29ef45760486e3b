import type { Command } from 'commander';
import { KryptonError } from '../errors.js';
import type { InputSpec } from '../image/input-spec.js';
import { imagenetInputSpec } from '../image/input-spec.js';
import type { LoadedModel } from '../model/load-model.js';
import { numbers, oneOf, size } from './args.js';

/** Options shared by commands that feed images to a model. */
export function addModelInputOptions(command: Command): Command {
  return command
    .option('--input <N|WxH>', "model input size, when the model's own is not fixed")
    .option('--channels <order>', 'channel order the model expects: rgb, bgr or gray (default: rgb, gray for 1-channel models)')
    .option('--scale <1|255>', 'value range before normalisation: 1 (0–1) or 255 (0–255)', '1')
    .option('--normalize <kind>', 'imagenet or none', 'imagenet')
    .option('--mean <r,g,b>', 'per-channel mean (overrides --normalize)')
    .option('--std <r,g,b>', 'per-channel std (overrides --normalize)')
    .option('--resize <policy>', 'stretch, cover or contain', 'stretch');
}

export interface ModelInputOptions {
  input?: string;
  channels?: string;
  scale: string;
  normalize: string;
  mean?: string;
  std?: string;
  resize: string;
}

export function inputSize(options: ModelInputOptions): { width: number; height: number } | undefined {
  return options.input ? size('--input', options.input) : undefined;
}

export function inputSpecFor(model: LoadedModel, options: ModelInputOptions): InputSpec {
  const channelCount = model.input.channels;
  const channels = oneOf('--channels', options.channels ?? (channelCount === 1 ? 'gray' : 'rgb'), ['rgb', 'bgr', 'gray'] as const);
  if (channelCount !== 1 && channelCount !== 3) throw new KryptonError(`models with ${channelCount} input channels are not supported`);
  if (channels !== 'gray' && channelCount !== 3) throw new KryptonError(`--channels ${channels} needs a 3-channel model; this one has ${channelCount}`);
  const scale = Number(oneOf('--scale', options.scale, ['1', '255'] as const)) as 1 | 255;
  const normalize = oneOf('--normalize', options.normalize, ['imagenet', 'none'] as const);
  const identity = Array.from({ length: channelCount }, () => 0);
  const ones = Array.from({ length: channelCount }, () => 1);
  return imagenetInputSpec({
    width: model.input.width,
    height: model.input.height,
    channelCount,
    channels,
    scale,
    resize: oneOf('--resize', options.resize, ['stretch', 'cover', 'contain'] as const),
    ...(normalize === 'none' ? { mean: identity, std: ones } : {}),
    ...(options.mean ? { mean: numbers('--mean', options.mean) } : {}),
    ...(options.std ? { std: numbers('--std', options.std) } : {}),
  });
}
