// Generated from grammar/parser.ts by grammar/write-cst-types.ts; do not edit.
import type { CstNode, ICstVisitor, IToken } from "chevrotain";

export interface StatementCstNode extends CstNode {
  name: "statement";
  children: StatementCstChildren;
}

export type StatementCstChildren = {
  createModel?: CreateModelCstNode[];
  dropModel?: DropModelCstNode[];
  occlude?: OccludeCstNode[];
  explain?: ExplainCstNode[];
  loadDicom?: LoadDicomCstNode[];
};

export interface CreateModelCstNode extends CstNode {
  name: "createModel";
  children: CreateModelCstChildren;
}

export type CreateModelCstChildren = {
  CREATE: IToken[];
  OR?: IToken[];
  REPLACE?: IToken[];
  MODEL: IToken[];
  name: NameCstNode[];
  FROM: IToken[];
  file: IToken[];
  inputOption?: InputOptionCstNode[];
  channelsOption?: ChannelsOptionCstNode[];
  scaleOption?: ScaleOptionCstNode[];
  normalizeOption?: NormalizeOptionCstNode[];
  labelsOption?: LabelsOptionCstNode[];
  outputOption?: OutputOptionCstNode[];
};

export interface InputOptionCstNode extends CstNode {
  name: "inputOption";
  children: InputOptionCstChildren;
}

export type InputOptionCstChildren = {
  INPUT: IToken[];
  width: NumberCstNode[];
  By?: IToken[];
  height?: NumberCstNode[];
};

export interface ChannelsOptionCstNode extends CstNode {
  name: "channelsOption";
  children: ChannelsOptionCstChildren;
}

export type ChannelsOptionCstChildren = {
  CHANNELS: IToken[];
  RGB?: IToken[];
  BGR?: IToken[];
  GRAY?: IToken[];
};

export interface ScaleOptionCstNode extends CstNode {
  name: "scaleOption";
  children: ScaleOptionCstChildren;
}

export type ScaleOptionCstChildren = {
  SCALE: IToken[];
  number: NumberCstNode[];
};

export interface NormalizeOptionCstNode extends CstNode {
  name: "normalizeOption";
  children: NormalizeOptionCstChildren;
}

export type NormalizeOptionCstChildren = {
  NORMALIZE: IToken[];
  IMAGENET?: IToken[];
  NONE?: IToken[];
  MEAN?: IToken[];
  mean?: NumberListCstNode[];
  STD?: IToken[];
  std?: NumberListCstNode[];
};

export interface LabelsOptionCstNode extends CstNode {
  name: "labelsOption";
  children: LabelsOptionCstChildren;
}

export type LabelsOptionCstChildren = {
  LABELS: IToken[];
  file: IToken[];
};

export interface OutputOptionCstNode extends CstNode {
  name: "outputOption";
  children: OutputOptionCstChildren;
}

export type OutputOptionCstChildren = {
  OUTPUT: IToken[];
  NAME?: IToken[];
  outputName?: IToken[];
  outputKind?: (OutputKindCstNode)[];
};

export interface OutputKindCstNode extends CstNode {
  name: "outputKind";
  children: OutputKindCstChildren;
}

export type OutputKindCstChildren = {
  LOGITS?: IToken[];
  PROBABILITIES?: IToken[];
  SIGMOID?: IToken[];
};

export interface DropModelCstNode extends CstNode {
  name: "dropModel";
  children: DropModelCstChildren;
}

export type DropModelCstChildren = {
  DROP: IToken[];
  MODEL: IToken[];
  IF?: IToken[];
  EXISTS?: IToken[];
  name: NameCstNode[];
};

export interface ExplainCstNode extends CstNode {
  name: "explain";
  children: ExplainCstChildren;
}

export type ExplainCstChildren = {
  EXPLAIN: IToken[];
  ANALYZE?: IToken[];
  occlude: OccludeCstNode[];
};

export interface OccludeCstNode extends CstNode {
  name: "occlude";
  children: OccludeCstChildren;
}

export type OccludeCstChildren = {
  OCCLUDE: IToken[];
  imageSource: ImageSourceCstNode[];
  USING: IToken[];
  MODEL: IToken[];
  modelRef: ModelRefCstNode[];
  targetClass?: TargetClassCstNode[];
  WITH: IToken[];
  patchClause: PatchClauseCstNode[];
  colorClause?: (ColorClauseCstNode)[];
  strideClause: StrideClauseCstNode[];
  regionClause?: RegionClauseCstNode[];
  qualityClause?: QualityClauseCstNode[];
  tuneClause?: TuneClauseCstNode[];
  retuneClause?: RetuneClauseCstNode[];
  verifyClause?: VerifyClauseCstNode[];
  strategyClause?: StrategyClauseCstNode[];
  renderClause?: RenderClauseCstNode[];
  intoClause?: IntoClauseCstNode[];
};

