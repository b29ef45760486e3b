/**
 * CST → AST for one Krypton statement that parsed without errors. Besides building the typed nodes
 * it runs the checks that need no catalog (sizes, ranges, repeated options), reporting them with
 * positions like syntax errors.
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as cst from '../../grammar/cst.js';
import { skipTrivia, significantEnd } from '../../grammar/sql-text.js';
import { freezeNode, tableName } from './ast.js';
import type * as ast from './ast.js';
import { kryptonParser } from './krypton-parser.js';
import {
  checkInRange,
  checkNonNegativeInteger,
  checkPositiveInteger,
  nonEmptyString,
  unquoteIdentifier,
} from './values.js';
import type { NumberValue, Reporter } from './values.js';

const BaseVisitor = kryptonParser.getBaseCstVisitorConstructor<void, unknown>();

interface NumberList {
  readonly numbers: readonly NumberValue[];
  readonly open: IToken;
}

/** What STRATEGY says: the plan, and the settings that make it approximate or narrow AUTO's choice. */
interface StrategyChoice {
  readonly strategy: ast.Strategy;
  readonly threshold?: number;
  readonly drilldown?: ast.DrilldownSpec;
  readonly without: readonly ast.CandidateName[];
}

const CANDIDATE_COUNT = 4;

export class AstBuilder extends BaseVisitor implements cst.ICstNodeVisitor<void, unknown> {
  /**
   * @param script the whole script, for statement texts
   * @param statementEnd offset just past the statement's last token
   */
  constructor(
    private readonly script: string,
    private readonly statementEnd: number,
    private readonly reporter: Reporter,
  ) {
    super();
    this.validateVisitor();
  }

  statement(ctx: cst.StatementCstChildren): ast.KryptonStatement {
    if (ctx.createModel) return this.createModel(ctx.createModel[0].children);
    if (ctx.dropModel) return this.dropModel(ctx.dropModel[0].children);
    if (ctx.occlude) return this.occlude(ctx.occlude[0].children);
    if (ctx.explain) return this.explain(ctx.explain[0].children);
    if (ctx.loadDicom) return this.loadDicom(ctx.loadDicom[0].children);
    throw new Error('statement without a known alternative');
  }

  // ---- CREATE MODEL / DROP MODEL -----------------------------------------------------------------

  createModel(ctx: cst.CreateModelCstChildren): ast.CreateModelStatement {
    this.reportRepeats('INPUT', ctx.inputOption);
    this.reportRepeats('CHANNELS', ctx.channelsOption);
    this.reportRepeats('SCALE', ctx.scaleOption);
    this.reportRepeats('NORMALIZE', ctx.normalizeOption);
    this.reportRepeats('LABELS', ctx.labelsOption);
    this.reportRepeats('OUTPUT', ctx.outputOption);
    const channels = ctx.channelsOption && this.channelsOption(ctx.channelsOption[0].children);
    const normalize = ctx.normalizeOption && this.normalizeOption(ctx.normalizeOption[0].children);
    const output = ctx.outputOption && this.outputOption(ctx.outputOption[0].children);
    if (ctx.normalizeOption && channels) this.checkNormalizationChannels(ctx.normalizeOption[0].children, channels);
    return freezeNode({
      kind: 'CreateModel',
      ...this.statementBase(ctx.CREATE[0]),
      orReplace: ctx.REPLACE !== undefined,
      name: this.name(ctx.name[0].children),
      file: nonEmptyString(this.reporter, ctx.file[0], 'model file path'),
      ...(ctx.inputOption && { input: this.inputOption(ctx.inputOption[0].children) }),
      ...(channels && { channels }),
      ...(ctx.scaleOption && { scale: this.scaleOption(ctx.scaleOption[0].children) }),
      ...(normalize && { normalize }),
      ...(ctx.labelsOption && { labelsFile: this.labelsOption(ctx.labelsOption[0].children) }),
      ...(output?.kind && { output: output.kind }),
      ...(output?.name !== undefined && { outputName: output.name }),
      clauses: this.clausePositions<ast.CreateModelClause>({
        name: ctx.name,
        file: ctx.file,
        input: ctx.inputOption,
        channels: ctx.channelsOption,
        scale: ctx.scaleOption,
        normalize: ctx.normalizeOption,
        labels: ctx.labelsOption,
        output: ctx.outputOption,
      }),
    } satisfies ast.CreateModelStatement);
  }

