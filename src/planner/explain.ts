import { compact, formatTable } from '../format/text-table.js';
import { cellCount } from '../model/occlusion-grid.js';
import { formatPatchColor } from '../image/patch-color.js';
import type { OcclusionRun } from '../executor/execute-occlude.js';
import type { PhysicalOcclude } from './plan-occlude.js';

/** EXPLAIN output: one row per line, each tagged with the part of the plan it describes. */
export interface ExplainLine {
  readonly section: 'logical plan' | 'physical plan' | 'candidates' | 'layers' | 'notes' | 'analyze';
  readonly line: string;
}

function seconds(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} s` : value >= 1 ? `${value.toFixed(2)} s` : `${(value * 1000).toFixed(1)} ms`;
}

function params(entries: Record<string, string | number | undefined>): string {
  return Object.entries(entries).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${v}`).join(' ');
}

export function explainOcclude(plan: PhysicalOcclude, analyzed?: OcclusionRun): ExplainLine[] {
  const { logical, cost, ideal } = plan;
  const { grid, model } = logical;
  const positions = cellCount(grid);
  const chosen = plan.candidates.find((c) => c.strategy === plan.strategy)!;
  const lines: ExplainLine[] = [];
  const add = (section: ExplainLine['section'], line: string) => lines.push({ section, line });
  const target = logical.target === 'predicted' ? 'predicted' : `${logical.target}${model.labels ? ` (${model.labels[logical.target]})` : ''}`;
  const region = logical.statement.region ? `(${grid.originX}, ${grid.originY}, ${logical.statement.region.width}, ${logical.statement.region.height})` : undefined;

  // Logical: what is asked, bottom-up like a relational plan.
  add('logical plan', `Insert ${params({ table: logical.tableName, query_id: logical.queryId })}`);
  let depth = 1;
  if (logical.renderDir) add('logical plan', `${'  '.repeat(depth++)}Render ${params({ dir: logical.renderDir })}`);
  add('logical plan', `${'  '.repeat(depth++)}Occlude ${params({
    model: model.name, class: target, patch: `${grid.patchWidth}x${grid.patchHeight}`, stride: `${grid.strideX}x${grid.strideY}`,
    color: formatPatchColor(logical.color), region, quality: logical.quality ? `ssim>=${logical.quality.target}` : 'exact',
    positions: `${grid.columns}x${grid.rows}=${positions}`,
  })}`);
  add('logical plan', `${'  '.repeat(depth)}ImageScan ${params({ source: sourceText(plan), images: logical.images.length })}`);

  // Physical: how, with estimates.
  const { spec } = model;
  add('physical plan', `InsertExec ${params({ table: logical.tableName, commit: 'per image', skip: 'images already done' })}`);
  depth = 1;
  if (logical.renderDir) add('physical plan', `${'  '.repeat(depth++)}RenderExec ${params({ dir: logical.renderDir, file: '<image_id>.png' })}`);
  add('physical plan', `${'  '.repeat(depth++)}${plan.strategy === 'naive' ? 'NaiveOcclusionExec' : 'IncrementalOcclusionExec'} ${params({
    strategy: plan.strategy,
    segments: plan.strategy === 'incremental' ? cost.segments : undefined,
    'layers in full': plan.strategy === 'incremental' ? cost.layers.filter((l) => !l.changed).length : undefined,
    batch: 'auto',
    'est/image': seconds(chosen.secondsPerImage),
    'est total': seconds(chosen.secondsPerImage * logical.images.length),
  })}`);
  add('physical plan', `${'  '.repeat(depth)}ImageScanExec ${params({
    images: logical.images.length, decode: 'sharp', resize: `${spec.width}x${spec.height} ${spec.resize}`, channels: spec.channels,
    scale: spec.scale === 255 ? '0-255' : '0-1', mean: spec.mean.map((v) => +v.toFixed(3)).join(','), std: spec.std.map((v) => +v.toFixed(3)).join(','),
  })}`);

  for (const candidate of plan.candidates) {
    const mark = candidate.strategy === plan.strategy ? '  <- chosen' : '';
    add('candidates', `${candidate.strategy.padEnd(12)} est ${seconds(candidate.secondsPerImage)}/image${mark}`);
    for (const part of candidate.parts) add('candidates', `    ${part.label}: ${seconds(part.seconds)}`);
  }
  add('candidates', `why: ${plan.reason}`);

  const plannedByNode = new Map(cost.layers.map((l) => [l.node, l]));
  const rows = ideal.layers.filter((l) => l.kind !== 'pointwise').map((layer) => {
    const run = plannedByNode.get(layer.node)!;
    return [
      layer.node.name, layer.node.opType, layer.outputShape.slice(1).join('x'),
      layer.changed ? `${layer.changed.height}x${layer.changed.width}` : 'full',
      layer.fullMacs ? compact(layer.fullMacs) : '', layer.fullMacs ? compact(run.incrementalMacs) : '',
      plan.strategy === 'naive' ? 'full' : run.changed ? 'incremental' : 'full',
    ];
  });
  for (const line of formatTable(['layer', 'op', 'output', 'changed', 'full MACs', 'planned MACs', 'runs'], rows).split('\n')) add('layers', line);
  add('layers', `patch at the centre; redundancy ratio R = ${ideal.redundancyRatio.toFixed(2)} (conv multiply-adds, ideal exact speedup)`);

  for (const note of plan.notes) add('notes', note);

  if (analyzed) {
    const done = analyzed.outcomes.filter((o) => o.status === 'done');
    const failed = analyzed.outcomes.filter((o) => o.status === 'failed');
    const skipped = analyzed.outcomes.length - done.length - failed.length;
    const perImage = done.length ? done.reduce((s, o) => s + (o.elapsedMs ?? 0), 0) / done.length / 1000 : NaN;
    add('analyze', `images: ${done.length} computed, ${skipped} already done, ${failed.length} failed; total ${seconds(analyzed.elapsedMs / 1000)}`);
    if (done.length) add('analyze', `measured ${seconds(perImage)}/image vs estimated ${seconds(chosen.secondsPerImage)}/image (${(perImage / chosen.secondsPerImage).toFixed(2)}x the estimate)`);
    for (const outcome of analyzed.outcomes) {
      add('analyze', `  ${outcome.imageId}: ${outcome.status}${outcome.elapsedMs !== undefined ? ` in ${seconds(outcome.elapsedMs / 1000)}` : ''}${outcome.error ? ` (${outcome.error})` : ''}`);
    }
  }
  return lines;
}

function sourceText(plan: PhysicalOcclude): string {
  const source = plan.logical.statement.source;
  if (source.kind === 'glob') return `'${source.pattern}'`;
  if (source.kind === 'list') return `list of ${source.paths.length}`;
  const sql = source.sql.replace(/\s+/g, ' ');
  return `(${sql.length > 60 ? `${sql.slice(0, 57)}...` : sql})`;
}
