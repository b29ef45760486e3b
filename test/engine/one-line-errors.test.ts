import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KryptonError } from '../../src/errors';
import { open, SyntaxErrors, type Krypton } from '../../src/krypton';
import { DATA } from '../support/heatmaps';

let dir: string;
let db: Krypton;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'krypton-one-line-'));
  db = await open(join(dir, 'test.duckdb'));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<KryptonError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KryptonError);
    return error as KryptonError;
  }
  throw new Error('expected a KryptonError');
}

describe('errors users see are one line', () => {
  it('even when a path in the message holds a line break', async () => {
    const error = await rejection(db.query(`CREATE MODEL m FROM '${join(DATA, 'models/mnist.onnx')}' LABELS '${dir}/no\nsuch\r\nlabels.txt'`));
    expect(error.message).toBe(`labels file not found: ${dir}/no\\nsuch\\r\\nlabels.txt`);
    expect(new KryptonError('a\u2028b').message).toBe('a\\u2028b');
  });

  it('while a script with several syntax errors lists one per line', async () => {
    const error = await rejection(db.execute('OCCLUDE;\nDROP MODEL;'));
    expect(error).toBeInstanceOf(SyntaxErrors);
    expect(error.message.split('\n')).toEqual([
      "line 1, column 8: expected a string or '(' but found the end of the statement",
      'line 2, column 11: expected IF or a name but found the end of the statement',
    ]);
  });
});
