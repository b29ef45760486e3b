import * as arrow from 'apache-arrow';
import { KryptonError } from './errors.js';
import { executeOcclude, type OcclusionProgress, type OcclusionRun } from './executor/execute-occlude.js';
import type { ExplainStatement, OccludeStatement, Statement } from './parser/ast.js';
import type { InputSpec, ResizePolicy } from './image/input-spec.js';
import { parseScript } from './parser/index.js';
import { bindModel, defineModel, ModelCache } from './planner/bind-model.js';
import { explainOcclude } from './planner/explain.js';
import { planOcclude, type PhysicalOcclude, type PlanningContext } from './planner/plan-occlude.js';
import { describeSpec } from './planner/candidates/index.js';
import type { Throughput } from './planner/calibration.js';
import { openStore, rowsToArrow, type Store } from './store/index.js';
import { occludeStatement, type OccludeOptions } from './occlude-options.js';

export type { OcclusionProgress } from './executor/execute-occlude.js';
export type { Throughput } from './planner/calibration.js';

/** The result of one statement: rows (plain JS and Arrow) and, for Krypton's own statements, a message. */
export interface StatementResult {
  readonly kind: Statement['kind'];
  /** The statement as written. */
  readonly text: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
  readonly arrow: arrow.Table;
  /** e.g. "model cxr created", "occluded 12 images into heatmaps in 8.1 s". */
  readonly message?: string;
}

export interface OpenOptions {
  /**
   * The machine's rates for the planner's estimates. Measured once per machine and kept in the
   * database when absent; given, they make plans reproducible (tests, comparing machines).
   */
  readonly throughput?: Throughput;
}

export interface ExecuteOptions {
  /** Called as an OCCLUDE statement advances. */
  readonly onProgress?: (progress: OcclusionProgress) => void;
  /** Stops a running OCCLUDE between batches; images already finished stay stored. */
  readonly signal?: AbortSignal;
  /** Positions per inference call; the operators choose from memory when absent. */
  readonly batchSize?: number;
}

/** Raised for a script with syntax errors: every problem, each with line and column. */
export class SyntaxErrors extends KryptonError {
  constructor(readonly problems: readonly string[]) {
    super('', 'syntax');
    // One problem per line, each of them one line.
    this.message = problems.join('\n');
  }
}

const OCCLUDE_COLUMNS = [
  { name: 'image_id', type: 'VARCHAR' },
  { name: 'image_path', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'class_index', type: 'INTEGER' },
  { name: 'class_label', type: 'VARCHAR' },
  { name: 'base_probability', type: 'DOUBLE' },
  { name: 'max_drop', type: 'DOUBLE' },
  { name: 'max_drop_x', type: 'INTEGER' },
  { name: 'max_drop_y', type: 'INTEGER' },
  { name: 'elapsed_ms', type: 'DOUBLE' },
  { name: 'ssim', type: 'DOUBLE' },
  { name: 'batch_size', type: 'INTEGER' },
  { name: 'overlay', type: 'VARCHAR' },
  { name: 'error', type: 'VARCHAR' },
  { name: 'query_id', type: 'VARCHAR' },
] as const;

const EXPLAIN_COLUMNS = [{ name: 'section', type: 'VARCHAR' }, { name: 'line', type: 'VARCHAR' }] as const;

const ARROW_TYPES: Record<string, () => arrow.DataType> = {
  VARCHAR: () => new arrow.Utf8(),
  INTEGER: () => new arrow.Int32(),
  DOUBLE: () => new arrow.Float64(),
};

/** A result of Krypton's own, whose few column types map directly to Arrow. */
function result(statement: Statement, columns: readonly { name: string; type: string }[], rows: Record<string, unknown>[], message?: string): StatementResult {
  let table: arrow.Table | undefined;
  return {
    kind: statement.kind,
    text: statement.text,
    columns,
    rows,
    get arrow() {
      table ??= rowsToArrow(rows, columns.map((c) => ({ name: c.name, type: ARROW_TYPES[c.type]() })));
      return table;
    },
    message,
  };
}

/**
 * A Krypton database: DuckDB holding the model catalog and the results, plus the occlusion engine.
 * Every interface (REPL, CLI, library) goes through `execute`.
 */
