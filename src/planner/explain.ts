import { compact, formatTable } from '../format/text-table.js';
import { cellCount } from '../model/occlusion-grid.js';
import { formatPatchColor } from '../image/patch-color.js';
import type { OcclusionRun } from '../executor/execute-occlude.js';
import { imageLabel } from '../executor/image-source.js';
import { describeSpec } from './candidates/index.js';
import { cellSpecOf, thresholdOf } from '../operators/create-operator.js';
import type { PhysicalOcclude } from './plan-occlude.js';
import { childOf, formatSeconds as seconds, NODE_NAMES, paramsOf, type PhysicalNode } from './physical-plan.js';

/** EXPLAIN output: one row per line, each tagged with the part of the plan it describes. */
export interface ExplainLine {
  readonly section: 'logical plan' | 'physical plan' | 'candidates' | 'tuning' | 'layers' | 'notes' | 'analyze';
  readonly line: string;
}

/** EXPLAIN as the CLI and the library print it: each section a heading, its lines indented under it. */
export function explainText(lines: readonly { readonly section?: unknown; readonly line?: unknown }[]): string {
  const text: string[] = [];
  let section: unknown;
  for (const { section: lineSection, line } of lines) {
    if (lineSection !== section) {
      section = lineSection;
      if (text.length > 0) text.push('');
      text.push(`${String(section)}:`);
    }
    text.push(`  ${String(line)}`);
  }
  return text.join('\n');
}

