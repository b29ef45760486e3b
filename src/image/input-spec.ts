import { KryptonError } from '../errors.js';

/** The order of the model's colour channels; 'gray' with 3 channels means the gray image copied 3 times. */
export type ChannelOrder = 'rgb' | 'bgr' | 'gray';

/**
 * How the source image is fitted to the model's input size:
 * stretch ignores the aspect ratio, cover resizes and centre-crops, contain letterboxes on black.
 */
export type ResizePolicy = 'stretch' | 'cover' | 'contain';

/** How one model wants its input image: size, channels, value range and normalisation. */
export interface InputSpec {
  width: number;
  height: number;
  /** The model's C axis: 1 or 3. */
  channelCount: number;
  channels: ChannelOrder;
  /** The value range fed to the model before mean/std: 0–1 or 0–255. */
  scale: 1 | 255;
  /** Per model channel, applied after scaling: (v - mean) / std. */
  mean: number[];
  std: number[];
  resize: ResizePolicy;
}

export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** The statistics of ImageNet's training set, in RGB order on the 0–1 scale (torchvision's values). */
export const IMAGENET_NORMALIZATION: Normalization = Object.freeze({
  mean: Object.freeze([0.485, 0.456, 0.406]),
  std: Object.freeze([0.229, 0.224, 0.225]),
});

/**
 * An InputSpec with ImageNet defaults (224×224, RGB, 0–1, ImageNet mean/std, stretch) and the given
 * overrides. A one-channel model gets the average of ImageNet's channel statistics; a BGR model gets
 * them reordered, unless mean/std are overridden.
 */
export function imagenetInputSpec(overrides: Partial<InputSpec> = {}): InputSpec {
  const channels = overrides.channels ?? 'rgb';
  const channelCount = overrides.channelCount ?? (channels === 'gray' ? 1 : 3);
  const spec: InputSpec = {
    width: overrides.width ?? 224,
    height: overrides.height ?? 224,
    channelCount,
    channels,
    scale: overrides.scale ?? 1,
    mean: overrides.mean ? [...overrides.mean] : imagenetStatistic(IMAGENET_NORMALIZATION.mean, channels, channelCount),
    std: overrides.std ? [...overrides.std] : imagenetStatistic(IMAGENET_NORMALIZATION.std, channels, channelCount),
    resize: overrides.resize ?? 'stretch',
  };
  validateInputSpec(spec);
  return spec;
}

function imagenetStatistic(rgb: readonly number[], channels: ChannelOrder, channelCount: number): number[] {
  if (channelCount === 1) return [(rgb[0] + rgb[1] + rgb[2]) / 3];
  return channels === 'bgr' ? [rgb[2], rgb[1], rgb[0]] : [...rgb];
}

/** Throws a KryptonError ('argument') naming the first inconsistency in the spec. */
export function validateInputSpec(spec: InputSpec): void {
  const fail = (problem: string): never => {
    throw new KryptonError(`Invalid model input spec: ${problem}`, 'argument');
  };
  for (const [name, size] of [['width', spec.width], ['height', spec.height]] as const) {
    if (!Number.isInteger(size) || size < 1 || size > 16384) fail(`${name} must be an integer from 1 to 16384, got ${size}`);
  }
  if (spec.channelCount !== 1 && spec.channelCount !== 3) fail(`channel count must be 1 or 3, got ${spec.channelCount}`);
  if (spec.channels !== 'rgb' && spec.channels !== 'bgr' && spec.channels !== 'gray') fail(`unknown channel order '${spec.channels}'`);
  if (spec.channels !== 'gray' && spec.channelCount !== 3) fail(`${spec.channels} needs 3 channels, got ${spec.channelCount}`);
  if (spec.scale !== 1 && spec.scale !== 255) fail(`scale must be 1 or 255, got ${spec.scale}`);
  if (spec.resize !== 'stretch' && spec.resize !== 'cover' && spec.resize !== 'contain') fail(`unknown resize policy '${spec.resize}'`);
  if (spec.mean.length !== spec.channelCount) fail(`mean needs ${spec.channelCount} values, got ${spec.mean.length}`);
  if (spec.std.length !== spec.channelCount) fail(`std needs ${spec.channelCount} values, got ${spec.std.length}`);
  if (!spec.mean.every(Number.isFinite)) fail('mean values must be finite numbers');
  if (!spec.std.every((s) => Number.isFinite(s) && s !== 0)) fail('std values must be finite and non-zero');
}

/** One pixel-space value (0–255) of model channel `channel` as the model sees it: scaled, then normalised. */
export function normalizePixelValue(value: number, channel: number, spec: InputSpec): number {
  const scaled = spec.scale === 255 ? value : value / 255;
  return (scaled - spec.mean[channel]) / spec.std[channel];
}
