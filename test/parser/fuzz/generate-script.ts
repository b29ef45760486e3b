import { SeededRandom } from '../../../src/zoo/seeded-random';

/**
 * Valid Krypton scripts drawn from the grammar (grammar/README.md): every statement, every clause
 * and option in every order the grammar allows, keywords in any case, comments and odd spacing
 * between tokens, sizes written every way `x` may be written, and the pass-through SQL that sits
 * between them. Every value respects the checks the parser makes, so a generated script must
 * parse without a problem.
 */
export interface ScriptWorld {
  /** A folder with no images: every source points inside it, so no OCCLUDE finds anything to run. */
  readonly missingDir: string;
  /** Where RENDER TO writes, were anything to render. */
  readonly renderDir: string;
  /** A real ONNX model, for CREATE MODEL and USING MODEL 'file'. */
  readonly modelFile: string;
  readonly labelsFile: string;
  /** Names CREATE and DROP MODEL use; the first is the model the catalog holds. */
  readonly modelNames: readonly string[];
}

export function generateScript(random: SeededRandom, world: ScriptWorld): string {
  const count = random.weighted([[1, 6], [2, 3], [3, 1]] as const);
  const statements = Array.from({ length: count }, () => statement(random, world));
  const parts: string[] = [gap(random, true)];
  statements.forEach((text, index) => {
    parts.push(text, gap(random, true));
    if (index < statements.length - 1 || random.chance(0.7)) parts.push(';', gap(random, true));
  });
  return parts.join('');
}

function statement(random: SeededRandom, world: ScriptWorld): string {
  switch (random.weighted<string>([['occlude', 5], ['explain', 2], ['create', 3], ['drop', 1], ['sql', 2]])) {
    case 'occlude':
      return occlude(random, world);
    case 'explain':
      return join(random, [kw(random, 'EXPLAIN'), ...(random.chance(0.3) ? [kw(random, 'ANALYZE')] : []), occlude(random, world)]);
    case 'create':
      return createModel(random, world);
    case 'drop':
      return join(random, [kw(random, 'DROP'), kw(random, 'MODEL'), ...(random.chance(0.5) ? [kw(random, 'IF'), kw(random, 'EXISTS')] : []), modelName(random, world)]);
    default:
      return sql(random);
  }
}

/** Statements DuckDB runs without touching any table. */
function sql(random: SeededRandom): string {
  return random.pick([
    'SELECT 42',
    "SELECT 'a;b' AS text",
    'SELECT $$ ; $$ AS dollar',
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'occlude'",
    "SET VARIABLE krypton_disabled_strategies = 'drilldown, threshold'",
    'RESET VARIABLE krypton_disabled_strategies',
    'select /* ; */ 1 -- ;\n',
    'VALUES (1), (2)',
  ]);
}

function occlude(random: SeededRandom, world: ScriptWorld): string {
  const parts = [kw(random, 'OCCLUDE'), source(random, world), kw(random, 'USING'), kw(random, 'MODEL')];
  parts.push(random.chance(0.85) ? modelName(random, world, true) : quoted(world.modelFile));
  if (random.chance(0.4)) {
    parts.push(random.chance(0.5)
      ? join(random, [kw(random, 'FOR'), kw(random, 'PREDICTED'), kw(random, 'CLASS')])
      : join(random, [kw(random, 'FOR'), kw(random, 'CLASS'), random.chance(0.7) ? integer(random, 0, 9) : quoted(random.pick(['AP', 'PA', "it''s", '猫']))]));
  }
  const stride = { x: random.int(1, 16), y: random.int(1, 16) };
  if (random.chance(0.5)) stride.y = stride.x;
  parts.push(kw(random, 'WITH'), join(random, [kw(random, 'PATCH'), size(random, random.int(1, 32), random.int(1, 32))]));
  const clauses: string[] = [];
  if (random.chance(0.3)) {
    const color = colorClause(random);
    if (random.chance(0.5)) parts.push(color);
    else clauses.push(color);
  }
  parts.push(join(random, [kw(random, 'STRIDE'), size(random, stride.x, stride.y)]));
  clauses.push(...approximation(random, stride));
  if (random.chance(0.3)) {
    const width = random.int(1, 200);
    const height = random.int(1, 200);
    clauses.push(join(random, [kw(random, 'REGION'), list(random, [integer(random, 0, 100), integer(random, 0, 100), String(width), String(height)])]));
  }
  if (random.chance(0.2)) {
    const render = [kw(random, 'RENDER'), kw(random, 'TO'), quoted(world.renderDir)];
    if (random.chance(0.5)) render.push(kw(random, 'SCALE'), kw(random, random.pick(['ABSOLUTE', 'IMAGE', 'QUERY'])));
    clauses.push(join(random, render));
  }
  if (random.chance(0.4)) clauses.push(join(random, [kw(random, 'INTO'), tableName(random)]));
  return join(random, [...parts, ...shuffle(random, clauses)]);
}

