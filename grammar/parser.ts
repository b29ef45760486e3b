/**
 * The grammar of Krypton's statements. Each rule is a typed class field, so a mistyped SUBRULE does
 * not compile; the CST it builds is described by the generated `cst.d.ts`.
 *
 * Clause order in OCCLUDE follows the sentence it reads as: source, model, class, patch, stride.
 * The optional clauses after STRIDE and the options of CREATE MODEL may come in any order; COLOR
 * may also stand right after PATCH, which it describes. Repeats are reported by the AST builder,
 * which sees the whole statement.
 */
import { CstParser } from './chevrotain.js';
import type { IParserErrorMessageProvider } from 'chevrotain';
import * as t from './tokens.js';

export class KryptonParser extends CstParser {
  /** `validate: false` skips chevrotain's checks of the grammar (the grammar's tests build it with them). */
  constructor(errorMessageProvider?: IParserErrorMessageProvider, { validate = true }: { validate?: boolean } = {}) {
    super(t.allTokens, {
      recoveryEnabled: true,
      skipValidations: !validate,
      maxLookahead: 2,
      // Clause positions for the AST and for repeated-option errors.
      nodeLocationTracking: 'onlyOffset',
      ...(errorMessageProvider === undefined ? {} : { errorMessageProvider }),
    });
    this.performSelfAnalysis();
  }