export class Krypton {
  private readonly models = new ModelCache();

  private constructor(private readonly store: Store, private readonly options: OpenOptions) {}

  static async open(path = 'krypton.duckdb', options: OpenOptions = {}): Promise<Krypton> {
    return new Krypton(await openStore(path), options);
  }

  get path(): string {
    return this.store.path;
  }

  /**
   * Runs a script of statements in order and returns one result per statement. A script with any
   * syntax error runs nothing; otherwise the first failing statement stops it (earlier statements
   * and every image an OCCLUDE finished stay done).
   */
  async execute(script: string, options: ExecuteOptions = {}): Promise<StatementResult[]> {
    const { statements, errors } = parseScript(script);
    if (errors.length > 0) throw new SyntaxErrors(errors.map((e) => e.message));
    const results: StatementResult[] = [];
    for (const statement of statements) results.push(await this.runStatement(statement, options));
    return results;
  }

  /** Like `execute`, for the last statement's result. */
  async query(script: string, options: ExecuteOptions = {}): Promise<StatementResult> {
    const results = await this.execute(script, options);
    if (results.length === 0) throw new KryptonError('nothing to run: the script has no statements');
    return results[results.length - 1];
  }

  /** OCCLUDE from typed options; the result is the statement's (one row per image). */
  async occlude(options: OccludeOptions, execute: ExecuteOptions = {}): Promise<StatementResult> {
    return this.query(occludeStatement(options), execute);
  }

  /** EXPLAIN (or, with analyze, EXPLAIN ANALYZE) of the occlusion the options describe. */
  async explain(options: OccludeOptions, { analyze = false, ...execute }: ExecuteOptions & { analyze?: boolean } = {}): Promise<StatementResult> {
    return this.query(`EXPLAIN ${analyze ? 'ANALYZE ' : ''}${occludeStatement(options)}`, execute);
  }

  /**
   * A model for this session only, from a CREATE MODEL statement: not written to the catalog, and
   * shadowing a catalog model of the same name. `resize` says how images are fitted to its input
   * (the language's models stretch them). The CLI's heatmap command runs through it.
   */
  async defineSessionModel(createModel: string, options: { resize?: ResizePolicy } = {}): Promise<void> {
    const { statements, errors } = parseScript(createModel);
    if (errors.length > 0) throw new SyntaxErrors(errors.map((e) => e.message));
    const [statement] = statements;
    if (statements.length !== 1 || statement.kind !== 'CreateModel') throw new KryptonError('defineSessionModel takes one CREATE MODEL statement');
    this.models.defineSessionModel({ ...(await defineModel(statement, this.models)), resize: options.resize });
  }

  /** How images are prepared for a model (session or catalog): size, channels, normalisation, resize. */
  async inputSpecOf(name: string): Promise<InputSpec> {
    return (await bindModel({ kind: 'name', name }, this.store, this.models)).spec;
  }

  async listModels(): Promise<string[]> {
    return (await this.store.listModels()).map((m) => m.name);
  }