  inputOption(ctx: cst.InputOptionCstChildren): ast.Size {
    const width = checkPositiveInteger(this.reporter, this.number(ctx.width[0].children), 'INPUT');
    const height = ctx.height ? checkPositiveInteger(this.reporter, this.number(ctx.height[0].children), 'INPUT') : width;
    return { width, height };
  }

  channelsOption(ctx: cst.ChannelsOptionCstChildren): ast.ChannelOrder {
    if (ctx.BGR) return 'bgr';
    if (ctx.GRAY) return 'gray';
    return 'rgb';
  }

  scaleOption(ctx: cst.ScaleOptionCstChildren): 1 | 255 {
    const scale = this.number(ctx.number[0].children);
    if (scale.value === 1 || scale.value === 255) return scale.value;
    this.reporter.report(scale.position, 'SCALE must be 1 or 255', scale.text);
    return 1;
  }

  normalizeOption(ctx: cst.NormalizeOptionCstChildren): ast.Normalization {
    if (ctx.IMAGENET) return { kind: 'imagenet' };
    if (ctx.NONE) return { kind: 'none' };
    const mean = this.numberList((ctx.mean ?? [])[0].children);
    const std = this.numberList((ctx.std ?? [])[0].children);
    if (mean.numbers.length !== 1 && mean.numbers.length !== 3) {
      this.reporter.reportAtToken(mean.open, 'MEAN needs 1 number (gray) or 3 (r, g, b)');
    } else if (std.numbers.length !== mean.numbers.length) {
      this.reporter.reportAtToken(std.open, 'STD needs as many numbers as MEAN');
    }
    for (const value of std.numbers) {
      checkInRange(this.reporter, value, { min: 0, max: Infinity, minExclusive: true }, 'STD values must be positive');
    }
    return { kind: 'custom', mean: mean.numbers.map((n) => n.value), std: std.numbers.map((n) => n.value) };
  }

  labelsOption(ctx: cst.LabelsOptionCstChildren): string {
    return nonEmptyString(this.reporter, ctx.file[0], 'LABELS file path');
  }

  outputOption(ctx: cst.OutputOptionCstChildren): { kind?: ast.ModelOutput; name?: string } {
    const kind = ctx.outputKind && this.outputKind(ctx.outputKind[0].children);
    const name = ctx.outputName && nonEmptyString(this.reporter, ctx.outputName[0], 'OUTPUT NAME');
    return { ...(kind && { kind }), ...(name !== undefined && { name }) };
  }

  outputKind(ctx: cst.OutputKindCstChildren): ast.ModelOutput {
    if (ctx.LOGITS) return 'logits';
    if (ctx.SIGMOID) return 'sigmoid';
    return 'probabilities';
  }

  dropModel(ctx: cst.DropModelCstChildren): ast.DropModelStatement {
    return freezeNode({
      kind: 'DropModel',
      ...this.statementBase(ctx.DROP[0]),
      name: this.name(ctx.name[0].children),
      ifExists: ctx.IF !== undefined,
    } satisfies ast.DropModelStatement);
  }

  // ---- OCCLUDE / EXPLAIN ------------------------------------------------------------------------

  explain(ctx: cst.ExplainCstChildren): ast.ExplainStatement {
    return freezeNode({
      kind: 'Explain',
      ...this.statementBase(ctx.EXPLAIN[0]),
      analyze: ctx.ANALYZE !== undefined,
      occlude: this.occlude(ctx.occlude[0].children),
    } satisfies ast.ExplainStatement);
  }

