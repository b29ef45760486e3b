/**
 * Files no one should feed an occlusion, made here in a temporary folder: truncated, empty and
 * mislabelled images, images whose headers claim billions of pixels, special files (a FIFO,
 * /dev/zero, a directory), random bytes and broken graphs as models. Each one must end in a
 * one-line error that names the problem (an image's failure in its row, the statement's error for
 * a model), never a hang, a stack trace or unbounded memory: the CLI runs them in child processes
 * that report their peak resident memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, createDeflate, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { attr, OnnxGraphBuilder } from '../../src/zoo/onnx-graph-builder';
import { CXR_MODEL, expectOneLineError, MNIST_IMAGE, ROOT } from '../cli/helpers';
import { RETINA_JPEG, seededIntegers, temporaryFolder, XRAY } from '../image/image-fixtures';

const PEAK_MEMORY_LIMIT = 2 * 1024 ** 3;
const MNIST_MODEL = join(ROOT, 'data/models/mnist.onnx');
const ROCKET_JPEG = join(ROOT, 'data/images/natural-skimage/rocket.jpg');
const CHILD = join(ROOT, 'test/support/krypton-peak-memory.js');

const temp = temporaryFolder('hostile');
const at = (name: string) => join(temp.path, name);
afterAll(() => temp.remove());

/** A PNG whose header claims width × height 8-bit gray pixels, followed by `pixelData` (by default a few bytes). */
function pngClaiming(width: number, height: number, pixelData = deflateSync(Buffer.alloc(4096))): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (gray), no interlace
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', pixelData), chunk('IEND', Buffer.alloc(0))]);
}

/** A real 8-bit gray PNG of width × height black pixels: a decompression bomb (10000² is about 100 KB). */
async function blackPng(width: number, height: number): Promise<Buffer> {
  const row = Buffer.alloc(1 + width); // filter byte 0, then the pixels
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (part: Buffer) => parts.push(part));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  return pngClaiming(width, height, Buffer.concat(parts));
}

/** A real baseline JPEG with its frame header rewritten to claim width × height. */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 90, g: 20, b: 200 } } }).jpeg().toBuffer();
  const frame = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(height, frame + 5);
  jpeg.writeUInt16BE(width, frame + 7);
  return jpeg;
}

/** A classifier graph small enough to build by hand, broken in the way `breakIt` says. */
function brokenModel(breakIt: 'missing input' | 'unsupported operator' | 'missing initializer' | 'no outputs'): Uint8Array {
  const builder = new OnnxGraphBuilder();
  const x = builder.input('x', ['batch', 1, 8, 8]);
  let y: string;
  if (breakIt === 'missing input') y = builder.node('Add', [x, 'nowhere'], {}, 'sum');
  else if (breakIt === 'unsupported operator') y = builder.node('NoSuchOperator', [x]);
  else if (breakIt === 'missing initializer') y = builder.node('Conv', [x, 'weights_never_stored'], { kernel_shape: attr.ints([3, 3]) });
  else y = builder.node('Relu', [x]);
  const pooled = builder.node('GlobalAveragePool', [y]);
  const scores = builder.node('Flatten', [pooled], {}, 'scores');
  if (breakIt !== 'no outputs') builder.output(scores, ['batch', 1]);
  return builder.build();
}

interface MeasuredRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Bytes. */
  readonly peakMemory: number;
}

