import type { onnx } from 'onnx-proto';
import { toNumber } from './onnx-tensors.js';

/** One ONNX node, in topological order. */
export interface GraphNode {
  readonly id: number;
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** '' marks an absent optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly proto: onnx.INodeProto;
}

export type AttributeValue = number | number[] | string | onnx.ITensorProto | undefined;

/** Ops whose output changes from run to run even on constant inputs: never folded. */
const NON_DETERMINISTIC = new Set(['RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

/**
 * The graph of a model with the bookkeeping every analysis needs: producers, consumers, constants
 * (initializers and whatever is computed from them alone) and the shape of every tensor at batch 1.
 */
export class ModelGraph {
  readonly nodes: readonly GraphNode[];
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly initializers = new Map<string, onnx.ITensorProto>();
  /** Tensors that do not depend on the image: initializers, Constant outputs, and nodes over them. */
  readonly constants = new Set<string>();

  constructor(
    readonly model: onnx.IModelProto,
    readonly inputName: string,
    readonly outputName: string,
    /** Shapes at batch 1, as onnxruntime computed them on a probe run. */
    readonly shapes: ReadonlyMap<string, readonly number[]>,
  ) {
    const graph = model.graph!;
    for (const init of graph.initializer ?? []) this.initializers.set(init.name!, init);
    this.nodes = topologicalOrder(graph.node ?? [], new Set([inputName, ...this.initializers.keys()]));
    for (const node of this.nodes) {
      for (const output of node.outputs) if (output) this.producer.set(output, node);
      for (const input of node.inputs) {
        if (!input) continue;
        const list = this.consumers.get(input) ?? [];
        list.push(node);
        this.consumers.set(input, list);
      }
    }
    for (const name of this.initializers.keys()) this.constants.add(name);
    for (const node of this.nodes) {
      if (NON_DETERMINISTIC.has(node.opType)) continue;
      if (node.inputs.every((i) => !i || this.constants.has(i))) {
        for (const output of node.outputs) if (output) this.constants.add(output);
      }
    }
  }

  get opset(): number {
    const entry = (this.model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
    return entry ? toNumber(entry.version) : 1;
  }

  shapeOf(tensor: string): readonly number[] | undefined {
    return this.shapes.get(tensor);
  }

  isConstant(tensor: string): boolean {
    return !tensor || this.constants.has(tensor);
  }

  /** Inputs that carry image-dependent values. */
  activationInputs(node: GraphNode): string[] {
    return node.inputs.filter((i) => i && !this.constants.has(i));
  }

  /** The constant nodes needed to compute the given constant tensors, in topological order. */
  constantNodesFor(tensors: Iterable<string>): GraphNode[] {
    const needed = new Set<GraphNode>();
    const stack = [...tensors];
    while (stack.length) {
      const name = stack.pop()!;
      if (this.initializers.has(name)) continue;
      const node = this.producer.get(name);
      if (!node || needed.has(node)) continue;
      needed.add(node);
      for (const input of node.inputs) if (input) stack.push(input);
    }
    return this.nodes.filter((n) => needed.has(n));
  }
}

/** What the attribute readers need of a node: its proto (also before a ModelGraph is built). */
export type NodeWithProto = Pick<GraphNode, 'proto'>;

export function attribute(node: NodeWithProto, name: string): AttributeValue {
  const attr = (node.proto.attribute ?? []).find((a) => a.name === name);
  if (!attr) return undefined;
  if (attr.ints && attr.ints.length) return attr.ints.map(toNumber);
  if (attr.floats && attr.floats.length) return attr.floats.slice();
  if (attr.t) return attr.t;
  if (attr.s && attr.s.length) return new TextDecoder().decode(attr.s);
  switch (attr.type) {
    case 1: return attr.f ?? 0; // FLOAT
    case 2: return toNumber(attr.i); // INT
    case 7: return []; // INTS, empty
    case 6: return []; // FLOATS, empty
    case 3: return ''; // STRING, empty
    default: return attr.f ? attr.f : toNumber(attr.i);
  }
}

export function intAttribute(node: NodeWithProto, name: string, fallback: number): number {
  const value = attribute(node, name);
  return typeof value === 'number' ? value : fallback;
}

export function intsAttribute(node: NodeWithProto, name: string): number[] | undefined {
  const value = attribute(node, name);
  return Array.isArray(value) ? value : undefined;
}

export function stringAttribute(node: NodeWithProto, name: string, fallback: string): string {
  const value = attribute(node, name);
  return typeof value === 'string' && value ? value : fallback;
}

function topologicalOrder(protos: readonly onnx.INodeProto[], available: Set<string>): GraphNode[] {
  const ready = new Set(available);
  const pending = protos.map((proto, index) => ({ proto, index }));
  const produced = new Set(protos.flatMap((p) => p.output ?? []));
  const ordered: GraphNode[] = [];
  while (pending.length) {
    const before = pending.length;
    for (let i = 0; i < pending.length; ) {
      const { proto, index } = pending[i];
      // Tensors produced by no node (e.g. optional inputs given as graph inputs) count as available.
      const inputs = proto.input ?? [];
      const blocked = inputs.some((name) => name && !ready.has(name) && produced.has(name));
      if (blocked) { i++; continue; }
      ordered.push({
        id: ordered.length,
        name: proto.name || `${proto.opType}_${index}`,
        opType: proto.opType ?? '',
        domain: proto.domain ?? '',
        inputs: inputs.slice(),
        outputs: (proto.output ?? []).slice(),
        proto,
      });
      for (const output of proto.output ?? []) ready.add(output);
      pending.splice(i, 1);
    }
    if (pending.length === before) throw new Error('the graph has a cycle');
  }
  return ordered;
}
