import type { Activation, CnnGraph } from '../cnn-graph.js';

/** torchvision's VGG16 (configuration D): numbers are 3×3 conv widths, 'M' a 2×2 max-pool. */
const CONFIG_D: readonly (number | 'M')[] = [
  64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M',
];

/**
 * Sets the classifier's output scale. VGG has no BatchNorm: He init keeps every conv's output at
 * about the scale of its input, and the five max-pools raise it a little each; this gain on the
 * last Linear brings the logits' spread to a few units (softmax max 0.03–0.27 on eight photos
 * of data/images, measured with onnxruntime-node).
 */
const LOGIT_GAIN = 1.25;

/**
 * VGG16: conv3×3 pad 1 + ReLU blocks, max-pools 2×2 s2, adaptive average pool to 7×7, then
 * Linear 25088→4096→4096→classes with ReLU (dropout is omitted: it is the identity at inference).
 */
export function vgg16(net: CnnGraph, image: Activation, classes: number): Activation {
  let x = image;
  let block = 1;
  let conv = 1;
  for (const item of CONFIG_D) {
    if (item === 'M') {
      x = net.maxPool(x, { kernel: 2, stride: 2 });
      block++;
      conv = 1;
    } else {
      x = net.relu(net.conv(x, { out: item, kernel: 3, padding: 1, bias: true }, `features.conv${block}_${conv++}`));
    }
  }
  x = adaptiveAvgPool(net, x, 7);
  x = net.flatten(x);
  x = net.relu(net.linear(x, 4096, 1, 'classifier.0'));
  x = net.relu(net.linear(x, 4096, 1, 'classifier.3'));
  return net.linear(x, classes, LOGIT_GAIN, 'classifier.6');
}

/**
 * torch's AdaptiveAvgPool2d(target), exactly: bin i covers rows [⌊i·F/t⌋, ⌈(i+1)·F/t⌉).
 * At F = t (VGG16 at 224) it is the identity and is left out; when t divides F it is an
 * AveragePool with kernel = stride = F/t; otherwise it is linear and separable, so two MatMuls with
 * a fixed [t, F] averaging matrix compute it (Y = A·X·Aᵀ per channel).
 */
export function adaptiveAvgPool(net: CnnGraph, x: Activation, target: number): Activation {
  if (x.height === target && x.width === target) return x;
  if (x.height === x.width && x.height % target === 0) {
    const k = x.height / target;
    return net.avgPool(x, { kernel: k, stride: k }, false);
  }
  const rows = net.weight('adaptive_pool.rows', [target, x.height], (d) => fillBins(d, target, x.height));
  const columnsT = net.weight('adaptive_pool.columns_t', [x.width, target], (d) => {
    const columns = new Float32Array(target * x.width);
    fillBins(columns, target, x.width);
    for (let i = 0; i < target; i++) for (let j = 0; j < x.width; j++) d[j * target + i] = columns[i * x.width + j];
  });
  // [t, H] · [B, C, H, W] broadcasts to [B, C, t, W]; then · [W, t] gives [B, C, t, t].
  const pooledRows = net.builder.node('MatMul', [rows, x.name]);
  const name = net.builder.node('MatMul', [pooledRows, columnsT]);
  return { name, channels: x.channels, height: target, width: target };
}

function fillBins(matrix: Float32Array, target: number, size: number): void {
  for (let i = 0; i < target; i++) {
    const start = Math.floor((i * size) / target);
    const end = Math.ceil(((i + 1) * size) / target);
    for (let j = start; j < end; j++) matrix[i * size + j] = 1 / (end - start);
  }
}
