/**
 * The typed AST of a Krypton script. Nodes are immutable, kind-tagged and carry the position and
 * exact source text of their statement. Geometry reads horizontal first everywhere: `PATCH 16 x 8`
 * is 16 wide and 8 high, `STRIDE 4 x 2` steps 4 across and 2 down, `REGION (x, y, w, h)`.
 */

/** A place in the script: 1-based line and column, 0-based character offset. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export type Statement =
  | CreateModelStatement
  | DropModelStatement
  | OccludeStatement
  | ExplainStatement
  | LoadDicomStatement
  | SqlStatement;

export type StatementKind = Statement['kind'];

/** The statements Krypton runs itself; the rest are SQL for DuckDB. */
export type KryptonStatement = Exclude<Statement, SqlStatement>;

interface StatementBase {
  readonly position: SourcePosition;
  /** The statement's exact source, from its first token to its last, without the closing `;`. */
  readonly text: string;
}

// ---- CREATE MODEL / DROP MODEL ---------------------------------------------------------------------

/**
 * A model registered under a name. Options left out are undefined here: their defaults depend on
 * the ONNX file (input size, output kind), so the model loader decides them.
 */
export interface CreateModelStatement extends StatementBase {
  readonly kind: 'CreateModel';
  /** CREATE OR REPLACE MODEL: an existing model of the name is replaced. */
  readonly orReplace: boolean;
  readonly name: string;
  readonly file: string;
  readonly input?: Size;
  readonly channels?: ChannelOrder;
  /** The pixel range the model expects: 1 for [0, 1], 255 for [0, 255]. */
  readonly scale?: 1 | 255;
  readonly normalize?: Normalization;
  readonly labelsFile?: string;
  readonly output?: ModelOutput;
  /** OUTPUT NAME 'x': the graph output holding the class scores (the first when absent). */
  readonly outputName?: string;
  readonly clauses: ClausePositions<CreateModelClause>;
}

export type CreateModelClause =
  | 'name'
  | 'file'
  | 'input'
  | 'channels'
  | 'scale'
  | 'normalize'
  | 'labels'
  | 'output';

export type ChannelOrder = 'rgb' | 'bgr' | 'gray';

/** LOGITS: softmax over the scores; PROBABILITIES: as they are; SIGMOID: each score's own sigmoid. */
export type ModelOutput = 'logits' | 'probabilities' | 'sigmoid';

/** Per-channel mean and standard deviation: one value for GRAY, three (r, g, b) otherwise. */
export type Normalization =
  | { readonly kind: 'imagenet' }
  | { readonly kind: 'none' }
  | { readonly kind: 'custom'; readonly mean: readonly number[]; readonly std: readonly number[] };

export interface DropModelStatement extends StatementBase {
  readonly kind: 'DropModel';
  readonly name: string;
  readonly ifExists: boolean;
}

// ---- OCCLUDE / EXPLAIN ----------------------------------------------------------------------------

export interface OccludeStatement extends StatementBase {
  readonly kind: 'Occlude';
  readonly source: ImageSource;
  readonly model: ModelRef;
  /** `{ kind: 'predicted' }` when FOR … is left out. */
  readonly targetClass: TargetClass;
  readonly patch: Size;
  /** `{ kind: 'gray' }` when COLOR is left out. */
  readonly color: PatchColor;
  readonly stride: Stride;
  readonly region?: Region;
  readonly quality?: QualityTarget;
  /** 'auto' when STRATEGY is left out. */
  readonly strategy: Strategy;
  /** STRATEGY INCREMENTAL THRESHOLD t: τ in (0, 1]; absent otherwise. */
  readonly threshold?: number;
  /** STRATEGY NAIVE|INCREMENTAL … DRILLDOWN STRIDE s FRACTION r. */
  readonly drilldown?: DrilldownSpec;
  /** STRATEGY AUTO WITHOUT …; [] when absent. */
  readonly without: readonly CandidateName[];
  /** TUNE ON n IMAGES: sample size; absent = the planner's default. */
  readonly tuneSample?: number;
  /** RETUNE given. */
  readonly retune: boolean;
  /** VERIFY p %: p in (0, 100]. */
  readonly verifyPercent?: number;
  readonly renderDir?: string;
  /** RENDER TO … SCALE: 'absolute' when left out. */
  readonly renderScale?: RenderScale;
  readonly into?: TableName;
  /** Where each clause that was written starts, for later stages' error messages. */
  readonly clauses: ClausePositions<OccludeClause>;
}

/** What an overlay's colours span: the drop 0–1, the image's own drops, or the query's. */
export type RenderScale = 'absolute' | 'image' | 'query';

