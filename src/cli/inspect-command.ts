import type { Command } from 'commander';
import type { CostReport } from '../model/cost-model.js';
import { size } from './args.js';
import { compact, formatTable } from '../format/text-table.js';

export function inspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('per-layer changed regions and multiply-adds of incremental inference, and the redundancy ratio')
    .requiredOption('--model <file.onnx>', 'ONNX image classifier')
    .requiredOption('--patch <N|WxH>', 'patch size in model-input pixels')
    .option('--input <N|WxH>', "model input size, when the model's own is not fixed")
    .action(async (options: { model: string; patch: string; input?: string }) => {
      // The model code loads when the command runs, not for --help or a usage error.
      const [{ costModel }, { DEFAULT_FULL_FRACTION }, { loadModel }] = await Promise.all([
        import('../model/cost-model.js'), import('../model/incremental-plan.js'), import('../model/load-model.js'),
      ]);
      const model = await loadModel(options.model, { inputSize: options.input ? size('--input', options.input) : undefined });
      const patch = size('--patch', options.patch);
      const ideal = costModel(model.graph, patch);
      const planned = costModel(model.graph, patch, { fullFraction: DEFAULT_FULL_FRACTION });
      process.stdout.write(formatInspection(options.model, model.input, ideal, planned, DEFAULT_FULL_FRACTION) + '\n');
    });
}

/** `fullFraction`: the share of changed positions from which the plan runs a layer in full. */
export function formatInspection(path: string, input: { channels: number; height: number; width: number }, ideal: CostReport, planned: CostReport, fullFraction: number): string {
  const plannedByNode = new Map(planned.layers.map((l) => [l.node, l]));
  const rows = ideal.layers.map((layer) => {
    const shape = layer.outputShape.slice(1).join('x');
    const run = plannedByNode.get(layer.node)!;
    return [
      layer.node.name,
      layer.node.opType,
      layer.kind,
      shape,
      layer.changed ? `${layer.changed.height}x${layer.changed.width}` : 'full',
      layer.fullMacs ? compact(layer.fullMacs) : '',
      layer.fullMacs ? compact(layer.incrementalMacs) : '',
      run.changed ? 'incremental' : 'full',
    ];
  });
  const table = formatTable(['layer', 'op', 'kind', 'output', 'changed', 'full MACs', 'incr. MACs', 'runs'], rows);
  const patch = `${ideal.patch.width}x${ideal.patch.height}`;
  return [
    `${path}: input ${input.channels}x${input.height}x${input.width}, patch ${patch} at the centre`,
    '',
    table,
    '',
    `conv multiply-adds: full ${compact(ideal.convFullMacs)}, incremental ${compact(ideal.convIncrementalMacs)}`,
    `redundancy ratio R = ${ideal.redundancyRatio.toFixed(2)} (ideal exact speedup, conv multiply-adds)`,
    `as planned (layers at ≥ ${Math.round(fullFraction * 100)}% changed run in full): all multiply-adds ${compact(planned.totalFullMacs)} → ${compact(planned.totalIncrementalMacs)}, ratio ${(planned.totalFullMacs / planned.totalIncrementalMacs).toFixed(2)}`,
  ].join('\n');
}
