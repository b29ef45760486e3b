import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isKryptonError, messageOf } from '../errors.js';
import type { ExplainResult, HeatmapSoFar, Krypton, OcclusionProgress, StatementResult } from '../krypton.js';
import type { OccludeOptions } from '../occlude-options.js';
import { jsonRows } from './json-values.js';

/** What the page shows before a run: the plan as EXPLAIN prints it, the chosen strategy and the estimate. */
export interface PlanSummary {
  readonly plan: string;
  /** The chosen candidate's line, e.g. "incremental  est 0.41 s/image  <- chosen". */
  readonly chosen: string;
  /** The whole query's estimate as EXPLAIN's physical plan gives it, e.g. "1.2 s". */
  readonly estimate: string;
}

export function planSummary(explained: ExplainResult): PlanSummary {
  const lines = explained.rows.map((r) => ({ section: String(r.section), line: String(r.line) }));
  const chosen = lines.find((l) => l.section === 'candidates' && l.line.includes('<- chosen'))?.line.replace(/\s+<- chosen$/, '').replace(/\s{2,}/g, ' ').trim() ?? '';
  const estimate = /est total=(\S+(?: s| ms| min| h)?)/.exec(lines.find((l) => l.section === 'physical plan')?.line ?? '')?.[1] ?? '';
  return { plan: explained.plan, chosen, estimate };
}

/** Least time between two partial heatmaps of one image sent to the page: the engine reports after every batch. */
const HEATMAP_INTERVAL_MS = 150;

/**
 * Runs in progress, each cancellable by its id. A run streams newline-delimited JSON events:
 * `started` (id and plan), `progress`, `heatmap` (the image's values so far, null where not yet
 * computed), then one of `done` (the statement's rows), `cancelled` or `error`. Cancelling stops
 * the run between batches; images finished before stay stored, as the engine keeps them.
 */
export class OccludeRuns {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly db: Krypton) {}

  cancel(id: string): boolean {
    const controller = this.running.get(id);
    controller?.abort();
    return controller !== undefined;
  }

  /** Aborts every run (the server is closing); each stops after its batch. */
  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  async stream(response: ServerResponse, options: OccludeOptions, plan: PlanSummary, batchSize: number | undefined): Promise<void> {
    const id = randomUUID();
    const controller = new AbortController();
    this.running.set(id, controller);
    // A page that goes away takes its run with it; what finished stays stored.
    response.on('close', () => controller.abort());
    response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    const send = (event: Record<string, unknown>) => {
      if (!response.writableEnded && !response.destroyed) response.write(`${JSON.stringify(event)}\n`);
    };
    send({ type: 'started', runId: id, ...plan });
    let lastImage = '';
    let lastStage = '';
    let lastSent = 0;
    const onProgress = (progress: OcclusionProgress) => {
      const { heatmap, ...counts } = progress;
      send({ type: 'progress', ...counts });
      if (!heatmap) return;
      const now = performance.now();
      const complete = progress.positionsDone >= progress.positions;
      const fresh = progress.imagePath !== lastImage || heatmap.stage !== lastStage;
      if (!fresh && !complete && now - lastSent < HEATMAP_INTERVAL_MS) return;
      lastImage = progress.imagePath;
      lastStage = heatmap.stage;
      lastSent = now;
      send({
        type: 'heatmap', imagePath: progress.imagePath, ...geometryOf(heatmap),
        values: Array.from(heatmap.values, (v) => (Number.isNaN(v) ? null : Math.round(v * 1e6) / 1e6)),
      });
    };
    try {
      const result: StatementResult = await this.db.occlude(options, { signal: controller.signal, onProgress, keepGoing: true, batchSize });
      send({ type: 'done', message: result.message, rows: jsonRows(result.rows), failures: result.failures ?? [] });
    } catch (error) {
      if (isKryptonError(error) && error.code === 'interrupted') send({ type: 'cancelled', message: error.message });
      else send({ type: 'error', error: isKryptonError(error) ? error.message : `internal error: ${messageOf(error)}` });
    } finally {
      this.running.delete(id);
      response.end();
    }
  }
}

/** Everything of a partial heatmap but its values, which go as JSON numbers (null where not yet computed). */
function geometryOf({ values: _values, ...rest }: HeatmapSoFar): Omit<HeatmapSoFar, 'values'> {
  return rest;
}
