import type { Activation, CnnGraph, PairLike } from '../cnn-graph.js';

/**
 * Activation scale: every conv is He-initialised and followed by a near-identity BatchNorm
 * (eps 0.001 as in torchvision) and ReLU, so each branch stays at its input's scale and channel
 * Concats keep it. LOGIT_GAIN sets the logits' spread to a few units (softmax max 0.04–0.26
 * at 299 px on eight photos of data/images, measured with onnxruntime-node).
 */
const LOGIT_GAIN = 1.5;

/**
 * torchvision's inception_v3 with aux_logits=False and transform_input=False: Conv2d_1a_3x3 …
 * Mixed_7c, global average pool, fc (dropout omitted: identity at inference).
 */
export function inceptionV3(net: CnnGraph, image: Activation, classes: number): Activation {
  const conv = (x: Activation, out: number, kernel: PairLike, name: string, stride = 1, padding: PairLike = 0) =>
    basicConv(net, x, out, kernel, name, stride, padding);
  let x = conv(image, 32, 3, 'Conv2d_1a_3x3', 2);
  x = conv(x, 32, 3, 'Conv2d_2a_3x3');
  x = conv(x, 64, 3, 'Conv2d_2b_3x3', 1, 1);
  x = net.maxPool(x, { kernel: 3, stride: 2 });
  x = conv(x, 80, 1, 'Conv2d_3b_1x1');
  x = conv(x, 192, 3, 'Conv2d_4a_3x3');
  x = net.maxPool(x, { kernel: 3, stride: 2 });
  x = inceptionA(net, x, 32, 'Mixed_5b');
  x = inceptionA(net, x, 64, 'Mixed_5c');
  x = inceptionA(net, x, 64, 'Mixed_5d');
  x = inceptionB(net, x, 'Mixed_6a');
  x = inceptionC(net, x, 128, 'Mixed_6b');
  x = inceptionC(net, x, 160, 'Mixed_6c');
  x = inceptionC(net, x, 160, 'Mixed_6d');
  x = inceptionC(net, x, 192, 'Mixed_6e');
  x = inceptionD(net, x, 'Mixed_7a');
  x = inceptionE(net, x, 'Mixed_7b');
  x = inceptionE(net, x, 'Mixed_7c');
  return net.linear(net.globalAvgPoolFlat(x), classes, LOGIT_GAIN, 'fc');
}

/** BasicConv2d: conv without bias, BatchNorm (eps 0.001), ReLU. */
function basicConv(
  net: CnnGraph,
  x: Activation,
  out: number,
  kernel: PairLike,
  name: string,
  stride = 1,
  padding: PairLike = 0,
): Activation {
  const y = net.conv(x, { out, kernel, stride, padding }, `${name}.conv`);
  return net.relu(net.batchNorm(y, { epsilon: 0.001 }, `${name}.bn`));
}

/** avg_pool2d(3, stride 1, pad 1), counting the padding as torch does by default. */
function poolBranch(net: CnnGraph, x: Activation, out: number, name: string): Activation {
  return basicConv(net, net.avgPool(x, { kernel: 3, stride: 1, padding: 1 }), out, 1, name);
}

function inceptionA(net: CnnGraph, x: Activation, poolFeatures: number, name: string): Activation {
  const b1 = basicConv(net, x, 64, 1, `${name}.branch1x1`);
  let b5 = basicConv(net, x, 48, 1, `${name}.branch5x5_1`);
  b5 = basicConv(net, b5, 64, 5, `${name}.branch5x5_2`, 1, 2);
  let b3 = basicConv(net, x, 64, 1, `${name}.branch3x3dbl_1`);
  b3 = basicConv(net, b3, 96, 3, `${name}.branch3x3dbl_2`, 1, 1);
  b3 = basicConv(net, b3, 96, 3, `${name}.branch3x3dbl_3`, 1, 1);
  const bp = poolBranch(net, x, poolFeatures, `${name}.branch_pool`);
  return net.concat([b1, b5, b3, bp]);
}

