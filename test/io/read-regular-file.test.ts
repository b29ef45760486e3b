import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KryptonError } from '../../src/errors';
import { formatBytes, hashRegularFile, limitFromEnvironment, readAndHashRegularFile, readRegularFile } from '../../src/io/read-regular-file';
import type { FileCap, FileProblem } from '../../src/io/read-regular-file';
import { ModelCache } from '../../src/planner/bind-model';
import { temporaryFolder } from '../image/image-fixtures';

const temp = temporaryFolder('read-file');
const at = (name: string) => join(temp.path, name);
afterAll(() => temp.remove());
beforeAll(() => execFileSync('mkfifo', [at('pipe.onnx')]));

const cap = (maxBytes: number): FileCap => ({ maxBytes, variable: 'KRYPTON_TEST_BYTES' });
const fail = (problem: FileProblem) => new KryptonError(`file ${problem.problem}`, 'io');

async function problemOf(reading: Promise<unknown>): Promise<string> {
  const error = await reading.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(KryptonError);
  return (error as KryptonError).message;
}

describe('readAndHashRegularFile', () => {
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

  test('gives the bytes and their hash, over several read chunks (64 MB each)', async () => {
    const bytes = Buffer.alloc(64 * 1024 * 1024 + 12345);
    for (let i = 0; i < bytes.length; i += 4093) bytes[i] = i % 251;
    writeFileSync(at('two-chunks'), bytes);
    const read = await readAndHashRegularFile(at('two-chunks'), cap(bytes.length), fail);
    expect(read.bytes.equals(bytes)).toBe(true);
    expect(read.sha256).toBe(sha256(bytes));
    expect(read.stats?.size).toBe(bytes.length);
    writeFileSync(at('empty-hashed'), '');
    const empty = await readAndHashRegularFile(at('empty-hashed'), cap(10), fail);
    expect({ bytes: empty.bytes, sha256: empty.sha256 }).toEqual({ bytes: Buffer.alloc(0), sha256: sha256(Buffer.alloc(0)) });
  });

  test('refuses what readRegularFile refuses, and follows a file larger than it said', async () => {
    expect(await problemOf(readAndHashRegularFile(at('pipe.onnx'), cap(10), fail))).toBe('file is a named pipe (FIFO), not a regular file');
    writeFileSync(at('eleven'), '01234567890');
    expect(await problemOf(readAndHashRegularFile(at('eleven'), cap(10), fail))).toMatch(/^file is 11 bytes, over the 10 bytes limit/);
    if (existsSync('/proc/self/status')) {
      const read = await readAndHashRegularFile('/proc/self/status', cap(1 << 20), fail);
      expect(read.bytes.toString('latin1')).toMatch(/^Name:/);
      expect(read.sha256).toBe(sha256(read.bytes));
    }
  });
});

describe('readRegularFile', () => {
  test('reads a file up to its cap, and refuses one byte more before reading it', async () => {
    const bytes = Buffer.from('0123456789');
    writeFileSync(at('ten'), bytes);
    expect(await readRegularFile(at('ten'), cap(10), fail)).toEqual(bytes);
    expect(await problemOf(readRegularFile(at('ten'), cap(9), fail))).toBe('file is 10 bytes, over the 9 bytes limit (set KRYPTON_TEST_BYTES to allow more)');
    writeFileSync(at('empty'), '');
    expect((await readRegularFile(at('empty'), cap(10), fail)).length).toBe(0);
  });

  // /proc files say they hold 0 bytes and then give more: a file that grows while it is read.
  const procFile = '/proc/self/status';
  (existsSync(procFile) ? test : test.skip)('reads at most cap + 1 bytes of a file larger than it said', async () => {
    expect(await problemOf(readRegularFile(procFile, cap(64), fail))).toBe('file grew past the 64 bytes limit while being read (set KRYPTON_TEST_BYTES to allow more)');
    expect((await readRegularFile(procFile, cap(1 << 20), fail)).toString('latin1')).toMatch(/^Name:/);
    expect(await problemOf(hashRegularFile(procFile, cap(64), fail))).toMatch(/grew past the 64 bytes limit/);
  });

  test('names what a special file is, without opening a FIFO (which would block)', async () => {
    expect(await problemOf(readRegularFile(at('pipe.onnx'), cap(100), fail))).toBe('file is a named pipe (FIFO), not a regular file');
    expect(await problemOf(hashRegularFile(at('pipe.onnx'), cap(100), fail))).toBe('file is a named pipe (FIFO), not a regular file');
    expect(await problemOf(readRegularFile('/dev/zero', cap(100), fail))).toBe('file is a character device, not a regular file');
    expect(await problemOf(readRegularFile(temp.path, cap(100), fail))).toBe('file is a directory, not a regular file');
    expect(await problemOf(readRegularFile(at('absent'), cap(100), fail))).toBe('file not found');
  });

  test('hashes the content it would read', async () => {
    const bytes = Buffer.alloc(3 << 20, 7);
    writeFileSync(at('three-mb'), bytes);
    expect(await hashRegularFile(at('three-mb'), cap(3 << 20), fail)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await problemOf(hashRegularFile(at('three-mb'), cap(1 << 20), fail))).toBe('file is 3 MB, over the 1 MB limit (set KRYPTON_TEST_BYTES to allow more)');
  });
});

describe('the model catalog hashes model files under the same checks', () => {
  test('a FIFO and /dev/zero are refused at once, with the model file named', async () => {
    const cache = new ModelCache();
    await expect(cache.fileHash(at('pipe.onnx'))).rejects.toThrow(`model file ${at('pipe.onnx')} is a named pipe (FIFO), not a regular file`);
    await expect(cache.fileHash('/dev/zero')).rejects.toThrow('model file /dev/zero is a character device, not a regular file');
    await expect(cache.fileHash(at('absent.onnx'))).rejects.toThrow(`model file not found: ${at('absent.onnx')}`);
    writeFileSync(at('tiny.onnx'), 'abc');
    expect(await cache.fileHash(at('tiny.onnx'))).toBe(createHash('sha256').update(readFileSync(at('tiny.onnx'))).digest('hex'));
  });
});

describe('limits from the environment', () => {
  const variable = 'KRYPTON_TEST_LIMIT';
  afterEach(() => { delete process.env[variable]; });

  test.each([
    ['', 42],
    ['1000', 1000],
    ['256M', 256 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['64 KB', 64 * 1024],
    ['512MiB', 512 * 1024 ** 2],
  ])('%j gives %d', (text, expected) => {
    process.env[variable] = text;
    expect(limitFromEnvironment(variable, 42)).toBe(expected);
  });

  test.each(['0', '-5', '1.5G', 'lots', '12T'])('%j is refused with the variable named', (text) => {
    process.env[variable] = text;
    expect(() => limitFromEnvironment(variable, 42)).toThrow(`${variable} must be a positive whole number (e.g. 268435456 or 256M), not '${text}'`);
  });

  test('sizes read as the caps are set', () => {
    expect([12, 1536, 256 * 1024 ** 2, 553 * 1024 ** 2 + 400 * 1024, 2 * 1024 ** 3].map(formatBytes)).toEqual(['12 bytes', '1.5 KB', '256 MB', '553.4 MB', '2 GB']);
  });
});
