import type { Command } from 'commander';

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
