import { cpus } from 'node:os';
import { costModel } from '../model/cost-model.js';
import { DEFAULT_FULL_FRACTION } from '../model/incremental-plan.js';
import { loadModelBytes } from '../model/load-model.js';
import { occlusionGrid } from '../model/occlusion-grid.js';
import { createSession, float32Tensor } from '../model/session.js';
import { gatherCrops } from '../operators/crops.js';
import { IncrementalOcclusion } from '../operators/incremental-inference.js';
import { NaiveOcclusion } from '../operators/naive-inference.js';
import type { OcclusionOperator } from '../operators/occlusion-task.js';
import { buildZooModel } from '../zoo/build-zoo-model.js';
import { attr, OnnxGraphBuilder } from '../zoo/onnx-graph-builder.js';

/**
 * How fast this machine runs what the operators do, measured once and kept in the database: the
 * planner turns multiply-adds and copied floats into seconds with these rates.
 */
export interface Throughput {
  /** Multiply-adds per second of whole-image inference (convolutions with their BatchNorm, ReLU, pooling…). */
  readonly fullMacsPerSecond: number;
  /** Multiply-adds per second of incremental segments on crops, their layout changes and pooling included. */
  readonly cropMacsPerSecond: number;
  /** Floats per second moved by crop gathering and pasting. */
  readonly copyFloatsPerSecond: number;
  /** Seconds of overhead per onnxruntime call. */
  readonly secondsPerCall: number;
}

export function calibrationKey(): string {
  const cores = cpus();
  return `throughput-v3/${cores[0]?.model ?? 'cpu'}/${cores.length}`;
}

function tinyConv(channels: number): Uint8Array {
  const builder = new OnnxGraphBuilder();
  const x = builder.input('x', ['batch', channels, 'h', 'w']);
  const w = builder.initializer('w', [channels, channels, 3, 3], new Float32Array(channels * channels * 9).fill(0.01));
  builder.output(builder.node('Conv', [x, w], { kernel_shape: attr.ints([3, 3]) }, 'y'), ['batch', channels, 'oh', 'ow']);
  return builder.build();
}

async function median(times: number, run: () => Promise<unknown> | unknown): Promise<number> {
  await run();
  const seconds: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await run();
    seconds.push((performance.now() - start) / 1000);
  }
  seconds.sort((a, b) => a - b);
  return seconds[Math.floor(seconds.length / 2)];
}

/**
 * A few seconds of measurements on a real network (ResNet18 at 112 px, seeded weights): whole
 * inference gives the full rate, an incremental run over 64 positions the crop rate, after
 * taking out what the cost model prices separately (layers run in full, copies, calls).
 */
export async function measureThroughput(): Promise<Throughput> {
  const call = await createSession(tinyConv(16));
  const tiny = new Float32Array(16 * 9).fill(0.5);
  const secondsPerCall = await median(21, () => call.run({ x: float32Tensor(tiny, [1, 16, 3, 3]) }));
  await call.release();

  const channels = 128;
  const clean = new Float32Array(channels * 28 * 28).fill(1);
  const region = { height: 10, width: 10, tops: new Int32Array(32).fill(9), lefts: new Int32Array(32).fill(9) };
  const changed = { data: new Float32Array(32 * channels * 100), region };
  const geometry = { height: 12, width: 12, tops: new Int32Array(32).fill(8), lefts: new Int32Array(32).fill(8) };
  const into = new Float32Array(32 * channels * 144);
  const copySeconds = await median(5, () => gatherCrops(clean, { channels, height: 28, width: 28 }, changed, geometry, 0, into));
  const copyFloatsPerSecond = into.length / copySeconds;

  const size = 112;
  const model = await loadModelBytes(buildZooModel('resnet18', { input: size, classes: 10, seed: 7 }), 'calibration network');
  const side = 16 + 7 * 8;
  const start = (size - side) / 2;
  const grid = occlusionGrid({ image: { width: size, height: size }, patch: { width: 16, height: 16 }, stride: { x: 8, y: 8 }, region: { x: start, y: start, width: side, height: side } });
  const positions = grid.columns * grid.rows;
  const input = new Float32Array(3 * size * size).map((_, i) => Math.sin(i / 37));
  const task = { input, patchValues: new Float32Array(3), target: 'predicted' as const, batchSize: 16 };
  const perPosition = async (operator: OcclusionOperator) => {
    try {
      return (await median(3, () => operator.run(task))) / positions;
    } finally {
      await operator.release();
    }
  };
  const naiveSeconds = await perPosition(await NaiveOcclusion.create(model, grid));
  const incrementalSeconds = await perPosition(await IncrementalOcclusion.create(model, grid));

  const cost = costModel(model.graph, { width: 16, height: 16 }, { fullFraction: DEFAULT_FULL_FRACTION });
  const fullMacsPerSecond = cost.totalFullMacs / naiveSeconds;
  const pricedElsewhere = (cost.totalFullMacs / fullMacsPerSecond) / positions // the clean pass
    + (cost.totalIncrementalMacs - cost.regionMacs) / fullMacsPerSecond
    + cost.copiedFloats / copyFloatsPerSecond
    + ((cost.segments + 1) * secondsPerCall) / task.batchSize;
  const cropMacsPerSecond = cost.regionMacs / Math.max(incrementalSeconds - pricedElsewhere, incrementalSeconds * 0.1);
  return { fullMacsPerSecond, cropMacsPerSecond, copyFloatsPerSecond, secondsPerCall };
}