/** The CLI in a child process; killed (and failed) if it runs past `timeoutMs`, as a FIFO read would. */
function runMeasured(args: readonly string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<MeasuredRun> {
  const peakFile = at(`peak-${Math.random().toString(36).slice(2)}`);
  const child = spawn(process.execPath, [CHILD, ...args], {
    cwd: ROOT,
    env: { ...process.env, KRYPTON_HISTORY: '', KRYPTON_WORKERS: '0', KRYPTON_TEST_PEAK_FILE: peakFile, KRYPTON_TEST_RSS_LIMIT: String(PEAK_MEMORY_LIMIT + 512 * 1024 ** 2), ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`krypton ${args.join(' ')} still running after ${options.timeoutMs ?? 60_000} ms: ${JSON.stringify({ stdout, stderr })}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let peakMemory = Number.NaN;
      try {
        peakMemory = Number(readFileSync(peakFile, 'utf8'));
      } catch {
        // No report: the child was killed, which the assertions on code and memory show.
      }
      resolve({ code: code ?? -1, stdout, stderr, peakMemory });
    });
  });
}

function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/internal error/);
}

const IMAGE_BYTES_CAP = '1M';

/** Each hostile image and what its row's error must say; null: it must decode. */
const IMAGES: [string, RegExp | null][] = [
  ['half.png', /is truncated or corrupt/],
  ['header-only.png', /has a corrupt or truncated header/],
  ['half.jpg', /is truncated or corrupt/],
  ['empty.png', /is empty \(0 bytes\)/],
  ['notes.png', /is not an image in a supported format/],
  ['jpeg-named.png', null],
  ['claims-30000.png', /is 30000×30000 pixels, over the limit of 100,000,000 pixels \(set KRYPTON_MAX_IMAGE_PIXELS/],
  ['claims-12000.png', /is 12000×12000 pixels, over the limit/],
  // At the pixel limit, a real bomb decodes within the memory bound.
  ['black-10000.png', null],
  ['claims-65000.jpg', /is 65000×65000 pixels, over the limit/],
  ['big.png', /is 2 MB, over the 1 MB limit \(set KRYPTON_MAX_IMAGE_BYTES to allow more\)/],
  ['fifo.png', /is a named pipe \(FIFO\), not a regular file/],
  ['folder.png', /is a directory, not a regular file/],
  ['/dev/zero', /is a character device, not a regular file/],
];

/** Each hostile model and the error CREATE MODEL must give. */
const MODELS: [string, RegExp][] = [
  ['random.onnx', /random\.onnx is not an ONNX model/],
  ['truncated.onnx', /truncated\.onnx is not an ONNX model/],
  ['missing-input.onnx', /^cannot load model .*missing-input\.onnx: .*nowhere/],
  ['unsupported-operator.onnx', /^cannot load model .*unsupported-operator\.onnx: .*NoSuchOperator/],
  ['missing-initializer.onnx', /^cannot load model .*missing-initializer\.onnx: .*weights_never_stored/],
  ['no-outputs.onnx', /no-outputs\.onnx is not an image classifier: it has no output/],
  ['too-big.onnx', /^model file .*too-big\.onnx is 2\.8 MB, over the 2 MB limit \(set KRYPTON_MAX_MODEL_BYTES to allow more\)$/],
  ['fifo.onnx', /^model file .*fifo\.onnx is a named pipe \(FIFO\), not a regular file$/],
  ['folder.onnx', /^model file .*folder\.onnx is a directory, not a regular file$/],
  ['/dev/zero', /^model file \/dev\/zero is a character device, not a regular file$/],
  // A good model with a labels file that never ends: the name closes the FROM string and opens LABELS'.
  [`${MNIST_MODEL}' LABELS '/dev/zero`, /^labels file \/dev\/zero is a character device, not a regular file$/],
];

const pathOf = (name: string) => (name.startsWith('/') ? name : at(name));

beforeAll(async () => {
  const png = readFileSync(XRAY);
  const jpeg = readFileSync(RETINA_JPEG);
  writeFileSync(at('half.png'), png.subarray(0, png.length >> 1));
  writeFileSync(at('header-only.png'), png.subarray(0, 30));
  writeFileSync(at('half.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(at('empty.png'), '');
  writeFileSync(at('notes.png'), 'patient list\nnot an image at all\n');
  copyFileSync(ROCKET_JPEG, at('jpeg-named.png'));
  writeFileSync(at('claims-30000.png'), pngClaiming(30000, 30000));
  writeFileSync(at('claims-12000.png'), pngClaiming(12000, 12000));
  writeFileSync(at('black-10000.png'), await blackPng(10000, 10000));
  writeFileSync(at('claims-65000.jpg'), await jpegClaiming(65000, 65000));
  writeFileSync(at('big.png'), Buffer.concat([png.subarray(0, 64), Buffer.alloc(2 * 1024 ** 2 - 64)]));
  mkdirSync(at('folder.png'));
  execFileSync('mkfifo', [at('fifo.png'), at('fifo.onnx')]);

  writeFileSync(at('random.onnx'), Uint8Array.from(seededIntegers(1 << 20, 256, 11)));
  const model = readFileSync(CXR_MODEL);
  writeFileSync(at('truncated.onnx'), model.subarray(0, model.length >> 1));
  writeFileSync(at('too-big.onnx'), model);
  for (const broken of ['missing input', 'unsupported operator', 'missing initializer', 'no outputs'] as const) {
    writeFileSync(at(`${broken.replace(' ', '-')}.onnx`), brokenModel(broken));
  }
  mkdirSync(at('folder.onnx'));
});

test('an OCCLUDE over hostile images reports each one as that image\'s failure and finishes the others', async () => {
  const list = [MNIST_IMAGE, ...IMAGES.map(([name]) => pathOf(name))].map((p) => `'${p}'`).join(', ');
  const run = await runMeasured(
    ['--db', ':memory:', '--json', '-c', `CREATE MODEL mnist FROM '${MNIST_MODEL}' SCALE 255 NORMALIZE NONE; OCCLUDE (${list}) USING MODEL mnist WITH PATCH 14 STRIDE 14 STRATEGY NAIVE`],
    { env: { KRYPTON_MAX_IMAGE_BYTES: IMAGE_BYTES_CAP } },
  );
  // The others are done and listed; the failures make the statement fail, in one line.
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^krypton: line 1: \d+ of \d+ images failed: /m);
  expectNoStackTrace(run.stdout + run.stderr);
  const rows = new Map(run.stdout.trim().split('\n').map((line) => JSON.parse(line)).map((row) => [row.image_path, row]));
  expect(rows.get(MNIST_IMAGE)).toMatchObject({ status: 'done', error: null });
  for (const [name, problem] of IMAGES) {
    const row = rows.get(pathOf(name));
    if (problem === null) {
      // A JPEG called .png decodes (sharp reads the content, not the name), as does the bomb at the limit.
      expect(row).toMatchObject({ status: 'done', error: null });
      continue;
    }
    expect(row).toMatchObject({ status: 'failed' });
    expect(row.error).toContain(`Image '${pathOf(name)}' `);
    expect(row.error).toMatch(problem);
    expect(row.error).not.toContain('\n');
  }
  expect(run.peakMemory).toBeLessThanOrEqual(PEAK_MEMORY_LIMIT);
});

test('every hostile model is the statement\'s one-line error, in bounded memory', async () => {
  const statements = MODELS.map(([name], i) => `CREATE MODEL hostile${i} FROM '${pathOf(name)}';`).join('\n');
  const run = await runMeasured(['--db', ':memory:'], { stdin: `${statements}\n`, env: { KRYPTON_MAX_MODEL_BYTES: '2M' } });
  expect(run.code).toBe(1);
  expectNoStackTrace(run.stdout + run.stderr);
  const errors = run.stderr.trimEnd().split('\n');
  expect(errors).toHaveLength(MODELS.length);
  MODELS.forEach(([, problem], i) => {
    expect(errors[i]).toMatch(/^error: /);
    expect(errors[i].slice('error: '.length)).toMatch(problem);
  });
  expect(run.peakMemory).toBeLessThanOrEqual(PEAK_MEMORY_LIMIT);
});

describe.each([
  ["OCCLUDE ('/dev/zero') USING MODEL 'MNIST' WITH PATCH 14 STRIDE 14 STRATEGY NAIVE", /Image '\/dev\/zero' is a character device, not a regular file/],
  ["CREATE MODEL z FROM '/dev/zero'", /^krypton: model file \/dev\/zero is a character device, not a regular file$/],
  ["CREATE MODEL z FROM 'FIFO.onnx'", /^krypton: model file .*fifo\.onnx is a named pipe \(FIFO\), not a regular file$/],
  ["OCCLUDE 'FIFO.png' USING MODEL 'MNIST' WITH PATCH 14 STRIDE 14 STRATEGY NAIVE", /^krypton: line 1, column 9: no images match '.*fifo\.png'$/],
])('krypton -c "%s"', (statement, problem) => {
  test('stops with one line, at once and in bounded memory', async () => {
    const sql = statement.replace("'MNIST'", `'${MNIST_MODEL}'`).replace('FIFO.', `${temp.path}/fifo.`);
    const run = await runMeasured(['--db', ':memory:', '-c', sql], { timeoutMs: 30_000 });
    if (sql.startsWith('OCCLUDE (')) {
      // Its one image failed: the row says why, and so does the statement's one-line error.
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(problem);
      expect(run.stderr).toMatch(/^krypton: 1 of 1 image failed: zero: /);
      expect(run.stderr).toMatch(problem);
    } else {
      expectOneLineError(run, problem);
    }
    expectNoStackTrace(run.stdout + run.stderr);
    expect(run.peakMemory).toBeLessThanOrEqual(PEAK_MEMORY_LIMIT);
  });
});