function params(entries: Record<string, string | number | undefined>): string {
  return Object.entries(entries).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${v}`).join(' ');
}

/** The physical plan drawn from its nodes' own parameters, root first, children indented. */
export function renderPhysicalPlan(root: PhysicalNode): string[] {
  const lines: string[] = [];
  for (let node: PhysicalNode | undefined = root, depth = 0; node; node = childOf(node), depth++) {
    lines.push(`${'  '.repeat(depth)}${NODE_NAMES[node.kind]} ${paramsOf(node).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return lines;
}

const ssimText = (ssim: { min: number; median: number }) => `SSIM min ${ssim.min.toFixed(3)} median ${ssim.median.toFixed(3)}`;

export function explainOcclude(plan: PhysicalOcclude, analyzed?: OcclusionRun): ExplainLine[] {
  const { logical, cost, ideal, tuning, chosen } = plan;
  const { grid, model } = logical;
  const positions = cellCount(grid);
  const lines: ExplainLine[] = [];
  const add = (section: ExplainLine['section'], line: string) => lines.push({ section, line });
  const target = logical.target === 'predicted' ? 'predicted' : `${logical.target}${model.labels ? ` (${model.labels[logical.target]})` : ''}`;
  const asked = logical.statement.region;
  const region = logical.region && `(${grid.originX}, ${grid.originY}, ${logical.region.width}, ${logical.region.height})${
    asked?.unit === 'image' ? `<-image(${asked.x}, ${asked.y}, ${asked.width}, ${asked.height})` : ''}`;

  // Logical: what is asked, bottom-up like a relational plan.
  add('logical plan', `Insert ${params({ table: logical.tableName, query_id: plan.queryId })}`);
  let depth = 1;
  if (logical.renderDir) add('logical plan', `${'  '.repeat(depth++)}Render ${params({ dir: logical.renderDir })}`);
  add('logical plan', `${'  '.repeat(depth++)}Occlude ${params({
    model: model.name, class: target, patch: `${grid.patchWidth}x${grid.patchHeight}`, stride: `${grid.strideX}x${grid.strideY}`,
    color: formatPatchColor(logical.color), region, quality: logical.quality ? `ssim>=${logical.quality.target}` : 'exact',
    positions: `${grid.columns}x${grid.rows}=${positions}`,
  })}`);
  add('logical plan', `${'  '.repeat(depth)}ImageScan ${params({ source: sourceText(plan), images: logical.images.length })}`);

  // Physical: how, with estimates; the estimate covers the whole query too.
  const physical = renderPhysicalPlan(plan.root);
  physical[0] += ` est total=${seconds(chosen.secondsPerImage * logical.images.length)}`;
  for (const line of physical) add('physical plan', line);

  for (const row of plan.candidates) {
    const name = row.name.padEnd(12);
    if (!row.estimate) {
      add('candidates', `${name} not considered: ${row.unavailable}`);
      continue;
    }
    const mark = row.estimate === chosen ? '  <- chosen' : '';
    const detail = row.estimate.label !== row.name ? ` (${row.estimate.label}${row.estimate.ssim ? `, ${ssimText(row.estimate.ssim)}` : ''})` : row.estimate.ssim && row.estimate.ssim.min < 1 ? ` (${ssimText(row.estimate.ssim)})` : '';
    add('candidates', `${name} est ${seconds(row.estimate.secondsPerImage)}/image${detail}${mark}`);
    if (row.estimate === chosen) {
      if (chosen.basis === 'measured at tuning') add('candidates', `    measured at tuning; the cost model's parts:`);
      for (const part of chosen.parts) add('candidates', `    ${part.label}: ${seconds(part.seconds)}`);
    }
  }
  add('candidates', `why: ${plan.reason}`);

  if (tuning) explainTuning(plan, add);

  const plannedByNode = new Map(cost.layers.map((l) => [l.node, l]));
  const runsIncrementally = plan.occlusion.kind === 'IncrementalOcclusion' || (plan.occlusion.kind === 'Drilldown' && plan.occlusion.child.kind === 'IncrementalOcclusion');
  const rows = ideal.layers.filter((l) => l.kind !== 'pointwise').map((layer) => {
    const run = plannedByNode.get(layer.node)!;
    return [
      layer.node.name, layer.node.opType, layer.outputShape.slice(1).join('x'),
      layer.changed ? `${layer.changed.height}x${layer.changed.width}` : 'full',
      run.changed ? `${run.changed.height}x${run.changed.width}` : 'full',
      layer.fullMacs ? compact(layer.fullMacs) : '', layer.fullMacs ? compact(run.incrementalMacs) : '',
      runsIncrementally && run.changed ? 'incremental' : 'full',
    ];
  });
  const threshold = thresholdOf(plan.spec);
  for (const line of formatTable(['layer', 'op', 'output', 'changed', `planned (τ=${threshold})`, 'full MACs', 'planned MACs', 'runs'], rows).split('\n')) add('layers', line);
  add('layers', `patch at the centre; redundancy ratio R = ${ideal.redundancyRatio.toFixed(2)} (conv multiply-adds, ideal exact speedup)`);

  for (const note of plan.notes) add('notes', note);

  if (analyzed) explainAnalyzed(plan, analyzed, add);
  return lines;
}

function explainTuning(plan: PhysicalOcclude, add: (section: ExplainLine['section'], line: string) => void): void {
  const tuning = plan.tuning!;
  const { grid } = plan.logical;
  const when = tuning.cached ? `reused from the catalog (tuned ${tuning.tunedAt} in ${seconds(tuning.tuningSeconds)})` : `tuned now in ${seconds(tuning.tuningSeconds)}`;
  add('tuning', `target SSIM >= ${tuning.target} on every one of ${tuning.samples.length} sample image${tuning.samples.length === 1 ? '' : 's'}; ${when}; key ${tuning.key}`);
  const spec = tuning.spec;
  const inner = cellSpecOf(spec);
  const knobs = [
    `τ=${inner.kind === 'incremental' ? inner.threshold : 'n/a (naive)'}`,
    spec.kind === 'drilldown' ? `S1=${grid.strideX * spec.shape.factorX}x${grid.strideY * spec.shape.factorY}` : 'S1=none',
    spec.kind === 'drilldown' ? `r=${spec.shape.fraction}` : 'r=none',
  ];
  add('tuning', `chosen: ${describeSpec(spec, grid)} (${knobs.join(', ')}), ${ssimText({ min: tuning.ssimMin, median: tuning.ssimMedian })} at tuning`);
  const naive = plan.candidates.find((c) => c.name === 'naive')?.estimate;
  const speedups = [
    naive ? `${(naive.secondsPerImage / tuning.secondsPerImage).toFixed(1)}x vs naive (${naive.basis === 'measured at tuning' ? 'measured' : 'cost model'})` : undefined,
    `${(tuning.exactSecondsPerImage / tuning.secondsPerImage).toFixed(1)}x vs exact incremental (measured)`,
  ].filter(Boolean);
  add('tuning', `estimated speedup: ${speedups.join(', ')}; ${seconds(tuning.secondsPerImage)}/image measured at tuning`);
  for (const sample of tuning.samples) add('tuning', `  sample ${imageLabel(sample)}: SSIM ${sample.ssim.toFixed(4)}`);
  const shown = tuning.trials.filter((t) => t.spec.kind !== 'drilldown' || t.how === 'measured' || t.verdict === 'chosen');
  const simulated = tuning.trials.filter((t) => !shown.includes(t));
  const bestSimulated = [...simulated].sort((a, b) => b.ssimMin - a.ssimMin).slice(0, 3);
  const score = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : '—');
  const rows = [...shown, ...bestSimulated].map((t) => [t.label, `${t.verdict === 'slower than exact' ? '> ' : ''}${seconds(t.secondsPerImage)}`, score(t.ssimMin), score(t.ssimMedian), t.samplesTried ? `${t.how} on ${t.samplesTried}` : t.how, t.verdict]);
  for (const line of formatTable(['configuration', 'est/image', 'SSIM min', 'median', 'how', 'verdict'], rows).split('\n')) add('tuning', `  ${line}`);
  if (simulated.length > bestSimulated.length) {
    const meeting = simulated.filter((t) => t.ssimMin >= tuning.target).length;
    add('tuning', `  … and ${simulated.length - bestSimulated.length} more drill-down configurations scored by simulation (${meeting} of all ${simulated.length} met the target)`);
  }
}

