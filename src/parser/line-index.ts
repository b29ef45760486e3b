import type { SourcePosition } from './ast.js';

/** Turns character offsets into 1-based line and column numbers of one script. */
export class LineIndex {
  /** Offsets at which each line starts. */
  private readonly lineStarts: number[] = [0];

  constructor(text: string) {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
      this.lineStarts.push(at + 1);
    }
  }

  position(offset: number): SourcePosition {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return Object.freeze({ line: low + 1, column: offset - this.lineStarts[low] + 1, offset });
  }
}