  readonly statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.createModel) },
      { ALT: () => this.SUBRULE(this.dropModel) },
      { ALT: () => this.SUBRULE(this.occlude) },
      { ALT: () => this.SUBRULE(this.explain) },
      { ALT: () => this.SUBRULE(this.loadDicom) },
    ]);
  });

  // ---- CREATE MODEL / DROP MODEL -----------------------------------------------------------------

  readonly createModel = this.RULE('createModel', () => {
    this.CONSUME(t.Create);
    this.OPTION(() => {
      this.CONSUME(t.Or);
      this.CONSUME(t.Replace);
    });
    this.CONSUME(t.Model);
    this.SUBRULE(this.name);
    this.CONSUME(t.From);
    this.CONSUME(t.StringLiteral, { LABEL: 'file' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.inputOption) },
        { ALT: () => this.SUBRULE(this.channelsOption) },
        { ALT: () => this.SUBRULE(this.scaleOption) },
        { ALT: () => this.SUBRULE(this.normalizeOption) },
        { ALT: () => this.SUBRULE(this.labelsOption) },
        { ALT: () => this.SUBRULE(this.outputOption) },
      ]);
    });
  });

  readonly inputOption = this.RULE('inputOption', () => {
    this.CONSUME(t.Input);
    this.SUBRULE(this.number, { LABEL: 'width' });
    this.OPTION(() => {
      this.CONSUME(t.By);
      this.SUBRULE2(this.number, { LABEL: 'height' });
    });
  });

  readonly channelsOption = this.RULE('channelsOption', () => {
    this.CONSUME(t.Channels);
    this.OR([
      { ALT: () => this.CONSUME(t.Rgb) },
      { ALT: () => this.CONSUME(t.Bgr) },
      { ALT: () => this.CONSUME(t.Gray) },
    ]);
  });

  readonly scaleOption = this.RULE('scaleOption', () => {
    this.CONSUME(t.Scale);
    this.SUBRULE(this.number);
  });

  readonly normalizeOption = this.RULE('normalizeOption', () => {
    this.CONSUME(t.Normalize);
    this.OR([
      { ALT: () => this.CONSUME(t.Imagenet) },
      { ALT: () => this.CONSUME(t.None) },
      {
        ALT: () => {
          this.CONSUME(t.Mean);
          this.SUBRULE(this.numberList, { LABEL: 'mean' });
          this.CONSUME(t.Std);
          this.SUBRULE2(this.numberList, { LABEL: 'std' });
        },
      },
    ]);
  });

  readonly labelsOption = this.RULE('labelsOption', () => {
    this.CONSUME(t.Labels);
    this.CONSUME(t.StringLiteral, { LABEL: 'file' });
  });

  /** Which graph output holds the class scores (NAME), and what they are: either or both. */
  readonly outputOption = this.RULE('outputOption', () => {
    this.CONSUME(t.Output);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Name);
          this.CONSUME(t.StringLiteral, { LABEL: 'outputName' });
          this.OPTION(() => this.SUBRULE(this.outputKind));
        },
      },
      { ALT: () => this.SUBRULE2(this.outputKind) },
    ]);
  });

  readonly outputKind = this.RULE('outputKind', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.Logits) },
      { ALT: () => this.CONSUME(t.Probabilities) },
      { ALT: () => this.CONSUME(t.Sigmoid) },
    ]);
  });

  readonly dropModel = this.RULE('dropModel', () => {
    this.CONSUME(t.Drop);
    this.CONSUME(t.Model);
    this.OPTION(() => {
      this.CONSUME(t.If);
      this.CONSUME(t.Exists);
    });
    this.SUBRULE(this.name);
  });

  // ---- OCCLUDE / EXPLAIN ------------------------------------------------------------------------

  readonly explain = this.RULE('explain', () => {
    this.CONSUME(t.Explain);
    this.OPTION(() => this.CONSUME(t.Analyze));
    this.SUBRULE(this.occlude);
  });

  readonly occlude = this.RULE('occlude', () => {
    this.CONSUME(t.Occlude);
    this.SUBRULE(this.imageSource);
    this.CONSUME(t.Using);
    this.CONSUME(t.Model);
    this.SUBRULE(this.modelRef);
    this.OPTION(() => this.SUBRULE(this.targetClass));
    this.CONSUME(t.With);
    this.SUBRULE(this.patchClause);
    this.OPTION2(() => this.SUBRULE(this.colorClause));
    this.SUBRULE(this.strideClause);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE2(this.colorClause) },
        { ALT: () => this.SUBRULE(this.regionClause) },
        { ALT: () => this.SUBRULE(this.qualityClause) },
        { ALT: () => this.SUBRULE(this.tuneClause) },
        { ALT: () => this.SUBRULE(this.retuneClause) },
        { ALT: () => this.SUBRULE(this.verifyClause) },
        { ALT: () => this.SUBRULE(this.strategyClause) },
        { ALT: () => this.SUBRULE(this.renderClause) },
        { ALT: () => this.SUBRULE(this.intoClause) },
      ]);
    });
  });

  readonly imageSource = this.RULE('imageSource', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.StringLiteral, { LABEL: 'glob' }) },
      { ALT: () => this.CONSUME(t.SelectSource) },
      { ALT: () => this.SUBRULE(this.pathList) },
    ]);
  });

  readonly pathList = this.RULE('pathList', () => {
    this.CONSUME(t.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.CONSUME(t.StringLiteral, { LABEL: 'path' }) });
    this.CONSUME(t.RParen);
  });

  readonly modelRef = this.RULE('modelRef', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.name) },
      { ALT: () => this.CONSUME(t.StringLiteral, { LABEL: 'file' }) },
    ]);
  });

  readonly targetClass = this.RULE('targetClass', () => {
    this.CONSUME(t.For);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Class);
          this.OR2([
            { ALT: () => this.SUBRULE(this.number, { LABEL: 'index' }) },
            { ALT: () => this.CONSUME(t.StringLiteral, { LABEL: 'label' }) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Predicted);
          this.CONSUME2(t.Class);
        },
      },
    ]);
  });

  readonly patchClause = this.RULE('patchClause', () => {
    this.CONSUME(t.Patch);
    this.SUBRULE(this.number, { LABEL: 'width' });
    this.OPTION(() => {
      this.CONSUME(t.By);
      this.SUBRULE2(this.number, { LABEL: 'height' });
    });
  });

  readonly colorClause = this.RULE('colorClause', () => {
    this.CONSUME(t.Color);
    this.OR([
      { ALT: () => this.CONSUME(t.Gray) },
      { ALT: () => this.CONSUME(t.Black) },
      { ALT: () => this.CONSUME(t.Mean) },
      { ALT: () => this.SUBRULE(this.numberList, { LABEL: 'rgb' }) },
    ]);
  });

  readonly strideClause = this.RULE('strideClause', () => {
    this.CONSUME(t.Stride);
    this.SUBRULE(this.number, { LABEL: 'x' });
    this.OPTION(() => {
      this.CONSUME(t.By);
      this.SUBRULE2(this.number, { LABEL: 'y' });
    });
  });

  /** In model-input pixels (after resizing) unless IN IMAGE PIXELS says the source image's. */
  readonly regionClause = this.RULE('regionClause', () => {
    this.CONSUME(t.Region);
    this.SUBRULE(this.numberList);
    this.OPTION(() => {
      this.CONSUME(t.In);
      this.OR([{ ALT: () => this.CONSUME(t.Image) }, { ALT: () => this.CONSUME(t.Model) }]);
      this.CONSUME(t.Pixels);
    });
  });

  readonly qualityClause = this.RULE('qualityClause', () => {
    this.CONSUME(t.Quality);
    this.CONSUME(t.Ssim);
    this.CONSUME(t.GreaterEqual);
    this.SUBRULE(this.number, { LABEL: 'target' });
  });

  /** How many of the query's images the tuning for QUALITY samples; IMAGE reads better after 1. */
  readonly tuneClause = this.RULE('tuneClause', () => {
    this.CONSUME(t.Tune);
    this.CONSUME(t.On);
    this.SUBRULE(this.number, { LABEL: 'sample' });
    this.OR([{ ALT: () => this.CONSUME(t.Images) }, { ALT: () => this.CONSUME(t.Image) }]);
  });

  readonly retuneClause = this.RULE('retuneClause', () => {
    this.CONSUME(t.Retune);
  });

  readonly verifyClause = this.RULE('verifyClause', () => {
    this.CONSUME(t.Verify);
    this.SUBRULE(this.number, { LABEL: 'percent' });
    this.CONSUME(t.Percent);
  });

  /**
   * The plan, and what makes it approximate: AUTO chooses among the candidates not switched off;
   * NAIVE may drill down; INCREMENTAL may also cut propagation at a threshold.
   */
  readonly strategyClause = this.RULE('strategyClause', () => {
    this.CONSUME(t.Strategy);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Auto);
          this.OPTION(() => this.SUBRULE(this.withoutPart));
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Naive);
          this.OPTION2(() => this.SUBRULE(this.drilldownPart));
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Incremental);
          this.OPTION3(() => this.SUBRULE(this.thresholdPart));
          this.OPTION4(() => this.SUBRULE2(this.drilldownPart));
        },
      },
    ]);
  });

  readonly withoutPart = this.RULE('withoutPart', () => {
    this.CONSUME(t.Without);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.candidateName) });
  });

  /** The planner's candidate plans, as WITHOUT names them. */
  readonly candidateName = this.RULE('candidateName', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.Naive) },
      { ALT: () => this.CONSUME(t.Incremental) },
      { ALT: () => this.CONSUME(t.Threshold) },
      { ALT: () => this.CONSUME(t.Drilldown) },
    ]);
  });

  readonly thresholdPart = this.RULE('thresholdPart', () => {
    this.CONSUME(t.Threshold);
    this.SUBRULE(this.number, { LABEL: 'threshold' });
  });

  /** A coarse first pass at the DRILLDOWN stride, then the query's STRIDE where it matters most. */
  readonly drilldownPart = this.RULE('drilldownPart', () => {
    this.CONSUME(t.Drilldown);
    this.SUBRULE(this.strideClause);
    this.CONSUME(t.Fraction);
    this.SUBRULE(this.number, { LABEL: 'fraction' });
  });

  /** SCALE: what the overlays' colours span — the drop 0–1, each image's own range, or one range for the query. */
  readonly renderClause = this.RULE('renderClause', () => {
    this.CONSUME(t.Render);
    this.CONSUME(t.To);
    this.CONSUME(t.StringLiteral, { LABEL: 'directory' });
    this.OPTION(() => {
      this.CONSUME(t.Scale);
      this.OR([
        { ALT: () => this.CONSUME(t.Absolute) },
        { ALT: () => this.CONSUME(t.Image) },
        { ALT: () => this.CONSUME(t.Query) },
      ]);
    });
  });

  readonly intoClause = this.RULE('intoClause', () => {
    this.CONSUME(t.Into);
    this.AT_LEAST_ONE_SEP({ SEP: t.Dot, DEF: () => this.SUBRULE(this.name) });
  });

  // ---- LOAD DICOM -------------------------------------------------------------------------------

  /** One row of tags per DICOM file of the source, added to a table; DEIDENTIFY hashes or drops identifying tags. */
  readonly loadDicom = this.RULE('loadDicom', () => {
    this.CONSUME(t.Load);
    this.CONSUME(t.Dicom);
    this.SUBRULE(this.imageSource);
    this.SUBRULE(this.intoClause);
    this.OPTION(() => this.CONSUME(t.Deidentify));
  });

  // ---- shared pieces ----------------------------------------------------------------------------

  /** A plain or "quoted" identifier. */
  readonly name = this.RULE('name', () => {
    this.OR([{ ALT: () => this.CONSUME(t.Identifier) }, { ALT: () => this.CONSUME(t.QuotedIdentifier) }]);
  });

  /** Any number, signed: ranges and integrality are checked afterwards, with clearer messages. */
  readonly number = this.RULE('number', () => {
    this.OPTION(() => this.CONSUME(t.Minus));
    this.CONSUME(t.NumberLiteral);
  });

  readonly numberList = this.RULE('numberList', () => {
    this.CONSUME(t.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.number) });
    this.CONSUME(t.RParen);
  });
}
