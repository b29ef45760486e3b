import { batchMemoryBudget, chooseBatchSize } from '../../src/operators/occlusion-task.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;

describe('batch size', () => {
  test('the memory for a batch follows the machine: a sixteenth of it, a quarter of what is free, 256 MB to 2 GB', () => {
    expect(batchMemoryBudget(24 * GB, 20 * GB)).toBe(1.5 * GB);
    expect(batchMemoryBudget(24 * GB, 2 * GB)).toBe(512 * MB);
    expect(batchMemoryBudget(2 * GB, 1 * GB)).toBe(256 * MB);
    expect(batchMemoryBudget(256 * GB, 200 * GB)).toBe(2 * GB);
  });

  test('as many positions as fit, at least 1 and at most 64 or the grid', () => {
    expect(chooseBatchSize(110 * MB, 144, undefined, 64, 1.5 * GB)).toBe(13);
    expect(chooseBatchSize(3 * GB, 144, undefined, 64, 1.5 * GB)).toBe(1);
    expect(chooseBatchSize(1 * MB, 144, undefined, 64, 1.5 * GB)).toBe(64);
    expect(chooseBatchSize(1 * MB, 20, undefined, 64, 1.5 * GB)).toBe(20);
    expect(chooseBatchSize(1 * MB, 144, undefined, 16, 1.5 * GB)).toBe(16);
  });

  test('a requested size is taken as given, up to the grid', () => {
    expect(chooseBatchSize(3 * GB, 144, 16)).toBe(16);
    expect(chooseBatchSize(1, 10, 16)).toBe(10);
    expect(() => chooseBatchSize(1, 10, 0)).toThrow('batch size must be a positive integer, got 0');
  });
});
