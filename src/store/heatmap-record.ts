/** One computed heatmap, as the executor hands it to the store. The summary columns
 * (min_probability, max_drop, max_drop_x/_y) are derived from `heatmap` when the row is built. */
export interface HeatmapRecord {
  readonly queryId: string;
  readonly imagePath: string;
  /** The frame of a multi-frame file, from 1; 1 when omitted. */
  readonly frame?: number;
  readonly imageId: string;
  readonly model: string;
  readonly classIndex: number;
  readonly classLabel: string | null;
  readonly baseProbability: number;
  readonly patchHeight: number;
  readonly patchWidth: number;
  readonly strideY: number;
  readonly strideX: number;
  /** The plan that computed it: 'naive', 'incremental', 'threshold', 'drilldown+incremental', … */
  readonly strategy: string;
  /** Heatmap rows and columns. */
  readonly height: number;
  readonly width: number;
  /** height × width class probabilities, row-major. */
  readonly heatmap: Float32Array | readonly number[];
  readonly elapsedMs: number;
  /** Pixel position of cell (0, 0)'s patch; 0 when omitted. */
  readonly originX?: number;
  readonly originY?: number;
  /** SSIM against the exact heatmap, where it was measured. */
  readonly ssim?: number | null;
  /** The plan's approximation: τ of incremental plans (1 exact), drill-down's coarse stride and fraction. */
  readonly tau?: number | null;
  readonly coarseStrideX?: number | null;
  readonly coarseStrideY?: number | null;
  readonly drillFraction?: number | null;
  /** Content hashes of the image and model files it was computed from (hex SHA-256). */
  readonly imageSha256?: string | null;
  readonly modelSha256?: string | null;
  /** Defaults to the time the row is built. */
  readonly createdAt?: Date;
}

/**
 * What identifies an image among a query's rows and the executor's maps: its file and its frame
 * (1 when absent, as in rows that predate frames).
 */
export function imageKey(image: { readonly path: string; readonly frame?: number }): string {
  return `${image.path}\u0000${image.frame ?? 1}`;
}

export interface HeatmapSummary {
  readonly minProbability: number;
  readonly maxDrop: number;
  /** Pixel position (top-left) of the patch with the lowest probability. */
  readonly maxDropX: number;
  readonly maxDropY: number;
}

/** What the summary needs of a record; the CLI summarises heatmaps it never stores. */
export type SummarisedFields = Pick<HeatmapRecord, 'imagePath' | 'heatmap' | 'width' | 'height' | 'baseProbability' | 'strideX' | 'strideY' | 'originX' | 'originY'>;

export function summariseHeatmap(record: SummarisedFields): HeatmapSummary {
  const { heatmap, width, height } = record;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`heatmap of ${record.imagePath} has an invalid size ${width}×${height}`);
  }
  if (heatmap.length !== width * height) {
    throw new Error(`heatmap of ${record.imagePath} has ${heatmap.length} values, expected ${width}×${height}`);
  }
  let lowest = 0;
  let minProbability = heatmap[0];
  for (let i = 1; i < heatmap.length; i++) {
    const value = heatmap[i];
    if (value < minProbability) {
      minProbability = value;
      lowest = i;
    }
  }
  return {
    minProbability,
    maxDrop: record.baseProbability - minProbability,
    maxDropX: (record.originX ?? 0) + (lowest % width) * record.strideX,
    maxDropY: (record.originY ?? 0) + Math.floor(lowest / width) * record.strideY,
  };
}