  occlude(ctx: cst.OccludeCstChildren): ast.OccludeStatement {
    this.reportRepeats('COLOR', ctx.colorClause);
    this.reportRepeats('REGION', ctx.regionClause);
    this.reportRepeats('QUALITY', ctx.qualityClause);
    this.reportRepeats('TUNE ON', ctx.tuneClause);
    this.reportRepeats('RETUNE', ctx.retuneClause);
    this.reportRepeats('VERIFY', ctx.verifyClause);
    this.reportRepeats('STRATEGY', ctx.strategyClause);
    this.reportRepeats('RENDER TO', ctx.renderClause);
    this.reportRepeats('INTO', ctx.intoClause);
    const stride = this.strideClause(ctx.strideClause[0].children);
    const quality = ctx.qualityClause && this.qualityClause(ctx.qualityClause[0].children);
    const strategyCtx = ctx.strategyClause?.[0].children;
    const choice: StrategyChoice = strategyCtx ? this.strategyClause(strategyCtx) : { strategy: 'auto', without: [] };
    const drilldownStride = strategyCtx?.drilldownPart?.[0].children.strideClause[0].children;
    if (drilldownStride && choice.drilldown) this.checkDrilldownReaches(drilldownStride, choice.drilldown.stride, stride);
    this.checkApproximation(ctx, quality, choice);
    return freezeNode({
      kind: 'Occlude',
      ...this.statementBase(ctx.OCCLUDE[0]),
      source: this.imageSource(ctx.imageSource[0].children),
      model: this.modelRef(ctx.modelRef[0].children),
      targetClass: ctx.targetClass ? this.targetClass(ctx.targetClass[0].children) : { kind: 'predicted' },
      patch: this.patchClause(ctx.patchClause[0].children),
      color: ctx.colorClause ? this.colorClause(ctx.colorClause[0].children) : { kind: 'gray' },
      stride,
      ...(ctx.regionClause && { region: this.regionClause(ctx.regionClause[0].children) }),
      ...(quality && { quality }),
      ...(ctx.tuneClause && { tuneSample: this.tuneClause(ctx.tuneClause[0].children) }),
      retune: ctx.retuneClause !== undefined,
      ...(ctx.verifyClause && { verifyPercent: this.verifyClause(ctx.verifyClause[0].children) }),
      ...choice,
      ...(ctx.renderClause && this.renderClause(ctx.renderClause[0].children)),
      ...(ctx.intoClause && { into: this.intoClause(ctx.intoClause[0].children) }),
      clauses: this.clausePositions<ast.OccludeClause>({
        source: ctx.imageSource,
        model: ctx.modelRef,
        class: ctx.targetClass,
        patch: ctx.patchClause,
        color: ctx.colorClause,
        stride: ctx.strideClause,
        region: ctx.regionClause,
        quality: ctx.qualityClause,
        tune: ctx.tuneClause,
        retune: ctx.retuneClause,
        verify: ctx.verifyClause,
        strategy: ctx.strategyClause,
        threshold: strategyCtx?.thresholdPart,
        drilldown: strategyCtx?.drilldownPart,
        render: ctx.renderClause,
        into: ctx.intoClause,
      }),
    } satisfies ast.OccludeStatement);
  }

  // ---- LOAD DICOM -------------------------------------------------------------------------------

  loadDicom(ctx: cst.LoadDicomCstChildren): ast.LoadDicomStatement {
    return freezeNode({
      kind: 'LoadDicom',
      ...this.statementBase(ctx.LOAD[0]),
      source: this.imageSource(ctx.imageSource[0].children),
      into: this.intoClause(ctx.intoClause[0].children),
      deidentify: ctx.DEIDENTIFY !== undefined,
    } satisfies ast.LoadDicomStatement);
  }

  imageSource(ctx: cst.ImageSourceCstChildren): ast.ImageSource {
    if (ctx.glob) return { kind: 'glob', pattern: nonEmptyString(this.reporter, ctx.glob[0], 'image pattern') };
    if (ctx.pathList) return { kind: 'list', paths: this.pathList(ctx.pathList[0].children) };
    const token = (ctx.SelectSource ?? [])[0];
    // The query without its parentheses and without the whitespace and comments around it.
    const inner = token.image.slice(0, -1);
    const start = skipTrivia(inner, 1);
    const end = significantEnd(inner, start, inner.length);
    return { kind: 'select', sql: inner.slice(start, end), position: this.reporter.at(token.startOffset + start) };
  }

  pathList(ctx: cst.PathListCstChildren): string[] {
    return ctx.path.map((token) => nonEmptyString(this.reporter, token, 'image path'));
  }

  modelRef(ctx: cst.ModelRefCstChildren): ast.ModelRef {
    if (ctx.file) return { kind: 'file', path: nonEmptyString(this.reporter, ctx.file[0], 'model file path') };
    return { kind: 'name', name: this.name((ctx.name ?? [])[0].children) };
  }

  targetClass(ctx: cst.TargetClassCstChildren): ast.TargetClass {
    if (ctx.PREDICTED) return { kind: 'predicted' };
    if (ctx.label) return { kind: 'label', label: nonEmptyString(this.reporter, ctx.label[0], 'class label') };
    const index = this.number((ctx.index ?? [])[0].children);
    return { kind: 'index', index: checkNonNegativeInteger(this.reporter, index, 'CLASS index') };
  }

