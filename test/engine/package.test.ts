/**
 * Krypton as another project meets it: the repository is packed with `npm pack`, the tarball is
 * unpacked into a consumer's node_modules, and TypeScript files there import from 'krypton',
 * compile under strict settings without skipLibCheck, and run.
 *
 * The pack takes the repository's own build (`dist/`, which `npm ci` makes through `prepare` and
 * the CLI tests run too) rather than building a second time: `prepare` itself is proven by every
 * install, and a second full compile would cost the suite half a minute.
 *
 * Only the install's download is left out: the packed package's declared dependencies are linked
 * from this repository's node_modules (the versions its lockfile installs) instead of fetched, so
 * a dependency the package uses but does not declare is still missing, as it would be for a user.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const NODE_MODULES = realpathSync(join(ROOT, 'node_modules'));
const TSC = join(NODE_MODULES, 'typescript', 'bin', 'tsc');
const XRAY = join(ROOT, 'data/images/chest-xray-hannover/png/0578e08b.png');
const CXR_MODEL = join(ROOT, 'data/models/cxr-appa-squeezenet1.1.onnx');
const CXR_LABELS = join(ROOT, 'data/models/cxr-appa-labels.txt');

let work: string;
let consumer: string;
let packed: { filename: string; files: { path: string }[] };

/** The repository as a clone has it: tracked files and new ones git does not ignore. */
function copyCheckout(into: string): void {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
  for (const path of listed.split('\0').filter((p) => p !== '' && !p.startsWith('node_modules'))) {
    if (!existsSync(join(ROOT, path))) continue;
    mkdirSync(dirname(join(into, path)), { recursive: true });
    cpSync(join(ROOT, path), join(into, path));
  }
  symlinkSync(NODE_MODULES, join(into, 'node_modules'));
  if (!existsSync(join(ROOT, 'dist/src/index.js'))) throw new Error('dist/ is missing: `npm run build` (which `npm ci` runs) comes before the tests');
  cpSync(join(ROOT, 'dist'), join(into, 'dist'), { recursive: true });
}

/** A command's output; a failure shows what it printed (a compiler's errors, a stack). */
function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${[command, ...args].join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

function link(packageName: string, modules: string): void {
  const target = join(modules, packageName);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(NODE_MODULES, packageName), target);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'krypton-package-'));
  const checkout = join(work, 'krypton');
  copyCheckout(checkout);
  const report = run('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--pack-destination', work], checkout);
  packed = JSON.parse(report)[0];

  consumer = join(work, 'consumer');
  const installed = join(consumer, 'node_modules', 'krypton');
  mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1'], work);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  for (const dependency of Object.keys(manifest.dependencies)) link(dependency, join(consumer, 'node_modules'));
  link('@types/node', join(consumer, 'node_modules'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
    include: ['*.ts'],
  }));

  // Every consumer file is compiled in one run of the compiler: it is the slow part.
  writeFileSync(join(consumer, 'main.ts'), `
import { open, KryptonError, type OccludeOptions, type StatementResult } from 'krypton';

const db = await open(':memory:');
await db.query(\`CREATE MODEL cxr FROM '${CXR_MODEL}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${CXR_LABELS}'\`);
const options: OccludeOptions = { images: ['${XRAY}'], model: 'cxr', patch: 112, stride: 112 };
const occlusion: StatementResult = await db.occlude(options);
const refused = await db.query('SELECT * FROM no_such_table').catch((error: unknown) => error instanceof KryptonError);
console.log(JSON.stringify({ status: occlusion.rows[0].status, label: occlusion.rows[0].class_label, refused }));
await db.close();
`);
  libraryExamples('ts').forEach((code, i) => writeFileSync(join(consumer, `readme-${i + 1}.ts`), code));
  mkdirSync(join(consumer, 'models'));
  mkdirSync(join(consumer, 'scans'));
  cpSync(CXR_MODEL, join(consumer, 'models/cxr.onnx'));
  cpSync(CXR_LABELS, join(consumer, 'models/cxr-labels.txt'));
  cpSync(XRAY, join(consumer, 'scans/scan1.png'));
  cpSync(join(dirname(XRAY), '00870a9c.png'), join(consumer, 'scans/scan2.png'));
  run(process.execPath, [TSC, '-p', consumer], consumer);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the package holds the compiled library and the CLI, not the sources, tests or data', () => {
  const paths = packed.files.map((f) => f.path);
  expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/krypton.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js',
    'dist/browser/web/client/main.js', 'dist/browser/image/colormap.js']));
  expect(paths.filter((p) => /^(src|test|data|bench|demo)\/|^dist\/(test|bench)\/|\.map$/.test(p))).toEqual([]);
});

test('a strict TypeScript project imports it, compiles without skipLibCheck and runs an occlusion', () => {
  const output = run(process.execPath, [join(consumer, 'out', 'main.js')], consumer);
  expect(JSON.parse(output)).toEqual({ status: 'done', label: expect.stringMatching(/^(ap|pa)$/), refused: true });
}, 120_000);

test("the package's CLI runs from the consumer's node_modules", () => {
  const output = run(process.execPath, [join(consumer, 'node_modules/krypton/bin/krypton.js'), '--db', ':memory:', '--json', '-c', 'SELECT 41 + 1 AS answer'], consumer);
  expect(JSON.parse(output)).toEqual({ answer: 42 });
});

/** The fenced blocks of one language in the README's library paragraph, in order. */
function libraryExamples(language: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const library = readme.slice(readme.indexOf('**Library**'), readme.indexOf('## The language'));
  return [...library.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]);
}

test("the README's library examples run as written, in order, where the files they name exist", () => {
  const [install] = libraryExamples('sh');
  expect(install).toContain('npm pack');
  expect(install).toContain(`npm install ../krypton/${packed.filename}`);

  const examples = libraryExamples('ts');
  expect(examples.length).toBeGreaterThanOrEqual(2);
  const outputs = examples.map((_, i) => run(process.execPath, [join(consumer, 'out', `readme-${i + 1}.js`)], consumer));

  expect(outputs[0]).toMatch(/occluded 2 images into heatmaps \((incremental|naive)\) in [\d.]+ s/);
  expect(outputs[0]).toMatch(/image_id: 'scan1'[\s\S]*image_id: 'scan2'/);
  expect(outputs[1]).toMatch(/scan1: done, max drop [\d.]+[\s\S]*scan2: done/);
  expect(outputs[1]).toMatch(/^logical plan:$[\s\S]*^physical plan:$/m);
  expect(outputs[1]).toContain("occlude option 'stride': must be a positive integer, got 0");
}, 240_000);