/** QUALITY with its tuning clauses, or a STRATEGY, and VERIFY only where there is an approximation. */
function approximation(random: SeededRandom, stride: { x: number; y: number }): string[] {
  const clauses: string[] = [];
  let approximate = false;
  if (random.chance(0.35)) {
    const target = random.pick(['0.9', '.95', '1', '0.5', '9e-1', '0.999']);
    approximate = Number(target) < 1;
    clauses.push(join(random, [kw(random, 'QUALITY'), kw(random, 'SSIM'), '>=', target]));
    if (random.chance(0.3)) clauses.push(join(random, [kw(random, 'TUNE'), kw(random, 'ON'), integer(random, 1, 9), kw(random, random.pick(['IMAGES', 'IMAGE']))]));
    if (random.chance(0.2)) clauses.push(kw(random, 'RETUNE'));
    if (random.chance(0.4)) clauses.push(join(random, [kw(random, 'STRATEGY'), kw(random, 'AUTO'), ...without(random)]));
  } else if (random.chance(0.6)) {
    const kind = random.pick(['AUTO', 'NAIVE', 'INCREMENTAL']);
    const strategy = [kw(random, 'STRATEGY'), kw(random, kind)];
    if (kind === 'AUTO') strategy.push(...without(random));
    if (kind === 'INCREMENTAL' && random.chance(0.5)) {
      const threshold = random.pick(['0.5', '1', '0.25', '.7']);
      approximate ||= Number(threshold) < 1;
      strategy.push(kw(random, 'THRESHOLD'), threshold);
    }
    if (kind !== 'AUTO' && random.chance(0.4)) {
      approximate = true;
      const coarse = size(random, stride.x * random.int(2, 4), stride.y * random.int(2, 4));
      strategy.push(kw(random, 'DRILLDOWN'), kw(random, 'STRIDE'), coarse, kw(random, 'FRACTION'), random.pick(['0.1', '0.25', '1', '.5']));
    }
    clauses.push(join(random, strategy));
  }
  if (approximate && random.chance(0.4)) clauses.push(join(random, [kw(random, 'VERIFY'), random.pick(['10', '2.5', '100', '50']), '%']));
  return clauses;
}

function without(random: SeededRandom): string[] {
  if (!random.chance(0.5)) return [];
  const names = shuffle(random, ['NAIVE', 'INCREMENTAL', 'THRESHOLD', 'DRILLDOWN']).slice(0, random.int(1, 3));
  return [kw(random, 'WITHOUT'), names.map((n) => kw(random, n)).join(`${gap(random)},${gap(random)}`)];
}

function source(random: SeededRandom, world: ScriptWorld): string {
  const image = (name: string) => `${world.missingDir}/${name}.png`;
  switch (random.weighted<string>([['glob', 4], ['list', 2], ['select', 3], ['nested', 1]])) {
    case 'glob':
      return quoted(`${world.missingDir}/${random.pick(['*', '**/*', 'scan_?', '[ab]*'])}.png`);
    case 'list':
      return list(random, Array.from({ length: random.int(1, 3) }, (_, i) => quoted(image(`img${i}`))));
    case 'select':
      return `(${gap(random)}${random.pick([
        `SELECT '${image('a')}' AS path, 'a' AS image_id`,
        `VALUES ('${image('b')}', 'b')`,
        `WITH t AS (SELECT '${image('c')}' AS path) SELECT path, 'c' FROM t`,
        `FROM (SELECT '${image('d')}' AS path, 'd)' AS image_id)`,
        `SELECT '${image('e')}' /* ) */ AS path -- )\n`,
        `TABLE missing_images`,
      ])}${gap(random)})`;
    default: {
      const depth = random.int(1, 6);
      return `(${'('.repeat(depth)}SELECT '${image('f')}' AS path${')'.repeat(depth)})`;
    }
  }
}