export type OccludeClause =
  | 'source'
  | 'model'
  | 'class'
  | 'patch'
  | 'color'
  | 'stride'
  | 'region'
  | 'quality'
  | 'strategy'
  | 'render'
  | 'into'
  | 'tune'
  | 'retune'
  | 'verify'
  /** THRESHOLD and DRILLDOWN inside STRATEGY. */
  | 'threshold'
  | 'drilldown';

export interface ExplainStatement extends StatementBase {
  readonly kind: 'Explain';
  /** EXPLAIN ANALYZE runs the query and reports measured figures next to the estimates. */
  readonly analyze: boolean;
  readonly occlude: OccludeStatement;
}

// ---- LOAD DICOM -----------------------------------------------------------------------------------

/** LOAD DICOM source INTO table [DEIDENTIFY]: one row of tags per file the source names. */
export interface LoadDicomStatement extends StatementBase {
  readonly kind: 'LoadDicom';
  readonly source: ImageSource;
  readonly into: TableName;
  /** Identifying tags hashed or dropped (PS3.15 Annex E); see src/image/dicom/deidentify.ts. */
  readonly deidentify: boolean;
}

/** Anything else: DuckDB's to parse and run, passed on exactly as written. */
export interface SqlStatement extends StatementBase {
  readonly kind: 'Sql';
}

export type ImageSource =
  | { readonly kind: 'glob'; readonly pattern: string }
  | { readonly kind: 'list'; readonly paths: readonly string[] }
  /** A query whose first column is an image path; `sql` is its exact text inside the parentheses. */
  | { readonly kind: 'select'; readonly sql: string; readonly position: SourcePosition };

export type ModelRef =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string };

export type TargetClass =
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'label'; readonly label: string }
  | { readonly kind: 'predicted' };

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Stride {
  readonly x: number;
  readonly y: number;
}

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** 'model': model-input pixels, after resizing (the default); 'image': the source image's pixels. */
  readonly unit: PixelUnit;
}

export type PixelUnit = 'model' | 'image';

/** Components are 0–255, whatever the model's SCALE: they describe the image, not the tensor. */
export type PatchColor =
  | { readonly kind: 'gray' }
  | { readonly kind: 'black' }
  | { readonly kind: 'mean' }
  | { readonly kind: 'rgb'; readonly r: number; readonly g: number; readonly b: number };

export interface QualityTarget {
  readonly metric: 'ssim';
  /** In (0, 1]. */
  readonly target: number;
}

export type Strategy = 'auto' | 'naive' | 'incremental';

/** Candidate plans a user can switch off (STRATEGY AUTO WITHOUT …) — the planner's names. */
export type CandidateName = 'naive' | 'incremental' | 'threshold' | 'drilldown';

/**
 * Two-stage drill-down: `stride` is the coarse first stage's, a larger multiple of the query's
 * STRIDE along each axis; `fraction` in (0, 1] is the share of cells the second stage refines.
 */
export interface DrilldownSpec {
  readonly stride: Stride;
  readonly fraction: number;
}

/** A table name, possibly qualified (`schema.table`, `catalog.schema.table`). */
export interface TableName {
  /** The unquoted parts, case preserved, outermost first. */
  readonly parts: readonly string[];
  /** The last part. */
  readonly name: string;
  /** Every part double-quoted, ready to put into SQL. */
  readonly sql: string;
}

export type ClausePositions<Clause extends string> = { readonly [C in Clause]?: SourcePosition };

// ---- construction ---------------------------------------------------------------------------------

/** Freezes a freshly built node and everything in it, so no later stage can change the AST. */
export function freezeNode<T>(node: T): T {
  if (typeof node === 'object' && node !== null && !Object.isFrozen(node)) {
    for (const value of Object.values(node)) freezeNode(value);
    Object.freeze(node);
  }
  return node;
}

/** Quotes one identifier part for SQL, doubling any `"` inside it. */
export function quoteIdentifier(part: string): string {
  return `"${part.replaceAll('"', '""')}"`;
}

export function tableName(parts: readonly string[]): TableName {
  return freezeNode({
    parts: [...parts],
    name: parts[parts.length - 1],
    sql: parts.map(quoteIdentifier).join('.'),
  });
}

type StatementOf<K extends StatementKind> = Extract<Statement, { kind: K }>;

/** A type guard per statement kind, e.g. `isStatement(s, 'Occlude')`. */
export function isStatement<K extends StatementKind>(statement: Statement, kind: K): statement is StatementOf<K> {
  return statement.kind === kind;
}

/** Dispatch over every statement kind; a missing case is a type error. */
export type StatementVisitor<R> = { readonly [K in StatementKind]: (statement: StatementOf<K>) => R };

export function visitStatement<R>(statement: Statement, visitor: StatementVisitor<R>): R {
  return (visitor[statement.kind] as (s: Statement) => R)(statement);
}
