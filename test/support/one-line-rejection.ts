import { KryptonError } from '../../src/errors';

/** The message of the KryptonError the promise rejects with, checked to be one line; fails if it resolves. */
export async function oneLineRejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KryptonError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected a KryptonError');
}