function createModel(random: SeededRandom, world: ScriptWorld): string {
  const parts = [kw(random, 'CREATE')];
  if (random.chance(0.4)) parts.push(kw(random, 'OR'), kw(random, 'REPLACE'));
  parts.push(kw(random, 'MODEL'), modelName(random, world), kw(random, 'FROM'), quoted(random.chance(0.8) ? world.modelFile : `${world.missingDir}/model.onnx`));
  const options: string[] = [];
  const channels = random.chance(0.4) ? random.pick(['RGB', 'BGR', 'GRAY']) : undefined;
  if (random.chance(0.3)) options.push(join(random, [kw(random, 'INPUT'), random.chance(0.5) ? '28' : size(random, 28, 28)]));
  if (channels) options.push(join(random, [kw(random, 'CHANNELS'), kw(random, channels)]));
  if (random.chance(0.3)) options.push(join(random, [kw(random, 'SCALE'), random.pick(['1', '255'])]));
  if (random.chance(0.4)) {
    const kind = random.pick(['IMAGENET', 'NONE', 'MEAN']);
    if (kind !== 'MEAN') {
      options.push(join(random, [kw(random, 'NORMALIZE'), kw(random, kind)]));
    } else {
      const count = channels === 'GRAY' ? 1 : channels ? 3 : random.pick([1, 3]);
      const mean = Array.from({ length: count }, () => random.pick(['0.5', '0', '-0.1', '128']));
      const std = Array.from({ length: count }, () => random.pick(['0.25', '1', '64', '1e-3']));
      options.push(join(random, [kw(random, 'NORMALIZE'), kw(random, 'MEAN'), list(random, mean), kw(random, 'STD'), list(random, std)]));
    }
  }
  if (random.chance(0.3)) options.push(join(random, [kw(random, 'LABELS'), quoted(world.labelsFile)]));
  if (random.chance(0.3)) options.push(join(random, [kw(random, 'OUTPUT'), kw(random, random.pick(['LOGITS', 'PROBABILITIES']))]));
  return join(random, [...parts, ...shuffle(random, options)]);
}

function colorClause(random: SeededRandom): string {
  const color = random.weighted<string>([['GRAY', 1], ['BLACK', 1], ['MEAN', 1], ['rgb', 2]]);
  if (color !== 'rgb') return join(random, [kw(random, 'COLOR'), kw(random, color)]);
  return join(random, [kw(random, 'COLOR'), list(random, [integer(random, 0, 255), integer(random, 0, 255), random.pick(['0', '255', '127.5'])])]);
}

function modelName(random: SeededRandom, world: ScriptWorld, existing = false): string {
  return existing && random.chance(0.8) ? world.modelNames[0] : random.pick(world.modelNames);
}

function tableName(random: SeededRandom): string {
  const name = () => random.pick(['heatmaps', 'h2', '"my results"', '"Ĥeat"', 'occlusions_v2', 'xray', '"on"']);
  return random.chance(0.2) ? `main.${name()}` : name();
}

/** `w x h` in any of the ways the grammar allows, or one number for a square. */
function size(random: SeededRandom, width: number, height: number): string {
  if (width === height && random.chance(0.5)) return String(width);
  return `${width}${random.pick([' x ', 'x', 'X', '×', ' × ', ' X '])}${height}`;
}

function list(random: SeededRandom, items: readonly string[]): string {
  return `(${gap(random)}${items.join(`${gap(random)},${gap(random)}`)}${gap(random)})`;
}

function integer(random: SeededRandom, low: number, high: number): string {
  return String(random.int(low, high));
}

function quoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A keyword in upper, lower or mixed case. */
function kw(random: SeededRandom, word: string): string {
  const style = random.weighted<string>([['upper', 6], ['lower', 3], ['mixed', 1]]);
  if (style === 'upper') return word;
  if (style === 'lower') return word.toLowerCase();
  return [...word].map((c) => (random.chance(0.5) ? c.toLowerCase() : c)).join('');
}

function join(random: SeededRandom, parts: readonly string[]): string {
  return parts.map((part, index) => (index === 0 ? part : `${gap(random, true)}${part}`)).join('');
}

/** Space between tokens: mostly one blank, sometimes newlines, tabs or comments (block comments nest). */
function gap(random: SeededRandom, required = false): string {
  const kind = random.weighted<string>([['space', 20], ['none', required ? 0 : 10], ['newline', 3], ['tab', 1], ['block', 1], ['nested', 1], ['line', 1]]);
  switch (kind) {
    case 'space':
      return ' ';
    case 'none':
      return '';
    case 'newline':
      return '\n  ';
    case 'tab':
      return '\t';
    case 'block':
      return ' /* ; ) */ ';
    case 'nested':
      return ' /* a /* b; */ c */ ';
    default:
      return " -- ; 'x\n";
  }
}

function shuffle<T>(random: SeededRandom, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
