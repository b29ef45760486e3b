import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliStreams } from '../../src/cli/streams.js';

export const ROOT = resolve(__dirname, '../..');
export const data = (path: string) => join(ROOT, 'data', path);

export const CXR_MODEL = data('models/cxr-appa-squeezenet1.1.onnx');
export const CXR_LABELS = data('models/cxr-appa-labels.txt');
export const XRAYS = data('images/chest-xray-hannover/png');
export const XRAY_METADATA = data('images/chest-xray-hannover/metadata.csv');
/** Three X-rays of the bundled forty. */
export const SOME_XRAYS = ['00870a9c', '0578e08b', '073a8f93'].map((id) => join(XRAYS, `${id}.png`));

export const CREATE_CXR = `CREATE MODEL cxr FROM '${CXR_MODEL}' CHANNELS GRAY SCALE 255 NORMALIZE NONE LABELS '${CXR_LABELS}'`;
export const CREATE_MNIST = `CREATE MODEL mnist FROM '${data('models/mnist.onnx')}' SCALE 255 NORMALIZE NONE`;
export const MNIST_IMAGE = data('images/natural-winml/mnist_28.png');

export const sqlList = (paths: readonly string[]) => `(${paths.map((p) => `'${p}'`).join(', ')})`;

/** A fresh folder per test file, removed afterwards. */
export function useTempDir(): () => string {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'krypton-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that collects what is written, optionally pretending to be a terminal. */
export function capture(tty = false): PassThrough & { readonly text: () => string; isTTY?: boolean; columns?: number } {
  const stream = new PassThrough() as PassThrough & { text: () => string; isTTY?: boolean; columns?: number };
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  if (tty) {
    stream.isTTY = true;
    stream.columns = 100;
  }
  return stream;
}

/** `krypton …` in this process, with stdin from a string (ended) and the output captured. */
export async function runCli(argv: readonly string[], stdinText = ''): Promise<CliRun> {
  const stdin = new PassThrough();
  stdin.end(stdinText);
  const stdout = capture();
  const stderr = capture();
  const streams: CliStreams = { stdin, stdout, stderr };
  const code = await main(argv, streams);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** `node bin/krypton.js` reading the TypeScript sources (see krypton-from-source.js). */
export const FROM_SOURCE = join(__dirname, 'krypton-from-source.js');

export interface ChildRun extends CliRun {
  readonly signal: NodeJS.Signals | null;
}

/** Spawns the CLI as its own process in the repository root. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, script = FROM_SOURCE): ChildProcessWithoutNullStreams & { readonly done: Promise<ChildRun>; readonly output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, KRYPTON_HISTORY: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  const done = new Promise<ChildRun>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? -1, signal, stdout, stderr }));
  });
  return Object.assign(child, { done, output: () => ({ stdout, stderr }) });
}

export async function runChild(args: readonly string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<ChildRun> {
  const child = startCli(args, env);
  child.stdin.end(input ?? '');
  return child.done;
}

/** Resolves once the child's output matches, rejects if it exits first or takes too long. */
export function waitForOutput(child: ReturnType<typeof startCli>, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 60_000): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      if (pattern.test(child.output()[stream])) {
        cleanup();
        resolvePromise();
      }
    };
    const exited = () => {
      cleanup();
      reject(new Error(`exited before ${pattern}: ${JSON.stringify(child.output())}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${JSON.stringify(child.output())}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child[stream].off('data', check);
      child.off('close', exited);
    };
    child[stream].on('data', check);
    child.on('close', exited);
    check();
  });
}

/** A problem the user can fix: one `krypton: …` line, no stack trace. */
export function expectOneLineError(run: CliRun, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^krypton: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}