export interface ImageSourceCstNode extends CstNode {
  name: "imageSource";
  children: ImageSourceCstChildren;
}

export type ImageSourceCstChildren = {
  glob?: IToken[];
  SelectSource?: IToken[];
  pathList?: PathListCstNode[];
};

export interface PathListCstNode extends CstNode {
  name: "pathList";
  children: PathListCstChildren;
}

export type PathListCstChildren = {
  LParen: IToken[];
  path: IToken[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ModelRefCstNode extends CstNode {
  name: "modelRef";
  children: ModelRefCstChildren;
}

export type ModelRefCstChildren = {
  name?: NameCstNode[];
  file?: IToken[];
};

export interface TargetClassCstNode extends CstNode {
  name: "targetClass";
  children: TargetClassCstChildren;
}

export type TargetClassCstChildren = {
  FOR: IToken[];
  CLASS?: (IToken)[];
  index?: NumberCstNode[];
  label?: IToken[];
  PREDICTED?: IToken[];
};

export interface PatchClauseCstNode extends CstNode {
  name: "patchClause";
  children: PatchClauseCstChildren;
}

export type PatchClauseCstChildren = {
  PATCH: IToken[];
  width: NumberCstNode[];
  By?: IToken[];
  height?: NumberCstNode[];
};

export interface ColorClauseCstNode extends CstNode {
  name: "colorClause";
  children: ColorClauseCstChildren;
}

export type ColorClauseCstChildren = {
  COLOR: IToken[];
  GRAY?: IToken[];
  BLACK?: IToken[];
  MEAN?: IToken[];
  rgb?: NumberListCstNode[];
};

export interface StrideClauseCstNode extends CstNode {
  name: "strideClause";
  children: StrideClauseCstChildren;
}

export type StrideClauseCstChildren = {
  STRIDE: IToken[];
  x: NumberCstNode[];
  By?: IToken[];
  y?: NumberCstNode[];
};

export interface RegionClauseCstNode extends CstNode {
  name: "regionClause";
  children: RegionClauseCstChildren;
}

export type RegionClauseCstChildren = {
  REGION: IToken[];
  numberList: NumberListCstNode[];
  IN?: IToken[];
  IMAGE?: IToken[];
  MODEL?: IToken[];
  PIXELS?: IToken[];
};

export interface QualityClauseCstNode extends CstNode {
  name: "qualityClause";
  children: QualityClauseCstChildren;
}

export type QualityClauseCstChildren = {
  QUALITY: IToken[];
  SSIM: IToken[];
  GreaterEqual: IToken[];
  target: NumberCstNode[];
};

export interface TuneClauseCstNode extends CstNode {
  name: "tuneClause";
  children: TuneClauseCstChildren;
}

export type TuneClauseCstChildren = {
  TUNE: IToken[];
  ON: IToken[];
  sample: NumberCstNode[];
  IMAGES?: IToken[];
  IMAGE?: IToken[];
};

export interface RetuneClauseCstNode extends CstNode {
  name: "retuneClause";
  children: RetuneClauseCstChildren;
}

export type RetuneClauseCstChildren = {
  RETUNE: IToken[];
};

export interface VerifyClauseCstNode extends CstNode {
  name: "verifyClause";
  children: VerifyClauseCstChildren;
}

export type VerifyClauseCstChildren = {
  VERIFY: IToken[];
  percent: NumberCstNode[];
  Percent: IToken[];
};

export interface StrategyClauseCstNode extends CstNode {
  name: "strategyClause";
  children: StrategyClauseCstChildren;
}

export type StrategyClauseCstChildren = {
  STRATEGY: IToken[];
  AUTO?: IToken[];
  withoutPart?: WithoutPartCstNode[];
  NAIVE?: IToken[];
  drilldownPart?: (DrilldownPartCstNode)[];
  INCREMENTAL?: IToken[];
  thresholdPart?: ThresholdPartCstNode[];
};

export interface WithoutPartCstNode extends CstNode {
  name: "withoutPart";
  children: WithoutPartCstChildren;
}

export type WithoutPartCstChildren = {
  WITHOUT: IToken[];
  candidateName: CandidateNameCstNode[];
  Comma?: IToken[];
};

export interface CandidateNameCstNode extends CstNode {
  name: "candidateName";
  children: CandidateNameCstChildren;
}

export type CandidateNameCstChildren = {
  NAIVE?: IToken[];
  INCREMENTAL?: IToken[];
  THRESHOLD?: IToken[];
  DRILLDOWN?: IToken[];
};

export interface ThresholdPartCstNode extends CstNode {
  name: "thresholdPart";
  children: ThresholdPartCstChildren;
}

export type ThresholdPartCstChildren = {
  THRESHOLD: IToken[];
  threshold: NumberCstNode[];
};

export interface DrilldownPartCstNode extends CstNode {
  name: "drilldownPart";
  children: DrilldownPartCstChildren;
}

export type DrilldownPartCstChildren = {
  DRILLDOWN: IToken[];
  strideClause: StrideClauseCstNode[];
  FRACTION: IToken[];
  fraction: NumberCstNode[];
};

export interface RenderClauseCstNode extends CstNode {
  name: "renderClause";
  children: RenderClauseCstChildren;
}

export type RenderClauseCstChildren = {
  RENDER: IToken[];
  TO: IToken[];
  directory: IToken[];
  SCALE?: IToken[];
  ABSOLUTE?: IToken[];
  IMAGE?: IToken[];
  QUERY?: IToken[];
};

export interface IntoClauseCstNode extends CstNode {
  name: "intoClause";
  children: IntoClauseCstChildren;
}

export type IntoClauseCstChildren = {
  INTO: IToken[];
  name: NameCstNode[];
  Dot?: IToken[];
};

export interface LoadDicomCstNode extends CstNode {
  name: "loadDicom";
  children: LoadDicomCstChildren;
}

export type LoadDicomCstChildren = {
  LOAD: IToken[];
  DICOM: IToken[];
  imageSource: ImageSourceCstNode[];
  intoClause: IntoClauseCstNode[];
  DEIDENTIFY?: IToken[];
};

export interface NameCstNode extends CstNode {
  name: "name";
  children: NameCstChildren;
}

export type NameCstChildren = {
  Identifier?: IToken[];
  QuotedIdentifier?: IToken[];
};

export interface NumberCstNode extends CstNode {
  name: "number";
  children: NumberCstChildren;
}

export type NumberCstChildren = {
  Minus?: IToken[];
  NumberLiteral: IToken[];
};

export interface NumberListCstNode extends CstNode {
  name: "numberList";
  children: NumberListCstChildren;
}

export type NumberListCstChildren = {
  LParen: IToken[];
  number: NumberCstNode[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ICstNodeVisitor<IN, OUT> extends ICstVisitor<IN, OUT> {
  statement(children: StatementCstChildren, param?: IN): OUT;
  createModel(children: CreateModelCstChildren, param?: IN): OUT;
  inputOption(children: InputOptionCstChildren, param?: IN): OUT;
  channelsOption(children: ChannelsOptionCstChildren, param?: IN): OUT;
  scaleOption(children: ScaleOptionCstChildren, param?: IN): OUT;
  normalizeOption(children: NormalizeOptionCstChildren, param?: IN): OUT;
  labelsOption(children: LabelsOptionCstChildren, param?: IN): OUT;
  outputOption(children: OutputOptionCstChildren, param?: IN): OUT;
  outputKind(children: OutputKindCstChildren, param?: IN): OUT;
  dropModel(children: DropModelCstChildren, param?: IN): OUT;
  explain(children: ExplainCstChildren, param?: IN): OUT;
  occlude(children: OccludeCstChildren, param?: IN): OUT;
  imageSource(children: ImageSourceCstChildren, param?: IN): OUT;
  pathList(children: PathListCstChildren, param?: IN): OUT;
  modelRef(children: ModelRefCstChildren, param?: IN): OUT;
  targetClass(children: TargetClassCstChildren, param?: IN): OUT;
  patchClause(children: PatchClauseCstChildren, param?: IN): OUT;
  colorClause(children: ColorClauseCstChildren, param?: IN): OUT;
  strideClause(children: StrideClauseCstChildren, param?: IN): OUT;
  regionClause(children: RegionClauseCstChildren, param?: IN): OUT;
  qualityClause(children: QualityClauseCstChildren, param?: IN): OUT;
  tuneClause(children: TuneClauseCstChildren, param?: IN): OUT;
  retuneClause(children: RetuneClauseCstChildren, param?: IN): OUT;
  verifyClause(children: VerifyClauseCstChildren, param?: IN): OUT;
  strategyClause(children: StrategyClauseCstChildren, param?: IN): OUT;
  withoutPart(children: WithoutPartCstChildren, param?: IN): OUT;
  candidateName(children: CandidateNameCstChildren, param?: IN): OUT;
  thresholdPart(children: ThresholdPartCstChildren, param?: IN): OUT;
  drilldownPart(children: DrilldownPartCstChildren, param?: IN): OUT;
  renderClause(children: RenderClauseCstChildren, param?: IN): OUT;
  intoClause(children: IntoClauseCstChildren, param?: IN): OUT;
  loadDicom(children: LoadDicomCstChildren, param?: IN): OUT;
  name(children: NameCstChildren, param?: IN): OUT;
  number(children: NumberCstChildren, param?: IN): OUT;
  numberList(children: NumberListCstChildren, param?: IN): OUT;
}