function inceptionB(net: CnnGraph, x: Activation, name: string): Activation {
  const b3 = basicConv(net, x, 384, 3, `${name}.branch3x3`, 2);
  let bd = basicConv(net, x, 64, 1, `${name}.branch3x3dbl_1`);
  bd = basicConv(net, bd, 96, 3, `${name}.branch3x3dbl_2`, 1, 1);
  bd = basicConv(net, bd, 96, 3, `${name}.branch3x3dbl_3`, 2);
  const bp = net.maxPool(x, { kernel: 3, stride: 2 });
  return net.concat([b3, bd, bp]);
}

/** Factorised 7×7 convolutions: kernel (1, 7) is 1 row by 7 columns, as in torch. */
function inceptionC(net: CnnGraph, x: Activation, c7: number, name: string): Activation {
  const b1 = basicConv(net, x, 192, 1, `${name}.branch1x1`);
  let b7 = basicConv(net, x, c7, 1, `${name}.branch7x7_1`);
  b7 = basicConv(net, b7, c7, [1, 7], `${name}.branch7x7_2`, 1, [0, 3]);
  b7 = basicConv(net, b7, 192, [7, 1], `${name}.branch7x7_3`, 1, [3, 0]);
  let bd = basicConv(net, x, c7, 1, `${name}.branch7x7dbl_1`);
  bd = basicConv(net, bd, c7, [7, 1], `${name}.branch7x7dbl_2`, 1, [3, 0]);
  bd = basicConv(net, bd, c7, [1, 7], `${name}.branch7x7dbl_3`, 1, [0, 3]);
  bd = basicConv(net, bd, c7, [7, 1], `${name}.branch7x7dbl_4`, 1, [3, 0]);
  bd = basicConv(net, bd, 192, [1, 7], `${name}.branch7x7dbl_5`, 1, [0, 3]);
  const bp = poolBranch(net, x, 192, `${name}.branch_pool`);
  return net.concat([b1, b7, bd, bp]);
}

function inceptionD(net: CnnGraph, x: Activation, name: string): Activation {
  let b3 = basicConv(net, x, 192, 1, `${name}.branch3x3_1`);
  b3 = basicConv(net, b3, 320, 3, `${name}.branch3x3_2`, 2);
  let b7 = basicConv(net, x, 192, 1, `${name}.branch7x7x3_1`);
  b7 = basicConv(net, b7, 192, [1, 7], `${name}.branch7x7x3_2`, 1, [0, 3]);
  b7 = basicConv(net, b7, 192, [7, 1], `${name}.branch7x7x3_3`, 1, [3, 0]);
  b7 = basicConv(net, b7, 192, 3, `${name}.branch7x7x3_4`, 2);
  const bp = net.maxPool(x, { kernel: 3, stride: 2 });
  return net.concat([b3, b7, bp]);
}

function inceptionE(net: CnnGraph, x: Activation, name: string): Activation {
  const b1 = basicConv(net, x, 320, 1, `${name}.branch1x1`);
  const b3 = basicConv(net, x, 384, 1, `${name}.branch3x3_1`);
  const b3a = basicConv(net, b3, 384, [1, 3], `${name}.branch3x3_2a`, 1, [0, 1]);
  const b3b = basicConv(net, b3, 384, [3, 1], `${name}.branch3x3_2b`, 1, [1, 0]);
  let bd = basicConv(net, x, 448, 1, `${name}.branch3x3dbl_1`);
  bd = basicConv(net, bd, 384, 3, `${name}.branch3x3dbl_2`, 1, 1);
  const bda = basicConv(net, bd, 384, [1, 3], `${name}.branch3x3dbl_3a`, 1, [0, 1]);
  const bdb = basicConv(net, bd, 384, [3, 1], `${name}.branch3x3dbl_3b`, 1, [1, 0]);
  const bp = poolBranch(net, x, 192, `${name}.branch_pool`);
  return net.concat([b1, net.concat([b3a, b3b]), net.concat([bda, bdb]), bp]);
}