  patchClause(ctx: cst.PatchClauseCstChildren): ast.Size {
    const width = checkPositiveInteger(this.reporter, this.number(ctx.width[0].children), 'PATCH');
    const height = ctx.height ? checkPositiveInteger(this.reporter, this.number(ctx.height[0].children), 'PATCH') : width;
    return { width, height };
  }

  colorClause(ctx: cst.ColorClauseCstChildren): ast.PatchColor {
    if (ctx.GRAY) return { kind: 'gray' };
    if (ctx.BLACK) return { kind: 'black' };
    if (ctx.MEAN) return { kind: 'mean' };
    const list = this.numberList((ctx.rgb ?? [])[0].children);
    if (list.numbers.length !== 3) this.reporter.reportAtToken(list.open, 'COLOR needs 3 numbers (r, g, b)');
    const [r, g, b] = list.numbers.map((component) =>
      checkInRange(this.reporter, component, { min: 0, max: 255 }, 'COLOR components must be from 0 to 255'),
    );
    return { kind: 'rgb', r, g, b };
  }

  strideClause(ctx: cst.StrideClauseCstChildren): ast.Stride {
    return this.stride(ctx, 'STRIDE');
  }

  regionClause(ctx: cst.RegionClauseCstChildren): ast.Region {
    const list = this.numberList(ctx.numberList[0].children);
    const unit: ast.PixelUnit = ctx.IMAGE ? 'image' : 'model';
    if (list.numbers.length !== 4) {
      this.reporter.reportAtToken(list.open, 'REGION needs 4 numbers (x, y, width, height)');
      return { x: 0, y: 0, width: 0, height: 0, unit };
    }
    const [x, y, width, height] = list.numbers;
    return {
      unit,
      x: checkNonNegativeInteger(this.reporter, x, 'REGION x'),
      y: checkNonNegativeInteger(this.reporter, y, 'REGION y'),
      width: checkPositiveInteger(this.reporter, width, 'REGION width'),
      height: checkPositiveInteger(this.reporter, height, 'REGION height'),
    };
  }

  qualityClause(ctx: cst.QualityClauseCstChildren): ast.QualityTarget {
    const target = this.number(ctx.target[0].children);
    const range = { min: 0, max: 1, minExclusive: true };
    return { metric: 'ssim', target: checkInRange(this.reporter, target, range, 'SSIM target must be in (0, 1]') };
  }

  tuneClause(ctx: cst.TuneClauseCstChildren): number {
    return checkPositiveInteger(this.reporter, this.number(ctx.sample[0].children), 'TUNE ON');
  }

  /** RETUNE carries nothing but its presence; the visitor needs a method for every rule. */
  retuneClause(): true {
    return true;
  }

  verifyClause(ctx: cst.VerifyClauseCstChildren): number {
    const percent = this.number(ctx.percent[0].children);
    const range = { min: 0, max: 100, minExclusive: true };
    return checkInRange(this.reporter, percent, range, 'VERIFY must be more than 0% and at most 100%');
  }

  strategyClause(ctx: cst.StrategyClauseCstChildren): StrategyChoice {
    const drilldown = ctx.drilldownPart && this.drilldownPart(ctx.drilldownPart[0].children);
    if (ctx.NAIVE) return { strategy: 'naive', ...(drilldown && { drilldown }), without: [] };
    if (ctx.INCREMENTAL) {
      const threshold = ctx.thresholdPart && this.thresholdPart(ctx.thresholdPart[0].children);
      return {
        strategy: 'incremental',
        ...(threshold !== undefined && { threshold }),
        ...(drilldown && { drilldown }),
        without: [],
      };
    }
    return { strategy: 'auto', without: ctx.withoutPart ? this.withoutPart(ctx.withoutPart[0].children) : [] };
  }

  /** Each candidate at most once, and at least one left for the planner to choose. */
  withoutPart(ctx: cst.WithoutPartCstChildren): ast.CandidateName[] {
    const names: ast.CandidateName[] = [];
    for (const node of ctx.candidateName) {
      const name = this.candidateName(node.children);
      if (names.includes(name)) {
        const token = firstToken(node.children);
        this.reporter.reportAtToken(token, `WITHOUT lists ${name.toUpperCase()} more than once`);
      } else {
        names.push(name);
      }
    }
    if (names.length === CANDIDATE_COUNT) this.reporter.reportAtToken(ctx.WITHOUT[0], 'WITHOUT leaves no strategy to choose from');
    return names;
  }

