import type { Store } from '../store/index.js';
import { calibrationKey, measureThroughput, type Throughput } from './calibration.js';

function isThroughput(value: unknown): value is Throughput {
  const v = value as Partial<Throughput> | null;
  return !!v && [v.fullMacsPerSecond, v.cropMacsPerSecond, v.copyFloatsPerSecond, v.secondsPerCall].every((n) => typeof n === 'number' && n > 0);
}

/**
 * Rates in the range measured on 2-core x86 machines, for estimates that decide nothing (a fixed
 * STRATEGY on a machine not calibrated yet), so such a query need not spend seconds measuring.
 */
export const NOMINAL_THROUGHPUT: Throughput = Object.freeze({
  fullMacsPerSecond: 1e11, cropMacsPerSecond: 6e10, copyFloatsPerSecond: 2e9, secondsPerCall: 5e-5,
});

/** The rates measured on this machine before, if they are in the database. */
export async function storedThroughput(store: Store): Promise<Throughput | undefined> {
  const stored = await store.getCalibration(calibrationKey());
  return stored && isThroughput(stored.value) ? stored.value : undefined;
}

/** This machine's rates: from the database when measured before, else measured now (a few seconds) and kept. */
export async function machineThroughput(store: Store): Promise<Throughput> {
  const stored = await storedThroughput(store);
  if (stored) return stored;
  const measured = await measureThroughput();
  await store.putCalibration(calibrationKey(), measured);
  return measured;
}
