import * as arrow from 'apache-arrow';
import { KryptonError, StatementError } from './errors.js';
import { executeOcclude, type ExecutionOptions, type OcclusionRun } from './executor/execute-occlude.js';
import type { ExplainStatement, LoadDicomStatement, OccludeStatement, Statement } from './parser/ast.js';
import { loadDicom, type DicomLoad } from './image/dicom/load-dicom.js';
import { defaultImageId } from './executor/image-source.js';
import type { InputSpec, ResizePolicy } from './image/input-spec.js';
import { parseScript, parseScriptWithSql, type ParsedScript } from './parser/index.js';
import { bindModel, defineModel, ModelCache } from './planner/bind-model.js';
import { explainOcclude, explainText } from './planner/explain.js';
import { planOcclude, repeatedNote, type PhysicalOcclude, type PlanningContext } from './planner/plan-occlude.js';
import { describeSpec } from './planner/candidates/index.js';
import type { Throughput } from './planner/calibration.js';
import { openStore, rowsToArrow, type Store } from './store/index.js';
import { sqlSyntaxError } from './store/sql-syntax.js';
import { expandImages, renderOcclude, type OccludeOptions, type RenderedOcclude } from './occlude-options.js';
import type { OcclusionProgress } from './occlusion-progress.js';

export type { HeatmapSoFar, OcclusionProgress } from './occlusion-progress.js';
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
  /** An OCCLUDE's (or EXPLAIN ANALYZE's) images that failed, each with its error; empty when none did. */
  readonly failures?: readonly ImageFailure[];
  /** EXPLAIN's plan as the CLI prints it; `rows` hold the same lines by section. */
  readonly plan?: string;
}

export interface ImageFailure {
  readonly imageId: string;
  readonly imagePath: string;
  readonly error: string;
}

/** The result of an EXPLAIN: `text` is the statement, `plan` what EXPLAIN shows. */
export interface ExplainResult extends StatementResult {
  readonly kind: 'Explain';
  readonly plan: string;
}

export interface OpenOptions {
  /**
   * The machine's rates for the planner's estimates. Measured once per machine and kept in the
   * database when absent; given, they make plans reproducible (tests, comparing machines).
   */
  readonly throughput?: Throughput;
  /**
   * Redis (redis://host:port) whose workers (`krypton worker`) compute OCCLUDE's heatmaps; the
   * session variable krypton_workers, when set, decides instead ('' for this machine).
   */
  readonly workers?: string;
}

/** `SET VARIABLE krypton_workers = 'redis://host:port'` sends the session's OCCLUDEs to workers. */
export const WORKERS_VARIABLE = 'krypton_workers';

export interface ExecuteOptions {
  /** Called as an OCCLUDE statement advances. */
  readonly onProgress?: (progress: OcclusionProgress) => void;
  /** Stops a running OCCLUDE between batches; images already finished stay stored. */
  readonly signal?: AbortSignal;
  /** Positions per inference call; the operators choose from memory when absent. */
  readonly batchSize?: number;
  /**
   * An OCCLUDE some of whose images fail raises `ImageFailures` (after the other images are done
   * and stored), so scripts and callers cannot miss it; with keepGoing it returns its result, whose
   * `failures` lists them.
   */
  readonly keepGoing?: boolean;
}

/** Raised for a script with syntax errors: every problem, each with line and column. */
export class SyntaxErrors extends KryptonError {
  constructor(readonly problems: readonly string[]) {
    super('', 'syntax');
    // One problem per line, each of them one line.
    this.message = problems.join('\n');
  }
}

/**
 * Raised after an OCCLUDE in which some images failed: the others were computed and stored. The
 * statement's result (one row per image, failures included) is in `result`.
 */