  async listTables(): Promise<string[]> {
    const { rows } = await this.store.query("SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY table_name");
    return rows.map((r) => String(r.table_name));
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private planning(options: ExecuteOptions = {}): PlanningContext {
    const onTuning = options.onProgress && ((step: string) => options.onProgress!({ imagesDone: 0, images: 0, imagePath: '', positionsDone: 0, positions: 0, tuning: step }));
    return { store: this.store, models: this.models, throughput: this.options.throughput, onTuning, signal: options.signal };
  }

  /** One statement already parsed (by `parseScript`), for callers that step through a script themselves. */
  async runStatement(statement: Statement, options: ExecuteOptions = {}): Promise<StatementResult> {
    switch (statement.kind) {
      case 'Sql': {
        const answer = await this.store.query(statement.text);
        return {
          kind: 'Sql',
          text: statement.text,
          columns: answer.columns,
          rows: answer.rows,
          get arrow() { return answer.arrow; },
          message: answer.columns.length === 0 ? 'ok' : undefined,
        };
      }
      case 'CreateModel': {
        const definition = await defineModel(statement, this.models);
        await this.store.putModel(definition, { orReplace: statement.orReplace });
        return result(statement, [], [], `model ${statement.name} ${statement.orReplace ? 'created or replaced' : 'created'} (${definition.inputWidth}x${definition.inputHeight}, ${definition.channels}, ${definition.outputKind})`);
      }
      case 'DropModel': {
        const dropped = await this.store.dropModel(statement.name, { ifExists: statement.ifExists });
        return result(statement, [], [], dropped ? `model ${statement.name} dropped` : `model ${statement.name} does not exist`);
      }
      case 'Occlude':
        return this.runOcclude(statement, options);
      case 'Explain':
        return this.runExplain(statement, options);
    }
  }

  private async runOcclude(statement: OccludeStatement, options: ExecuteOptions): Promise<StatementResult> {
    const plan = await planOcclude(statement, this.planning(options));
    const run = await executeOcclude(plan, this.store, options);
    return result(statement, OCCLUDE_COLUMNS, outcomeRows(run, plan.queryId), occludeMessage(run, plan));
  }

  private async runExplain(statement: ExplainStatement, options: ExecuteOptions): Promise<StatementResult> {
    const plan = await planOcclude(statement.occlude, this.planning(options));
    const run = statement.analyze ? await executeOcclude(plan, this.store, options) : undefined;
    return result(statement, EXPLAIN_COLUMNS, explainOcclude(plan, run).map((l) => ({ ...l })));
  }
}

function outcomeRows(run: OcclusionRun, queryId: string): Record<string, unknown>[] {
  return run.outcomes.map((o) => ({
    image_id: o.imageId,
    image_path: o.imagePath,
    status: o.status,
    class_index: o.classIndex ?? null,
    class_label: o.classLabel ?? null,
    base_probability: o.baseProbability ?? null,
    max_drop: o.maxDrop ?? null,
    max_drop_x: o.maxDropX ?? null,
    max_drop_y: o.maxDropY ?? null,
    elapsed_ms: o.elapsedMs ?? null,
    ssim: o.ssim ?? null,
    batch_size: o.batchSize ?? null,
    overlay: o.overlay ?? null,
    error: o.error ?? null,
    query_id: queryId,
  }));
}

function occludeMessage(run: OcclusionRun, plan: PhysicalOcclude): string {
  const table = plan.logical.tableName;
  const count = (status: string) => run.outcomes.filter((o) => o.status === status).length;
  const parts = [`occluded ${count('done')} image${count('done') === 1 ? '' : 's'} into ${table} (${describeSpec(plan.spec, plan.logical.grid)}) in ${(run.elapsedMs / 1000).toFixed(1)} s`];
  const { tuning } = plan;
  if (tuning) {
    parts.push(tuning.cached
      ? `tuning reused (${tuning.fellBack ? tuning.note : `SSIM min ${tuning.ssimMin.toFixed(3)} on its ${tuning.samples.length} sample images`})`
      : `tuned on ${tuning.samples.length} image${tuning.samples.length === 1 ? '' : 's'} in ${tuning.tuningSeconds.toFixed(1)} s: ${tuning.note}`);
  }
  const target = plan.logical.quality?.target;
  const measured = run.outcomes.filter((o) => o.ssim !== undefined && o.status === 'done').map((o) => o.ssim as number).sort((a, b) => a - b);
  if (measured.length && plan.verifyImages.size) {
    const below = target === undefined ? [] : measured.filter((v) => v < target);
    parts.push(`SSIM measured on ${measured.length}: min ${measured[0].toFixed(3)}, median ${measured[Math.floor(measured.length / 2)].toFixed(3)}${below.length ? `; ${below.length} BELOW the target ${target}` : ''}`);
  }
  if (count('already done')) parts.push(`${count('already done')} already done`);
  if (count('failed')) parts.push(`${count('failed')} failed: ${run.outcomes.filter((o) => o.status === 'failed').map((o) => `${o.imageId} (${o.error})`).join('; ')}`);
  return parts.join(', ');
}

/** Opens (or creates) a Krypton database file; ':memory:' for a throwaway one. */
export function open(path = 'krypton.duckdb', options: OpenOptions = {}): Promise<Krypton> {
  return Krypton.open(path, options);
}
