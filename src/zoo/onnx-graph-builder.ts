import { endianness } from 'node:os';
import { onnx } from 'onnx-proto';
import { toFloat16Array } from '../model/float16.js';

/** The floating-point type of a model's input, output and weights. */
export type ElementType = 'float32' | 'float16';

/** A tensor dimension: a fixed size or a symbolic name such as 'batch'. */
export type Dim = number | string;

/** A typed ONNX attribute value: JavaScript numbers alone cannot tell an int from a float. */
export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
} as const;

export interface GraphBuilderOptions {
  /** The default ONNX operator set: 13. */
  readonly opset?: number;
  /** The type of inputs, outputs and float initializers; float16 weights are converted on storing. */
  readonly elementType?: ElementType;
  readonly graphName?: string;
  readonly docString?: string;
}

const ELEMENT_TYPE_CODES: Record<ElementType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
};

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Builds an ONNX model graph by graph: inputs, initializers, nodes and outputs, then `build()` gives
 * the serialized model. Values are referred to by name; node outputs get unique names unless given.
 */
export class OnnxGraphBuilder {
  readonly opset: number;
  readonly elementType: ElementType;
  private readonly graphName: string;
  private readonly docString: string;
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly counters = new Map<string, number>();

  constructor(options: GraphBuilderOptions = {}) {
    this.opset = options.opset ?? 13;
    this.elementType = options.elementType ?? 'float32';
    this.graphName = options.graphName ?? 'graph';
    this.docString = options.docString ?? '';
  }

  /** A fresh value or node name starting with `prefix` (`prefix`, then `prefix_1`, `prefix_2`…). */
  uniqueName(prefix: string): string {
    let name = prefix;
    let count = this.counters.get(prefix) ?? 0;
    while (this.usedNames.has(name)) name = `${prefix}_${++count}`;
    this.counters.set(prefix, count);
    this.usedNames.add(name);
    return name;
  }

  /** Declares a graph input of the builder's element type; returns its name. */
  input(name: string, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, ELEMENT_TYPE_CODES[this.elementType], dims));
    return name;
  }

  /** Declares an existing value as a graph output of the builder's element type. */
  output(name: string, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, ELEMENT_TYPE_CODES[this.elementType], dims));
  }

  /** A float initializer, stored in the builder's element type; returns its (unique) name. */
  initializer(prefix: string, dims: readonly number[], data: Float32Array): string {
    checkSize(prefix, dims, data.length);
    const name = this.uniqueName(prefix);
    const raw = this.elementType === 'float16' ? bytesOf(toFloat16Array(data)) : bytesOf(data);
    this.initializers.push({ name, dims: [...dims], dataType: ELEMENT_TYPE_CODES[this.elementType], rawData: raw });
    return name;
  }

  /** A scalar (rank 0) float initializer, e.g. Clip's bounds. */
  scalar(prefix: string, value: number): string {
    return this.initializer(prefix, [], Float32Array.of(value));
  }

  /** An int64 initializer, e.g. the `axes` input of ReduceMean from opset 18. */
  int64Initializer(prefix: string, dims: readonly number[], data: readonly number[]): string {
    checkSize(prefix, dims, data.length);
    const name = this.uniqueName(prefix);
    const values = BigInt64Array.from(data, (v) => BigInt(v));
    this.initializers.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.INT64, rawData: bytesOf(values) });
    return name;
  }

  /**
   * Adds a node with one output and returns the output's name. An empty string among `inputs`
   * stands for an omitted optional input, as in ONNX.
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    output?: string,
  ): string {
    const nodeName = this.uniqueName(`${opType}`);
    const outputName = output === undefined ? this.uniqueName(`${nodeName}_out`) : this.claim(output);
    this.nodes.push({
      name: nodeName,
      opType,
      input: [...inputs],
      output: [outputName],
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return outputName;
  }

  /** Renames a node output everywhere it is used, e.g. to give the final value a public name. */
  rename(from: string, to: string): string {
    this.claim(to);
    for (const node of this.nodes) {
      node.input = node.input?.map((name) => (name === from ? to : name));
      node.output = node.output?.map((name) => (name === from ? to : name));
    }
    return to;
  }

  /** Number of nodes so far (for descriptions and checks). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The serialized ModelProto. */
  build(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: irVersionFor(this.opset),
      producerName: 'krypton-zoo',
      producerVersion: '0.1.0',
      docString: this.docString,
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: this.graphName,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
        node: this.nodes,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`duplicate value name '${name}'`);
    this.usedNames.add(name);
    return name;
  }
}

/** The ONNX IR version released with an operator set (opsets 7–18 shipped with IR ≤ 8). */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: AttributeValue): onnx.IAttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int':
      return { name, type: type.INT, i: value.value };
    case 'float':
      return { name, type: type.FLOAT, f: value.value };
    case 'ints':
      return { name, type: type.INTS, ints: [...value.value] };
    case 'floats':
      return { name, type: type.FLOATS, floats: [...value.value] };
    case 'string':
      return { name, type: type.STRING, s: new TextEncoder().encode(value.value) };
  }
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  const expected = dims.reduce((product, d) => product * d, 1);
  if (expected !== length) throw new Error(`initializer '${name}' has ${length} values for dims [${dims.join(', ')}]`);
}

/** The little-endian bytes of a typed array (ONNX raw_data is little-endian); no copy on LE hosts. */
function bytesOf(values: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const swapped = new Uint8Array(bytes.length);
  const width = values.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) {
    for (let j = 0; j < width; j++) swapped[i + j] = bytes[i + width - 1 - j];
  }
  return swapped;
}
