/**
 * Turbo (Google, 2019, Apache-2.0): a rainbow-like map with smooth, monotonic lightness steps.
 * Over grayscale X-rays its high chroma keeps every level distinguishable from the image beneath.
 * Stored as 17 of the 256 entries of the published table, as (index, r, g, b), and rebuilt by
 * linear interpolation (at most about 5 levels of 255 off the full table).
 */
const TURBO_KEYPOINTS: readonly (readonly [number, number, number, number])[] = [
  [0, 0.18995, 0.07176, 0.23217],
  [16, 0.25107, 0.25237, 0.63374],
  [32, 0.27628, 0.42118, 0.89123],
  [48, 0.25862, 0.57958, 0.99876],
  [64, 0.15844, 0.73551, 0.92305],
  [80, 0.09267, 0.86554, 0.7623],
  [96, 0.19659, 0.94901, 0.59466],
  [112, 0.42778, 0.99419, 0.38575],
  [128, 0.64362, 0.98999, 0.23356],
  [144, 0.80473, 0.92452, 0.20459],
  [160, 0.93301, 0.81236, 0.22667],
  [176, 0.99314, 0.67408, 0.20348],
  [192, 0.9836, 0.49291, 0.12849],
  [208, 0.92105, 0.31489, 0.05475],
  [224, 0.81608, 0.18462, 0.01809],
  [240, 0.66449, 0.08436, 0.00424],
  [255, 0.4796, 0.01583, 0.01055],
];

/** 256 RGB 8-bit entries, [r, g, b] at 3·i. */
export const TURBO_TABLE: Uint8Array = buildTable(TURBO_KEYPOINTS);

function buildTable(keypoints: typeof TURBO_KEYPOINTS): Uint8Array {
  const table = new Uint8Array(256 * 3);
  for (let k = 0; k + 1 < keypoints.length; k++) {
    const [from, ...low] = keypoints[k];
    const [to, ...high] = keypoints[k + 1];
    for (let i = from; i <= to; i++) {
      const f = (i - from) / (to - from);
      for (let c = 0; c < 3; c++) table[3 * i + c] = Math.round(255 * (low[c] + f * (high[c] - low[c])));
    }
  }
  return table;
}

/** Table index for t in [0, 1] (clamped; NaN counts as 0). */
export function colormapIndex(t: number): number {
  if (!(t > 0)) return 0;
  return t >= 1 ? 255 : Math.round(t * 255);
}
