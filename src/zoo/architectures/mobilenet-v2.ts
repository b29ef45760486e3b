import type { Activation, CnnGraph } from '../cnn-graph.js';

/** (expansion t, output channels c, repeats n, first stride s), torchvision's table at width 1.0. */
const INVERTED_RESIDUAL_SETTINGS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * Activation scale: He init and near-identity BatchNorms; the projection BN of a block with a
 * residual Add has γ ≈ 0.5 so the sums do not grow the variance much. LOGIT_GAIN sets the logits'
 * spread to a few units (softmax max 0.09–0.20 on eight photos
 * of data/images, measured with onnxruntime-node).
 */
const RESIDUAL_GAMMA = 0.5;
const LOGIT_GAIN = 1;

/** torchvision's mobilenet_v2: conv 3×3/2 32, 17 inverted residual blocks, conv 1×1 1280, pool, Linear. */
export function mobilenetV2(net: CnnGraph, image: Activation, classes: number): Activation {
  let x = convBnRelu6(net, image, 32, 3, 2, 1, 'features.0');
  let index = 1;
  for (const [t, c, n, s] of INVERTED_RESIDUAL_SETTINGS) {
    for (let i = 0; i < n; i++) {
      x = invertedResidual(net, x, c, i === 0 ? s : 1, t, `features.${index++}`);
    }
  }
  x = convBnRelu6(net, x, 1280, 1, 1, 1, `features.${index}`);
  return net.linear(net.globalAvgPoolFlat(x), classes, LOGIT_GAIN, 'classifier.1');
}

/** Expand 1×1 (when t ≠ 1), depthwise 3×3 (group = channels), linear projection 1×1; Add when shapes allow. */
function invertedResidual(net: CnnGraph, x: Activation, out: number, stride: number, t: number, prefix: string): Activation {
  const hidden = Math.round(x.channels * t);
  const residual = stride === 1 && x.channels === out;
  let y = x;
  let layer = 0;
  if (t !== 1) y = convBnRelu6(net, y, hidden, 1, 1, 1, `${prefix}.conv.${layer++}`);
  y = convBnRelu6(net, y, hidden, 3, stride, hidden, `${prefix}.conv.${layer++}`);
  y = net.conv(y, { out, kernel: 1 }, `${prefix}.conv.${layer++}`);
  y = net.batchNorm(y, { gamma: residual ? RESIDUAL_GAMMA : 1 }, `${prefix}.conv.${layer}`);
  return residual ? net.add(x, y) : y;
}

function convBnRelu6(
  net: CnnGraph,
  x: Activation,
  out: number,
  kernel: number,
  stride: number,
  groups: number,
  prefix: string,
): Activation {
  const y = net.conv(x, { out, kernel, stride, padding: (kernel - 1) / 2, groups }, `${prefix}.0`);
  return net.relu6(net.batchNorm(y, {}, `${prefix}.1`));
}
