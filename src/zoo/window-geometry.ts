/**
 * Output-size arithmetic for sliding windows (Conv, MaxPool, AveragePool) along one axis, as
 * onnxruntime computes it, so that generated graphs know every activation's shape.
 */

export type AutoPad = 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

/** The extent of a dilated kernel: d·(k − 1) + 1. */
export function effectiveKernel(kernel: number, dilation: number): number {
  return dilation * (kernel - 1) + 1;
}

/**
 * Output size with explicit padding; 0 when even one window does not fit. With ceil_mode the last
 * partial window counts; callers avoid the case where it would start inside the end padding
 * (see `ceilWindowStartsInside`), where frameworks disagree.
 */
export function windowOutput(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  ceil = false,
): number {
  const span = size + padBegin + padEnd - effectiveKernel(kernel, dilation);
  if (span < 0) return 0;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

/** True when the last ceil-mode window starts inside the input or its begin padding. */
export function ceilWindowStartsInside(size: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number): boolean {
  const out = windowOutput(size, kernel, stride, dilation, padBegin, padEnd, true);
  return (out - 1) * stride < size + padBegin;
}

/** Output size under auto_pad: SAME_* give ⌈size / stride⌉; VALID uses no padding. */
export function autoPadOutput(size: number, kernel: number, stride: number, dilation: number, mode: AutoPad): number {
  if (mode === 'VALID') return windowOutput(size, kernel, stride, dilation, 0, 0);
  return Math.ceil(size / stride);
}

/**
 * The smallest total padding (begin + end) that makes the output exactly `target` long, or
 * undefined if no non-negative padding does (the input is too large or too small for it).
 */
export function paddingForOutput(size: number, kernel: number, stride: number, dilation: number, target: number): number | undefined {
  const lowest = (target - 1) * stride + effectiveKernel(kernel, dilation) - size;
  const highest = lowest + stride - 1;
  if (highest < 0) return undefined;
  return Math.max(lowest, 0);
}