  candidateName(ctx: cst.CandidateNameCstChildren): ast.CandidateName {
    if (ctx.NAIVE) return 'naive';
    if (ctx.INCREMENTAL) return 'incremental';
    if (ctx.THRESHOLD) return 'threshold';
    return 'drilldown';
  }

  thresholdPart(ctx: cst.ThresholdPartCstChildren): number {
    const threshold = this.number(ctx.threshold[0].children);
    const range = { min: 0, max: 1, minExclusive: true };
    return checkInRange(this.reporter, threshold, range, 'THRESHOLD must be in (0, 1]');
  }

  /** Sizes and range only; whether the stride reaches the query's STRIDE is checked by `occlude`. */
  drilldownPart(ctx: cst.DrilldownPartCstChildren): ast.DrilldownSpec {
    const stride = this.stride(ctx.strideClause[0].children, 'DRILLDOWN STRIDE');
    const fraction = this.number(ctx.fraction[0].children);
    const range = { min: 0, max: 1, minExclusive: true };
    return { stride, fraction: checkInRange(this.reporter, fraction, range, 'FRACTION must be in (0, 1]') };
  }

  renderClause(ctx: cst.RenderClauseCstChildren): { renderDir: string; renderScale: ast.RenderScale } {
    const renderScale = ctx.IMAGE ? 'image' : ctx.QUERY ? 'query' : 'absolute';
    return { renderDir: nonEmptyString(this.reporter, ctx.directory[0], 'RENDER TO directory'), renderScale };
  }

  intoClause(ctx: cst.IntoClauseCstChildren): ast.TableName {
    return tableName(ctx.name.map((node) => this.name(node.children)));
  }

  // ---- shared pieces ----------------------------------------------------------------------------

  /** Plain names keep their case; quoted ones lose their quotes. */
  name(ctx: cst.NameCstChildren): string {
    const quoted = ctx.QuotedIdentifier?.[0];
    if (quoted === undefined) return (ctx.Identifier ?? [])[0].image;
    const value = unquoteIdentifier(quoted.image);
    if (value.length === 0) this.reporter.reportAtToken(quoted, 'a quoted name must not be empty');
    return value;
  }

  number(ctx: cst.NumberCstChildren): NumberValue {
    const literal = ctx.NumberLiteral[0];
    const minus = ctx.Minus?.[0];
    const magnitude = Number(literal.image);
    return {
      value: minus ? -magnitude : magnitude,
      text: minus ? `-${literal.image}` : literal.image,
      position: this.reporter.at((minus ?? literal).startOffset),
    };
  }

