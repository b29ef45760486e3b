import { onnx } from 'onnx-proto';
import { attr, OnnxGraphBuilder } from '../../src/zoo/onnx-graph-builder';

/** How a tiny classifier's graph ends. */
export type TinyHead =
  /** A Gemm to `classes` raw scores. */
  | 'logits'
  /** The same scores through a final Sigmoid node. */
  | 'sigmoid'
  /** The same scores through a final Softmax node. */
  | 'softmax'
  /** Two graph outputs: first 'features' (the last [batch, 4, size/2, size/2] feature map), then 'logits'. */
  | 'features-then-logits'
  /** Two graph outputs: first 'logits', then 'probabilities' (their Softmax). */
  | 'logits-then-probabilities';

export interface TinyModelOptions {
  readonly classes?: number;
  readonly head?: TinyHead;
  /** Input side (square, 3 channels); default 16. */
  readonly size?: number;
  /**
   * The class scores of a blank (all-zero) image, which the convolutions (without biases) map to
   * zero: one number for every class, or one per class. Default 0.
   */
  readonly bias?: number | readonly number[];
}

function weights(count: number, scale: number, phase = 0): Float32Array {
  return new Float32Array(count).map((_, i) => Math.sin(i * 1.7 + phase) * scale);
}

/**
 * A small CNN with a real spatial part (two 3x3 convolutions, one strided) so occlusion changes its
 * output, then global pooling and a Gemm head: what medical single-output classifiers look like.
 */
export function tinyClassifier(options: TinyModelOptions = {}): Uint8Array {
  const { classes = 3, head = 'logits', size = 16, bias = 0 } = options;
  const builder = new OnnxGraphBuilder();
  const x = builder.input('image', ['batch', 3, size, size]);
  const c1 = builder.node('Relu', [builder.node('Conv', [x, builder.initializer('w1', [6, 3, 3, 3], weights(162, 0.4)), builder.initializer('b1', [6], new Float32Array(6))], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) })]);
  const c2 = builder.node('Relu', [builder.node('Conv', [c1, builder.initializer('w2', [4, 6, 3, 3], weights(216, 0.3, 2))], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) })]);
  const pooled = builder.node('GlobalAveragePool', [c2], {}, 'pooled');
  const flat = builder.node('Flatten', [pooled]);
  const scores = builder.node('Gemm', [flat, builder.initializer('fc', [classes, 4], weights(4 * classes, 2, 3)), builder.initializer('fcb', [classes], typeof bias === 'number' ? new Float32Array(classes).fill(bias) : Float32Array.from(bias))], { transB: attr.int(1) });
  switch (head) {
    case 'logits':
      builder.output(builder.rename(scores, 'logits'), ['batch', classes]);
      break;
    case 'sigmoid':
      builder.output(builder.node('Sigmoid', [scores], {}, 'probabilities'), ['batch', classes]);
      break;
    case 'softmax':
      builder.output(builder.node('Softmax', [scores], { axis: attr.int(1) }, 'probabilities'), ['batch', classes]);
      break;
    case 'features-then-logits':
      builder.output(builder.rename(c2, 'features'), ['batch', 4, size / 2, size / 2]);
      builder.output(builder.rename(scores, 'logits'), ['batch', classes]);
      break;
    case 'logits-then-probabilities': {
      const logits = builder.rename(scores, 'logits');
      builder.output(logits, ['batch', classes]);
      builder.output(builder.node('Softmax', [logits], { axis: attr.int(1) }, 'probabilities'), ['batch', classes]);
      break;
    }
  }
  return builder.build();
}

/**
 * Moves every float initializer of a model into one external-data file, as `torch.onnx.export`
 * does for large models: the model then names `location` (relative to its own folder) and the
 * offset and length of each tensor's bytes there.
 */
export function withExternalData(bytes: Uint8Array, location: string): { model: Uint8Array; data: Uint8Array } {
  const model = onnx.ModelProto.decode(bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const tensor of model.graph!.initializer ?? []) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT || !tensor.rawData || tensor.rawData.length === 0) continue;
    const raw = tensor.rawData;
    chunks.push(raw);
    tensor.externalData = [
      onnx.StringStringEntryProto.create({ key: 'location', value: location }),
      onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
      onnx.StringStringEntryProto.create({ key: 'length', value: String(raw.length) }),
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return { model: onnx.ModelProto.encode(model).finish(), data };
}
