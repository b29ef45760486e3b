import type { Activation, CnnGraph } from '../cnn-graph.js';

/**
 * Activation scale: no BatchNorm; He-initialised convs with ReLU keep each layer near its input's
 * scale. The final 1×1 conv is followed by ReLU and average pooling, so its gain sets the logits'
 * spread (softmax max 0.08–0.43 on eight photos
 * of data/images, measured with onnxruntime-node).
 */
const LOGIT_GAIN = 2;

/** torchvision's squeezenet1_0: conv 7×7/2 96, ceil-mode max-pools, eight Fire modules, conv 1×1 head. */
export function squeezenet(net: CnnGraph, image: Activation, classes: number): Activation {
  let x = net.relu(net.conv(image, { out: 96, kernel: 7, stride: 2, bias: true }, 'features.0'));
  x = net.maxPool(x, { kernel: 3, stride: 2, ceilMode: true });
  x = fire(net, x, 16, 64, 64, 'features.3');
  x = fire(net, x, 16, 64, 64, 'features.4');
  x = fire(net, x, 32, 128, 128, 'features.5');
  x = net.maxPool(x, { kernel: 3, stride: 2, ceilMode: true });
  x = fire(net, x, 32, 128, 128, 'features.7');
  x = fire(net, x, 48, 192, 192, 'features.8');
  x = fire(net, x, 48, 192, 192, 'features.9');
  x = fire(net, x, 64, 256, 256, 'features.10');
  x = net.maxPool(x, { kernel: 3, stride: 2, ceilMode: true });
  x = fire(net, x, 64, 256, 256, 'features.12');
  x = net.conv(x, { out: classes, kernel: 1, bias: true, gain: LOGIT_GAIN }, 'classifier.1');
  return net.globalAvgPoolFlat(net.relu(x));
}

/** Squeeze 1×1 + ReLU, then expand 1×1 and 3×3 (pad 1), each + ReLU, concatenated on channels. */
function fire(net: CnnGraph, x: Activation, squeeze: number, expand1: number, expand3: number, prefix: string): Activation {
  const s = net.relu(net.conv(x, { out: squeeze, kernel: 1, bias: true }, `${prefix}.squeeze`));
  const e1 = net.relu(net.conv(s, { out: expand1, kernel: 1, bias: true }, `${prefix}.expand1x1`));
  const e3 = net.relu(net.conv(s, { out: expand3, kernel: 3, padding: 1, bias: true }, `${prefix}.expand3x3`));
  return net.concat([e1, e3]);
}