  numberList(ctx: cst.NumberListCstChildren): NumberList {
    return { numbers: ctx.number.map((node) => this.number(node.children)), open: ctx.LParen[0] };
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private stride(ctx: cst.StrideClauseCstChildren, what: string): ast.Stride {
    const x = checkPositiveInteger(this.reporter, this.number(ctx.x[0].children), what);
    const y = ctx.y ? checkPositiveInteger(this.reporter, this.number(ctx.y[0].children), what) : x;
    return { x, y };
  }

  /**
   * Drill-down refines coarse cells into the query's grid, so along each axis its stride must be a
   * whole number of query strides, more than one. Bad sizes are reported already and not judged.
   */
  private checkDrilldownReaches(ctx: cst.StrideClauseCstChildren, coarse: ast.Stride, fine: ast.Stride): void {
    const sizes = [coarse.x, coarse.y, fine.x, fine.y];
    if (!sizes.every((size) => Number.isSafeInteger(size) && size > 0)) return;
    const reaches = (c: number, f: number) => c > f && c % f === 0;
    const missesAcross = !reaches(coarse.x, fine.x);
    const missesDown = !reaches(coarse.y, fine.y);
    if (!missesAcross && !missesDown) return;
    const multiples = (f: number) => `(${[2, 3, 4].map((k) => k * f).join(', ')}, …)`;
    const head = `DRILLDOWN STRIDE ${strideText(coarse)} cannot reach STRIDE ${strideText(fine)}`;
    const across = `across it must be a larger multiple of ${fine.x} ${multiples(fine.x)}`;
    const down = `${missesAcross ? 'down' : 'down it must be'} a larger multiple of ${fine.y} ${multiples(fine.y)}`;
    const detail =
      missesAcross && missesDown && fine.x === fine.y
        ? `${head}: it must be a larger multiple of it ${multiples(fine.x)}`
        : `${head}: ${[...(missesAcross ? [across] : []), ...(missesDown ? [down] : [])].join(', ')}`;
    const first = this.number(ctx.x[0].children);
    this.reporter.report(first.position, detail, first.text);
  }

  /**
   * The clauses that only mean something together. Tuning searches the approximate plans for one
   * that reaches the QUALITY target, so it needs one and conflicts with fixing them by hand; VERIFY
   * measures an approximation, so there must be one. A value already reported as out of range
   * (such as QUALITY SSIM >= 2) does not count as exact here, so one mistake gives one message.
   */
  private checkApproximation(
    ctx: cst.OccludeCstChildren,
    quality: ast.QualityTarget | undefined,
    choice: StrategyChoice,
  ): void {
    const tune = ctx.tuneClause?.[0].children.TUNE[0];
    const retune = ctx.retuneClause?.[0].children.RETUNE[0];
    const verify = ctx.verifyClause?.[0].children.VERIFY[0];
    if (quality === undefined && tune) this.reporter.reportAtToken(tune, 'TUNE ON needs QUALITY SSIM >= q');
    if (quality === undefined && retune) this.reporter.reportAtToken(retune, 'RETUNE needs QUALITY SSIM >= q');
    const strategy = ctx.strategyClause?.[0].children;
    const fixed = strategy?.thresholdPart?.[0].children.THRESHOLD[0] ?? strategy?.drilldownPart?.[0].children.DRILLDOWN[0];
    if (quality !== undefined && fixed !== undefined) {
      this.reporter.reportAtToken(
        fixed,
        'QUALITY tunes THRESHOLD and DRILLDOWN itself: give QUALITY or a fixed approximate STRATEGY, not both',
      );
    }
    const approximate =
      (quality !== undefined && quality.target !== 1) ||
      (choice.threshold !== undefined && choice.threshold !== 1) ||
      choice.drilldown !== undefined;
    if (verify && !approximate) {
      this.reporter.reportAtToken(verify, 'VERIFY needs QUALITY SSIM >= q below 1 or an approximate STRATEGY');
    }
  }

  private statementBase(first: IToken): { position: ast.SourcePosition; text: string } {
    return {
      position: this.reporter.at(first.startOffset),
      text: this.script.slice(first.startOffset, this.statementEnd),
    };
  }

  /** With CHANNELS given, MEAN has one value per channel (STD is checked against MEAN). */
  private checkNormalizationChannels(ctx: cst.NormalizeOptionCstChildren, channels: ast.ChannelOrder): void {
    const open = ctx.mean?.[0].children.LParen[0];
    const count = ctx.mean?.[0].children.number.length;
    if (open === undefined || (count !== 1 && count !== 3)) return;
    if (channels === 'gray' && count !== 1) this.reporter.reportAtToken(open, 'MEAN needs 1 number for CHANNELS GRAY');
    if (channels !== 'gray' && count !== 3) this.reporter.reportAtToken(open, 'MEAN needs 3 numbers (r, g, b)');
  }

  /** Options may come in any order, but each at most once. */
  private reportRepeats(clause: string, nodes: readonly CstNode[] | undefined): void {
    for (const node of (nodes ?? []).slice(1)) {
      const offset = startOffset(node);
      const written = this.script.slice(offset, offset + clause.split(' ')[0].length);
      this.reporter.report(this.reporter.at(offset), `${clause} is given more than once`, written);
    }
  }

  private clausePositions<C extends string>(
    clauses: Record<C, readonly (CstNode | IToken)[] | undefined>,
  ): ast.ClausePositions<C> {
    const positions: { [K in C]?: ast.SourcePosition } = {};
    for (const clause of Object.keys(clauses) as C[]) {
      const first = clauses[clause]?.[0];
      if (first !== undefined) positions[clause] = this.reporter.at(startOffset(first));
    }
    return positions;
  }
}

/** How a stride reads in messages: one number when square, as it may be written. */
function strideText(stride: ast.Stride): string {
  return stride.x === stride.y ? String(stride.x) : `${stride.x} x ${stride.y}`;
}

/** The one token of a node whose alternatives are single keywords. */
function firstToken(children: Record<string, readonly IToken[] | undefined>): IToken {
  const token = Object.values(children).find((tokens) => tokens !== undefined)?.[0];
  if (token === undefined) throw new Error('a CST node without tokens');
  return token;
}

function startOffset(element: CstNode | IToken): number {
  return 'image' in element ? element.startOffset : (element.location?.startOffset ?? NaN);
}