export class ImageFailures extends KryptonError {
  constructor(readonly result: StatementResult) {
    const failures = result.failures ?? [];
    const all = result.rows.length;
    const first = failures[0];
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more; see the error column)` : '';
    super(`${failures.length} of ${all} image${all === 1 ? '' : 's'} failed: ${first.imageId}: ${first.error}${more}`, 'image');
  }
}

/**
 * A script's statements, or every syntax problem in it: Krypton's grammar for its own statements
 * and DuckDB's parser for the SQL (parsed only, not bound). Any problem means nothing may run.
 */
export function checkScript(script: string): Promise<ParsedScript> {
  return parseScriptWithSql(script, sqlSyntaxError);
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
  { name: 'replaced', type: 'VARCHAR' },
  { name: 'query_id', type: 'VARCHAR' },
  { name: 'frame', type: 'INTEGER' },
] as const;

const LOAD_DICOM_COLUMNS = [
  { name: 'path', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'error', type: 'VARCHAR' },
] as const;

const EXPLAIN_COLUMNS = [{ name: 'section', type: 'VARCHAR' }, { name: 'line', type: 'VARCHAR' }] as const;

const ARROW_TYPES: Record<string, () => arrow.DataType> = {
  VARCHAR: () => new arrow.Utf8(),
  INTEGER: () => new arrow.Int32(),
  DOUBLE: () => new arrow.Float64(),
};

/** A result of Krypton's own, whose few column types map directly to Arrow. */
function result(
  statement: Statement, columns: readonly { name: string; type: string }[], rows: Record<string, unknown>[], message?: string,
  extra: { run?: OcclusionRun; plan?: string } = {},
): StatementResult {
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
    ...(extra.run ? { failures: failuresOf(extra.run) } : {}),
    ...(extra.plan !== undefined && { plan: extra.plan }),
  };
}

function failuresOf(run: OcclusionRun): ImageFailure[] {
  return run.outcomes.filter((o) => o.status === 'failed').map((o) => ({ imageId: o.imageId, imagePath: o.imagePath, error: o.error ?? 'failed' }));
}

/** The result, or ImageFailures carrying it when images failed and the caller did not ask to keep going. */
function checked(answer: StatementResult, options: ExecuteOptions): StatementResult {
  if (answer.failures?.length && !options.keepGoing) throw new ImageFailures(answer);
  return answer;
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
    checkExecuteOptions(options);
    const { statements, errors } = await checkScript(script);
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
    return this.runRendered(renderOcclude(await expandImages(options)), execute);
  }

  /** EXPLAIN (or, with analyze, EXPLAIN ANALYZE) of the occlusion the options describe. */
  async explain(options: OccludeOptions, { analyze = false, ...execute }: ExecuteOptions & { analyze?: boolean } = {}): Promise<ExplainResult> {
    return this.runRendered(renderOcclude(await expandImages(options), analyze ? 'EXPLAIN ANALYZE ' : 'EXPLAIN '), execute) as Promise<ExplainResult>;
  }

  /** A statement rendered from options, whose problems are told as problems with the options. */
  private async runRendered(rendered: RenderedOcclude, options: ExecuteOptions): Promise<StatementResult> {
    const { statements, errors } = parseScript(rendered.text);
    if (errors.length > 0) {
      const detail = (problem: (typeof errors)[number]) => problem.message.slice(`line ${problem.line}, column ${problem.column}: `.length);
      throw new KryptonError(errors.map((problem) => rendered.problem(problem.offset, detail(problem), problem.token)).join('; '));
    }
    try {
      return await this.runStatement(statements[0], options);
    } catch (error) {
      if (error instanceof StatementError) throw new KryptonError(rendered.problem(error.position.offset, error.detail), error.code);
      throw error;
    }
  }

  /**
   * A model for this session only, from a CREATE MODEL statement: not written to the catalog, and
   * shadowing a catalog model of the same name. `resize` says how images are fitted to its input
   * (the language's models stretch them). The CLI's heatmap command runs through it. Returns what
   * CREATE MODEL's message would say about how the output is read (which output, which activation).
   */
  async defineSessionModel(createModel: string, options: { resize?: ResizePolicy } = {}): Promise<readonly string[]> {
    const { statements, errors } = parseScript(createModel);
    if (errors.length > 0) throw new SyntaxErrors(errors.map((e) => e.message));
    const [statement] = statements;
    if (statements.length !== 1 || statement.kind !== 'CreateModel') throw new KryptonError('defineSessionModel takes one CREATE MODEL statement');
    const { definition, notes } = await defineModel(statement, this.models);
    this.models.defineSessionModel({ ...definition, resize: options.resize });
    return notes;
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
    await this.models.release();
    await this.store.close();
  }

  private planning(options: ExecuteOptions = {}): PlanningContext {
    const onTuning = options.onProgress && ((step: string) => options.onProgress!({ imagesDone: 0, images: 0, imagePath: '', positionsDone: 0, positions: 0, tuning: step }));
    return { store: this.store, models: this.models, throughput: this.options.throughput, onTuning, signal: options.signal };
  }

  /** One statement already parsed (by `parseScript`), for callers that step through a script themselves. */
  async runStatement(statement: Statement, options: ExecuteOptions = {}): Promise<StatementResult> {
    checkExecuteOptions(options);
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
        const { definition, notes } = await defineModel(statement, this.models);
        await this.store.putModel(definition, { orReplace: statement.orReplace });
        const output = definition.outputName === null ? definition.outputKind : `${definition.outputKind} of output '${definition.outputName}'`;
        const described = [`${definition.inputWidth}x${definition.inputHeight}, ${definition.channels}, ${output}`, ...notes].join('; ');
        return result(statement, [], [], `model ${statement.name} ${statement.orReplace ? 'created or replaced' : 'created'} (${described})`);
      }
      case 'DropModel': {
        const dropped = await this.store.dropModel(statement.name, { ifExists: statement.ifExists });
        return result(statement, [], [], dropped ? `model ${statement.name} dropped` : `model ${statement.name} does not exist`);
      }
      case 'Occlude':
        return this.runOcclude(statement, options);
      case 'Explain':
        return this.runExplain(statement, options);
      case 'LoadDicom':
        return this.runLoadDicom(statement, options);
    }
  }

  private async runLoadDicom(statement: LoadDicomStatement, options: ExecuteOptions): Promise<StatementResult> {
    const load = await loadDicom(statement, this.store, options.signal);
    const rows = load.files.map((f) => ({ path: f.path, status: f.status, error: f.error ?? null }));
    const failures = load.files.filter((f) => f.status === 'failed').map((f) => ({ imageId: defaultImageId(f.path), imagePath: f.path, error: f.error ?? 'failed' }));
    return checked({ ...result(statement, LOAD_DICOM_COLUMNS, rows, loadDicomMessage(load, statement)), failures }, options);
  }

  /** Where the session's OCCLUDEs run: Redis's URL for workers, or undefined for this machine. */
  private async workersUrl(): Promise<string | undefined> {
    const variable = await this.store.variable(WORKERS_VARIABLE);
    const url = (variable ?? this.options.workers)?.trim();
    return url ? url : undefined;
  }

  /**
   * Plans the statement and runs it here or on the workers. Redis is reached before planning, so
   * that when it cannot be, nothing is stored (not even the machine's calibration or a tuning).
   */
  private async planAndRun(statement: OccludeStatement, options: ExecuteOptions, run: boolean): Promise<{ plan: PhysicalOcclude; run?: OcclusionRun; workers?: string }> {
    const url = run ? await this.workersUrl() : undefined;
    if (!url) {
      const plan = await planOcclude(statement, this.planning(options));
      return { plan, run: run ? await executeOcclude(plan, this.store, { ...options, sessions: this.models.sessions }) : undefined };
    }
    // BullMQ and ioredis are loaded only by a session that sends its OCCLUDEs to workers.
    const [{ OcclusionQueue }, { executeDistributed }] = await Promise.all([import('./distributed/occlusion-queue.js'), import('./distributed/execute-distributed.js')]);
    const cluster = await OcclusionQueue.connect(url);
    try {
      const plan = await planOcclude(statement, this.planning(options));
      return { plan, run: await executeDistributed(plan, this.store, cluster, options as ExecutionOptions), workers: cluster.url };
    } finally {
      await cluster.close();
    }
  }

  private async runOcclude(statement: OccludeStatement, options: ExecuteOptions): Promise<StatementResult> {
    const { plan, run, workers } = await this.planAndRun(statement, options, true);
    return checked(result(statement, OCCLUDE_COLUMNS, outcomeRows(run!, plan.queryId), occludeMessage(run!, plan, workers), { run }), options);
  }

  private async runExplain(statement: ExplainStatement, options: ExecuteOptions): Promise<ExplainResult> {
    const { plan, run } = await this.planAndRun(statement.occlude, options, statement.analyze);
    const lines = explainOcclude(plan, run);
    return checked(result(statement, EXPLAIN_COLUMNS, lines.map((l) => ({ ...l })), undefined, { run, plan: explainText(lines) }), options) as ExplainResult;
  }
}

/** Checked before anything runs; the operators would refuse a bad batch size only once an image is under way. */
function checkExecuteOptions({ batchSize }: ExecuteOptions): void {
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize > 0)) {
    throw new KryptonError(`execute option 'batchSize': must be a positive integer, got ${batchSize}`);
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
    replaced: o.replaced ?? null,
    query_id: queryId,
    frame: o.frame,
  }));
}

function occludeMessage(run: OcclusionRun, plan: PhysicalOcclude, workers?: string): string {
  const table = plan.logical.tableName;
  const count = (status: string) => run.outcomes.filter((o) => o.status === status).length;
  const where = workers ? ` on the workers of ${workers}` : '';
  const parts = [`occluded ${count('done')} image${count('done') === 1 ? '' : 's'} into ${table} (${describeSpec(plan.spec, plan.logical.grid)})${where} in ${(run.elapsedMs / 1000).toFixed(1)} s`];
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
  const replaced = run.outcomes.filter((o) => o.replaced !== undefined && o.status === 'done').length;
  if (replaced) parts.push(`${replaced} recomputed because ${replaced === 1 ? 'its' : 'their'} stored row${replaced === 1 ? ' was' : 's were'} computed from other file contents (see the replaced column)`);
  if (plan.logical.repeatedImages.length) parts.push(repeatedNote(plan.logical.repeatedImages));
  if (count('failed')) parts.push(`${count('failed')} failed: ${run.outcomes.filter((o) => o.status === 'failed').map((o) => `${o.imageId} (${o.error})`).join('; ')}`);
  return parts.join(', ');
}

function loadDicomMessage(load: DicomLoad, statement: LoadDicomStatement): string {
  const count = (status: string) => load.files.filter((f) => f.status === status).length;
  const loaded = count('loaded');
  const parts = [`loaded ${loaded} DICOM file${loaded === 1 ? '' : 's'} into ${load.table}${statement.deidentify ? ' (de-identified)' : ''} in ${(load.elapsedMs / 1000).toFixed(1)} s`];
  if (count('already loaded')) parts.push(`${count('already loaded')} already loaded`);
  const failed = load.files.filter((f) => f.status === 'failed');
  if (failed.length) parts.push(`${failed.length} failed: ${failed.map((f) => `${defaultImageId(f.path)} (${f.error})`).join('; ')}`);
  return parts.join(', ');
}

/** Opens (or creates) a Krypton database file; ':memory:' for a throwaway one. */
export function open(path = 'krypton.duckdb', options: OpenOptions = {}): Promise<Krypton> {
  return Krypton.open(path, options);
}
