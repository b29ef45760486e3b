import { SingleBar } from 'cli-progress';
import type { OcclusionProgress } from '../krypton.js';
import type { OutputStream } from './streams.js';

/**
 * How OCCLUDE reports progress on stderr: a bar with ETA on a terminal; one line per image when
 * asked for (logs of long batch runs, where a redrawn bar would be noise); otherwise nothing.
 */
export type ProgressMode = 'bar' | 'lines' | 'off';

export function progressMode(stderr: OutputStream, options: { readonly quiet?: boolean; readonly progress?: boolean }): ProgressMode {
  if (options.quiet) return 'off';
  if (stderr.isTTY) return 'bar';
  return options.progress ? 'lines' : 'off';
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
      return lineReport(stderr);
    case 'bar':
      return barReport(stderr);
  }
}

function lineReport(stderr: OutputStream): OcclusionProgressReport {
  let lastImage: string | undefined;
  return {
    onProgress(progress) {
      const image = `${progress.imagesDone}:${progress.imagePath}`;
      if (image === lastImage) return;
      lastImage = image;
      stderr.write(`occluding image ${progress.imagesDone + 1} of ${progress.images}: ${progress.imagePath}\n`);
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
  return {
    onProgress({ imagesDone, images, positionsDone, positions }) {
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