function explainAnalyzed(plan: PhysicalOcclude, analyzed: OcclusionRun, add: (section: ExplainLine['section'], line: string) => void): void {
  const { chosen } = plan;
  const done = analyzed.outcomes.filter((o) => o.status === 'done');
  const failed = analyzed.outcomes.filter((o) => o.status === 'failed');
  const skipped = analyzed.outcomes.length - done.length - failed.length;
  const perImage = done.length ? done.reduce((s, o) => s + (o.elapsedMs ?? 0), 0) / done.length / 1000 : NaN;
  add('analyze', `images: ${done.length} computed, ${skipped} already done, ${failed.length} failed; total ${seconds(analyzed.elapsedMs / 1000)}`);
  if (done.length) {
    add('analyze', `measured ${seconds(perImage)}/image vs estimated ${seconds(chosen.secondsPerImage)}/image (${(perImage / chosen.secondsPerImage).toFixed(2)}x the estimate)`);
    const naive = plan.candidates.find((c) => c.name === 'naive')?.estimate;
    if (naive && plan.strategy !== 'naive') add('analyze', `speedup ${(naive.secondsPerImage / perImage).toFixed(1)}x vs naive's estimate of ${seconds(naive.secondsPerImage)}/image`);
    const measured = done.filter((o) => o.ssim !== undefined && o.ssim !== null).map((o) => o.ssim as number).sort((a, b) => a - b);
    if (measured.length) {
      const target = plan.logical.quality?.target;
      const below = target === undefined ? 0 : measured.filter((v) => v < target).length;
      add('analyze', `SSIM measured on ${measured.length} image${measured.length === 1 ? '' : 's'}: min ${measured[0].toFixed(3)}, median ${measured[Math.floor(measured.length / 2)].toFixed(3)}${target === undefined ? '' : `, ${below} below the target ${target}`}`);
    }
  }
  for (const outcome of analyzed.outcomes) {
    const ssim = outcome.ssim !== undefined && outcome.ssim !== null ? `, SSIM ${outcome.ssim.toFixed(4)}` : '';
    add('analyze', `  ${outcome.imageId}: ${outcome.status}${outcome.elapsedMs !== undefined ? ` in ${seconds(outcome.elapsedMs / 1000)}` : ''}${ssim}${outcome.error ? ` (${outcome.error})` : ''}`);
  }
}

function sourceText(plan: PhysicalOcclude): string {
  const source = plan.logical.statement.source;
  if (source.kind === 'glob') return `'${source.pattern}'`;
  if (source.kind === 'list') return `list of ${source.paths.length}`;
  const sql = source.sql.replace(/\s+/g, ' ');
  return `(${sql.length > 60 ? `${sql.slice(0, 57)}...` : sql})`;
}
