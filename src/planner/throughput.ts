import type { Store } from '../store/index.js';
import { calibrationKey, measureThroughput, type Throughput } from './calibration.js';

function isThroughput(value: unknown): value is Throughput {
  const v = value as Partial<Throughput> | null;
  return !!v && [v.fullMacsPerSecond, v.cropMacsPerSecond, v.copyFloatsPerSecond, v.secondsPerCall].every((n) => typeof n === 'number' && n > 0);
}

/** This machine's rates: from the database when measured before, else measured now (a few seconds) and kept. */
export async function machineThroughput(store: Store): Promise<Throughput> {
  const key = calibrationKey();
  const stored = await store.getCalibration(key);
  if (stored && isThroughput(stored.value)) return stored.value;
  const measured = await measureThroughput();
  await store.putCalibration(key, measured);
  return measured;
}
