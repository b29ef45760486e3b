import { SingleBar } from 'cli-progress';
import type { OcclusionProgress } from '../krypton.js';
import type { OutputStream } from './streams.js';

/**
 * How OCCLUDE reports progress on stderr: a bar with ETA on a terminal; one line per image when
 * asked for (logs of long batch runs, where a redrawn bar would be noise); otherwise ('long')
 * lines only for a statement the planner expects to be long, so a log never sits silent for an
 * hour; nothing with --quiet.
 */
export type ProgressMode = 'bar' | 'lines' | 'long' | 'off';

/** Statements estimated to take longer are announced with their estimate, and report progress in logs. */
export const LONG_RUN_SECONDS = 60;
/** Within one image, a log line at most this often. */
const LINE_INTERVAL_MS = 30_000;

export function progressMode(stderr: OutputStream, options: { readonly quiet?: boolean; readonly progress?: boolean }): ProgressMode {
  if (options.quiet) return 'off';
  if (stderr.isTTY) return 'bar';
  return options.progress ? 'lines' : 'long';
}

function seconds(value: number): string {
  return value >= 3600 ? `${(value / 3600).toFixed(1)} h` : value >= 120 ? `${Math.round(value / 60)} min` : `${value.toFixed(0)} s`;
}

/** The announcement of a long statement, once, before its first image. */
function announce(stderr: OutputStream, progress: OcclusionProgress): boolean {
  const estimate = progress.estimatedSeconds;
  if (estimate === undefined || estimate < LONG_RUN_SECONDS) return false;
  stderr.write(`OCCLUDE of ${progress.images} image${progress.images === 1 ? '' : 's'} is estimated to take ${seconds(estimate)}; Ctrl-C stops it after the current batch, keeping finished images\n`);
  return true;
}

export interface OcclusionProgressReport {
  readonly onProgress: (progress: OcclusionProgress) => void;
  /** Clears the bar; call before printing anything else. */
  stop(): void;
}

/** One report per statement; it starts on the first progress event, so other statements show nothing. */
export function occlusionProgress(mode: ProgressMode, stderr: OutputStream): OcclusionProgressReport {
  switch (mode) {
    case 'off':
      return { onProgress() {}, stop() {} };
    case 'lines':
      return lineReport(stderr, false);
    case 'long':
      return lineReport(stderr, true);
    case 'bar':
      return barReport(stderr);
  }
}

/** A line per image, and every half minute within a long one; `onlyLong`: only once the statement is announced as long. */
function lineReport(stderr: OutputStream, onlyLong: boolean): OcclusionProgressReport {
  let lastImage: string | undefined;
  let lastLine = 0;
  let announced: boolean | undefined;
  return {
    onProgress(progress) {
      if (progress.tuning !== undefined) return;
      announced ??= announce(stderr, progress);
      if (onlyLong && !announced) return;
      const image = `${progress.imagesDone}:${progress.imagePath}`;
      const now = Date.now();
      if (image === lastImage) {
        if (now - lastLine < LINE_INTERVAL_MS || progress.positionsDone >= progress.positions) return;
        stderr.write(`  image ${progress.imagesDone + 1}: ${progress.positionsDone} of ${progress.positions} positions\n`);
      } else {
        stderr.write(`occluding image ${progress.imagesDone + 1} of ${progress.images}: ${progress.imagePath}\n`);
      }
      lastImage = image;
      lastLine = now;
    },
    stop() {},
  };
}

/** Progress across all images × positions, so the ETA covers the whole statement. */
function barReport(stderr: OutputStream): OcclusionProgressReport {
  const bar = new SingleBar({
    stream: stderr as NodeJS.WritableStream,
    format: 'occlude [{bar}] {percentage}% | image {image}/{images} | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  let started = false;
  let announced = false;
  return {
    onProgress(progress) {
      const { imagesDone, images, positionsDone, positions } = progress;
      if (progress.tuning !== undefined) return;
      if (!announced) {
        announced = true;
        announce(stderr, progress);
      }
      const total = Math.max(1, images * positions);
      const done = Math.min(total, imagesDone * positions + positionsDone);
      const payload = { image: Math.min(images, imagesDone + 1), images };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
