import { cpus } from 'node:os';
import { attr, OnnxGraphBuilder } from '../zoo/onnx-graph-builder.js';
import { createSession, float32Tensor } from '../model/session.js';
import { gatherCrops } from '../operators/crops.js';

/**
 * How fast this machine runs what the operators do, measured once and kept in the database: the
 * planner turns multiply-adds and copied floats into seconds with these rates.
 */
export interface Throughput {
  /** Conv multiply-adds per second on whole feature maps (naive inference, the tail). */
  readonly fullMacsPerSecond: number;
  /** Conv multiply-adds per second on batches of small crops (incremental segments). */
  readonly cropMacsPerSecond: number;
  /** Floats per second moved by crop gathering and pasting. */
  readonly copyFloatsPerSecond: number;
  /** Seconds of overhead per onnxruntime call. */
  readonly secondsPerCall: number;
}

export function calibrationKey(): string {
  const cores = cpus();
  return `throughput/${cores[0]?.model ?? 'cpu'}/${cores.length}`;
}

function convModel(channels: number): Uint8Array {
  const builder = new OnnxGraphBuilder();
  const x = builder.input('x', ['batch', channels, 'h', 'w']);
  const weights = new Float32Array(channels * channels * 9).map((_, i) => Math.sin(i) * 0.05);
  const w = builder.initializer('w', [channels, channels, 3, 3], weights);
  const y = builder.node('Conv', [x, w], { kernel_shape: attr.ints([3, 3]) }, 'y');
  builder.output(y, ['batch', channels, 'oh', 'ow']);
  return builder.build();
}

async function median(times: number, run: () => Promise<void> | void): Promise<number> {
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

/** About a second of measurements. */
export async function measureThroughput(): Promise<Throughput> {
  const channels = 64;
  const session = await createSession(convModel(channels));
  try {
    const fullSide = 56;
    const full = new Float32Array(4 * channels * (fullSide + 2) ** 2).fill(0.5);
    const fullSeconds = await median(5, async () => { await session.run({ x: float32Tensor(full, [4, channels, fullSide + 2, fullSide + 2]) }); });
    const fullMacs = 4 * channels * channels * 9 * fullSide * fullSide;

    const cropSide = 16;
    const crops = new Float32Array(64 * channels * (cropSide + 2) ** 2).fill(0.5);
    const cropSeconds = await median(5, async () => { await session.run({ x: float32Tensor(crops, [64, channels, cropSide + 2, cropSide + 2]) }); });
    const cropMacs = 64 * channels * channels * 9 * cropSide * cropSide;

    const tiny = new Float32Array(channels * 9).fill(0.5);
    const callSeconds = await median(21, async () => { await session.run({ x: float32Tensor(tiny, [1, channels, 3, 3]) }); });

    const clean = new Float32Array(channels * fullSide * fullSide).fill(1);
    const region = { height: cropSide, width: cropSide, tops: new Int32Array(64).fill(20), lefts: new Int32Array(64).fill(20) };
    const changed = { data: new Float32Array(64 * channels * cropSide * cropSide), region };
    const crop = { height: cropSide + 2, width: cropSide + 2, tops: new Int32Array(64).fill(19), lefts: new Int32Array(64).fill(19) };
    const into = new Float32Array(64 * channels * (cropSide + 2) ** 2);
    const copySeconds = await median(5, () => { gatherCrops(clean, { channels, height: fullSide, width: fullSide }, changed, crop, 0, into); });
    const copyFloats = 64 * channels * (cropSide + 2) ** 2;

    return {
      fullMacsPerSecond: fullMacs / fullSeconds,
      cropMacsPerSecond: cropMacs / cropSeconds,
      copyFloatsPerSecond: copyFloats / copySeconds,
      secondsPerCall: callSeconds,
    };
  } finally {
    await session.release();
  }
}
