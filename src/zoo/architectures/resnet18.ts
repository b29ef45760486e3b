import type { Activation, CnnGraph } from '../cnn-graph.js';

/**
 * Activation scale: He-initialised convs and near-identity BatchNorms keep each conv's output at the
 * scale of its input, but every residual Add would double the variance (×256 over 8 blocks). The
 * last BN of each residual branch therefore has γ ≈ 0.5, so a block grows the variance by only
 * ≈ 1.25. LOGIT_GAIN then sets the logits' spread to a few units (softmax max 0.03–0.24 on
 * eight photos of data/images, measured with onnxruntime-node).
 */
const RESIDUAL_GAMMA = 0.5;
const LOGIT_GAIN = 0.5;

/** torchvision's resnet18: stem, four stages of two BasicBlocks (64, 128, 256, 512), avg pool, fc. */
export function resnet18(net: CnnGraph, image: Activation, classes: number): Activation {
  let x = net.conv(image, { out: 64, kernel: 7, stride: 2, padding: 3 }, 'conv1');
  x = net.relu(net.batchNorm(x, {}, 'bn1'));
  x = net.maxPool(x, { kernel: 3, stride: 2, padding: 1 });
  const widths = [64, 128, 256, 512];
  widths.forEach((width, stage) => {
    const stride = stage === 0 ? 1 : 2;
    x = basicBlock(net, x, width, stride, `layer${stage + 1}.0`);
    x = basicBlock(net, x, width, 1, `layer${stage + 1}.1`);
  });
  return net.linear(net.globalAvgPoolFlat(x), classes, LOGIT_GAIN, 'fc');
}

/** conv3×3(stride) BN ReLU conv3×3 BN, plus the input (through a 1×1 stride conv + BN if the shape changes), ReLU. */
function basicBlock(net: CnnGraph, x: Activation, width: number, stride: number, prefix: string): Activation {
  let y = net.conv(x, { out: width, kernel: 3, stride, padding: 1 }, `${prefix}.conv1`);
  y = net.relu(net.batchNorm(y, {}, `${prefix}.bn1`));
  y = net.conv(y, { out: width, kernel: 3, padding: 1 }, `${prefix}.conv2`);
  y = net.batchNorm(y, { gamma: RESIDUAL_GAMMA }, `${prefix}.bn2`);
  let shortcut = x;
  if (stride !== 1 || x.channels !== width) {
    shortcut = net.conv(x, { out: width, kernel: 1, stride }, `${prefix}.downsample.0`);
    shortcut = net.batchNorm(shortcut, {}, `${prefix}.downsample.1`);
  }
  return net.relu(net.add(y, shortcut));
}
