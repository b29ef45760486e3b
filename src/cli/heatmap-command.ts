import type { Command } from 'commander';
import { addModelInputOptions } from './model-input.js';
import type { HeatmapOptions } from './run-heatmap.js';

export function heatmapCommand(program: Command): void {
  const command = program
    .command('heatmap')
    .description('occlusion heatmap of one image: the class probability with a patch at each position')
    .requiredOption('--model <file.onnx>', 'ONNX image classifier')
    .requiredOption('--image <file>', 'PNG, JPEG or DICOM image')
    .option('--frame <N>', 'the frame of a multi-frame DICOM file, from 1 (default: the first)')
    .requiredOption('--patch <N|WxH>', 'patch size in model-input pixels')
    .option('--stride <N|XxY>', 'step between patch positions', '4')
    .option('--color <color>', 'patch colour: gray, black, mean or R,G,B', 'gray')
    .option('--class <N|label|predicted>', 'class whose probability is recorded', 'predicted')
    .option('--region <x,y,w,h>', 'only patches inside this rectangle of the model-input image')
    .option('--region-in <pixels>', "the region's pixels: model (after resizing) or image (the source image's)", 'model')
    .option('--quality <q>', 'SSIM target in (0, 1]: the planner tunes an approximate plan to reach it')
    .option('--strategy <s>', 'auto (the planner chooses), naive, incremental (default: incremental, auto with --quality)')
    .option('--threshold <t>', 'a fixed propagation threshold τ in (0, 1] (incremental)')
    .option('--drilldown <stride,fraction>', 'a fixed drill-down: coarse stride (a multiple of --stride) and fraction, e.g. 12,0.25')
    .option('--retune', 'tune again even if the database has a configuration for this question')
    .option('--mode <mode>', 'naive or exact (incremental); the same as --strategy naive|incremental')
    .option('--db <file>', 'database that keeps the result, the tuned configuration and the machine calibration', ':memory:')
    .option('--batch <N>', 'positions per inference call (default: chosen from memory)')
    .option('--labels <file>', 'class names, one per line')
    .option('--output <kind>', 'what the output holds: logits (softmax), probabilities or sigmoid (default: read from the graph; sigmoid for one output)')
    .option('--output-name <name>', 'the graph output holding the class scores (default: the first)')
    .option('--json <file>', 'write the heatmap as JSON')
    .option('--png <file>', 'write the image with the heatmap overlaid')
    .option('--png-scale <scale>', "the overlay's colours: absolute (the drop, 0 to 1) or image (its lowest to highest drop)", 'absolute')
    .option('--quiet', 'no progress bar');
  addModelInputOptions(command).action(async (options: HeatmapOptions) => {
    // The engine loads when the command runs, not for --help or a usage error.
    const { runHeatmap } = await import('./run-heatmap.js');
    await runHeatmap(options);
  });
}
