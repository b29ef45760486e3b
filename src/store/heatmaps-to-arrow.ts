import * as arrow from 'apache-arrow';
import { summariseHeatmap } from './heatmap-record.js';
import type { HeatmapRecord, HeatmapSummary } from './heatmap-record.js';
import { RESULTS_COLUMNS } from './results-schema.js';

/** Builds the Arrow table of results rows: columns named and ordered as RESULTS_COLUMNS. */
export function heatmapsToArrow(records: readonly HeatmapRecord[], now = new Date()): arrow.Table {
  const summaries = records.map(summariseHeatmap);
  const text = (pick: (r: HeatmapRecord) => string | null) => utf8Vector(records.map(pick));
  const int32 = (pick: (r: HeatmapRecord, i: number) => number) =>
    arrow.makeVector(Int32Array.from(records, (r, i) => checkedInt32(pick(r, i))));
  const double = (pick: (r: HeatmapRecord, s: HeatmapSummary) => number) =>
    arrow.makeVector(Float64Array.from(records, (r, i) => pick(r, summaries[i])));
  const columns: Record<string, arrow.Vector> = {
    query_id: text((r) => r.queryId),
    image_path: text((r) => r.imagePath),
    image_id: text((r) => r.imageId),
    model: text((r) => r.model),
    class_index: int32((r) => r.classIndex),
    class_label: text((r) => r.classLabel),
    base_probability: double((r) => r.baseProbability),
    patch_h: int32((r) => r.patchHeight),
    patch_w: int32((r) => r.patchWidth),
    stride_y: int32((r) => r.strideY),
    stride_x: int32((r) => r.strideX),
    strategy: text((r) => r.strategy),
    height: int32((r) => r.height),
    width: int32((r) => r.width),
    heatmap: float32Lists(records.map((r) => r.heatmap)),
    min_probability: double((_, s) => s.minProbability),
    max_drop: double((_, s) => s.maxDrop),
    max_drop_x: int32((_, i) => summaries[i].maxDropX),
    max_drop_y: int32((_, i) => summaries[i].maxDropY),
    elapsed_ms: double((r) => r.elapsedMs),
    created_at: timestamps(records.map((r) => r.createdAt ?? now)),
    origin_x: int32((r) => r.originX ?? 0),
    origin_y: int32((r) => r.originY ?? 0),
    ssim: nullableFloat64(records.map((r) => r.ssim ?? null)),
    tau: nullableFloat64(records.map((r) => r.tau ?? null)),
    coarse_stride_x: nullableInt32(records.map((r) => r.coarseStrideX ?? null)),
    coarse_stride_y: nullableInt32(records.map((r) => r.coarseStrideY ?? null)),
    drill_fraction: nullableFloat64(records.map((r) => r.drillFraction ?? null)),
    image_sha256: text((r) => r.imageSha256 ?? null),
    model_sha256: text((r) => r.modelSha256 ?? null),
    frame: int32((r) => r.frame ?? 1),
  };
  const names = Object.keys(columns);
  if (names.join() !== RESULTS_COLUMNS.map((c) => c.name).join()) {
    throw new Error('heatmapsToArrow is out of step with RESULTS_COLUMNS');
  }
  return new arrow.Table(columns);
}

function checkedInt32(value: number): number {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new Error(`${value} does not fit an INTEGER column`);
  }
  return value;
}

/** Concatenates the heatmaps into one Float32 child buffer with Int32 offsets, as Arrow lays out a list. */
export function float32Lists(lists: readonly (Float32Array | readonly number[])[]): arrow.Vector<arrow.List<arrow.Float32>> {
  const valueOffsets = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) valueOffsets[i + 1] = valueOffsets[i] + lists[i].length;
  const values = new Float32Array(valueOffsets[lists.length]);
  lists.forEach((list, i) => values.set(list, valueOffsets[i]));
  const child = arrow.makeData({ type: new arrow.Float32(), length: values.length, nullCount: 0, data: values });
  const type = new arrow.List(new arrow.Field('item', new arrow.Float32(), true));
  return arrow.makeVector(arrow.makeData({ type, length: lists.length, nullCount: 0, valueOffsets, child }));
}

const encoder = new TextEncoder();

/** Strings encoded once into a shared byte buffer, as Arrow's Utf8 layout wants them. */
export function utf8Vector(strings: readonly (string | null)[]): arrow.Vector<arrow.Utf8> {
  const valueOffsets = new Int32Array(strings.length + 1);
  const nullBitmap = new Uint8Array(Math.ceil(strings.length / 8));
  let bytes = new Uint8Array(strings.reduce((sum, s) => sum + (s?.length ?? 0), 0) * 3);
  let nullCount = 0;
  strings.forEach((text, i) => {
    let end = valueOffsets[i];
    if (text === null) {
      nullCount++;
    } else {
      nullBitmap[i >> 3] |= 1 << (i & 7);
      end += encoder.encodeInto(text, bytes.subarray(end)).written;
    }
    valueOffsets[i + 1] = end;
  });
  bytes = bytes.subarray(0, valueOffsets[strings.length]);
  const type = new arrow.Utf8();
  return arrow.makeVector(
    arrow.makeData({ type, length: strings.length, nullCount, nullBitmap, valueOffsets, data: bytes }),
  );
}

/** A nullable numeric column: values where given, the null bitmap cleared where not. */
function nullableNumbers<T extends arrow.Float64 | arrow.Int32>(
  type: T, values: readonly (number | null)[], data: Float64Array | Int32Array, check: (value: number) => number = (v) => v,
): arrow.Vector<T> {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((value, i) => {
    if (value === null) {
      nullCount++;
    } else {
      data[i] = check(value);
      nullBitmap[i >> 3] |= 1 << (i & 7);
    }
  });
  return arrow.makeVector(arrow.makeData({ type, length: values.length, nullCount, nullBitmap, data } as never)) as unknown as arrow.Vector<T>;
}

function nullableFloat64(values: readonly (number | null)[]): arrow.Vector<arrow.Float64> {
  return nullableNumbers(new arrow.Float64(), values, new Float64Array(values.length));
}

function nullableInt32(values: readonly (number | null)[]): arrow.Vector<arrow.Int32> {
  return nullableNumbers(new arrow.Int32(), values, new Int32Array(values.length), checkedInt32);
}

function timestamps(dates: readonly Date[]): arrow.Vector<arrow.TimestampMicrosecond> {
  const micros = BigInt64Array.from(dates, (d) => BigInt(d.getTime()) * 1000n);
  const type = new arrow.TimestampMicrosecond();
  return arrow.makeVector(arrow.makeData({ type, length: micros.length, nullCount: 0, data: micros }));
}
