import {
  autoPadOutput,
  ceilWindowStartsInside,
  effectiveKernel,
  paddingForOutput,
  windowOutput,
} from '../../src/zoo/window-geometry.js';

describe('window geometry', () => {
  test('explicit padding, dilation and ceil mode', () => {
    expect(effectiveKernel(3, 2)).toBe(5);
    expect(windowOutput(224, 7, 2, 1, 3, 3)).toBe(112); // ResNet stem
    expect(windowOutput(112, 3, 2, 1, 1, 1)).toBe(56); // ResNet max-pool
    expect(windowOutput(109, 3, 2, 1, 0, 0, true)).toBe(54); // SqueezeNet, ceil adds nothing here
    expect(windowOutput(54, 3, 2, 1, 0, 0, false)).toBe(26);
    expect(windowOutput(54, 3, 2, 1, 0, 0, true)).toBe(27); // …and one window here
    expect(windowOutput(10, 3, 1, 3, 0, 0)).toBe(4); // dilated extent 7
    expect(windowOutput(4, 7, 1, 1, 1, 1)).toBe(0); // does not fit
  });

  test('ceil-mode windows that would start in the end padding are flagged', () => {
    expect(ceilWindowStartsInside(54, 3, 2, 1, 0, 0)).toBe(true);
    // 5 px, kernel 2, stride 2, pads 0/1: ceil gives 3 windows, the last starting at 4 (inside).
    expect(ceilWindowStartsInside(5, 2, 2, 1, 0, 1)).toBe(true);
    // 4 px, kernel 2, stride 2, pads 0/1: ceil gives 3 windows, the last starting at 4 = in the padding.
    expect(ceilWindowStartsInside(4, 2, 2, 1, 0, 1)).toBe(false);
  });

  test('auto_pad output sizes', () => {
    expect(autoPadOutput(15, 3, 2, 1, 'SAME_UPPER')).toBe(8);
    expect(autoPadOutput(15, 3, 2, 1, 'SAME_LOWER')).toBe(8);
    expect(autoPadOutput(15, 3, 2, 1, 'VALID')).toBe(7);
    expect(autoPadOutput(15, 3, 1, 3, 'VALID')).toBe(9);
  });

  test('padding for a target output size', () => {
    for (const [size, kernel, stride, dilation, target] of [
      [20, 3, 1, 1, 20], [20, 7, 1, 2, 20], [21, 5, 2, 1, 11], [20, 1, 2, 1, 10], [9, 3, 2, 3, 5],
    ]) {
      const total = paddingForOutput(size, kernel, stride, dilation, target)!;
      expect(total).toBeGreaterThanOrEqual(0);
      expect(windowOutput(size, kernel, stride, dilation, total, 0)).toBe(target);
      if (total > 0) expect(windowOutput(size, kernel, stride, dilation, total - 1, 0)).not.toBe(target);
    }
    expect(paddingForOutput(20, 1, 1, 1, 10)).toBeUndefined(); // a 1×1 stride-1 window cannot shrink
  });
});
