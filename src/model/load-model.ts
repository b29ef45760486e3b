import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { KryptonError, messageOf } from '../errors.js';
import { carryFileExtent, ensureFileBytes, fileWeightsOf, identityOf, noteFileBytes, noteFileWeights, type FileWeights } from './weight-files.js';
import { readModelFileBytes } from './read-model-file.js';
import { modelFileCap, readRegularFile } from '../io/read-regular-file.js';
import { ModelGraph } from './graph.js';
import { interpretOutput, notProbabilities, probabilityProblem } from './model-output.js';
import type { GraphEnding, OutputActivation, OutputKind, ProbabilityCheck } from './model-output.js';
import { DataType, int64Tensor, readIntegers, toNumber, upcastHalfTensor } from './onnx-tensors.js';
import { createSession, float32Tensor } from './session.js';
import { probeKey, readProbeFacts, writeProbeFacts, type ProbeFacts } from './probe-cache.js';
import { fusePadsIntoWindows } from './fuse-pads.js';

export interface ModelInput {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export type { OutputActivation, OutputKind } from './model-output.js';

export interface ModelOutput {
  readonly name: string;
  readonly classes: number;
  /** 'softmax': logits; 'sigmoid': one score per class; 'none': probabilities already; 'exp': log-probabilities. */
  readonly activation: OutputActivation;
  /** What CREATE MODEL records: the kind that, given again, gives this interpretation. */
  readonly kind: OutputKind;
  /** What the clean image's output must satisfy when it is used as it is. */
  readonly check: ProbabilityCheck;
  /** Every output of the graph, in order: the chosen one is `name`. */
  readonly outputs: readonly string[];
  /** What the user is told about the choice of output and activation. */
  readonly notes: readonly string[];
}

/** A model ready for occlusion: float32 throughout, symbolic batch, every tensor's shape known. */
export interface LoadedModel {
  readonly path: string;
  readonly graph: ModelGraph;
  readonly input: ModelInput;
  readonly output: ModelOutput;
  readonly storedPrecision: 'float32' | 'float16';
  /** False when the graph cannot run more than one image per call (a batch size baked into it). */
  readonly batchable: boolean;
  /** The external-data files its weights were read from (absolute paths), part of its content. */
  readonly externalData: readonly string[];
  /** SHA-256 (hex) of the model file's bytes as decoded, when it was loaded from its file. */
  readonly fileHash?: string;
}

export interface LoadModelOptions {
  /** Required when the model's input height/width are symbolic; must match when they are fixed. */
  readonly inputSize?: { readonly height: number; readonly width: number };
  /** What the output holds (OUTPUT LOGITS | PROBABILITIES | SIGMOID); read from the graph when absent. */
  readonly outputKind?: OutputKind;
  /** Which graph output is the class vector (OUTPUT NAME 'x'); the first when absent. */
  readonly outputName?: string;
}

export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { proto, externalData, fileHash } = await readModelFile(path);
  // Weights in other files are not covered by the file's hash: such models are probed every time.
  const probeCacheKey = externalData.length === 0 ? probeKey(fileHash, options) : undefined;
  return { ...(await prepareModel(path, proto, options, probeCacheKey)), externalData, fileHash };
}

/** A model already in memory (e.g. built by the zoo); `label` stands for its path in messages. */
export async function loadModelBytes(bytes: Uint8Array, label: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const proto = decodeModel(label, bytes);
  const external = externalTensors(proto)[0];
  if (external) {
    throw new KryptonError(`cannot load model ${label}: initializer '${external.name}' is in an external data file, which only a model loaded from its file can find`, 'model');
  }
  return { ...(await prepareModel(label, proto, options)), externalData: [] };
}

async function prepareModel(
  path: string, proto: onnx.ModelProto, options: LoadModelOptions, probeCacheKey?: string,
): Promise<Omit<LoadedModel, 'externalData'>> {
  const graphProto = proto.graph!;
  const initializerNames = new Set((graphProto.initializer ?? []).map((t) => t.name!));
  const realInputs = (graphProto.input ?? []).filter((i) => !initializerNames.has(i.name!));
  if (realInputs.length !== 1) {
    throw new KryptonError(
      `${path} is not an image classifier: it takes ${realInputs.length} inputs (${realInputs.map((i) => i.name).join(', ')}), not one image`,
      'model',
    );
  }
  const inputInfo = realInputs[0];
  const outputs = (graphProto.output ?? []).map((o) => o.name!);
  if (outputs.length === 0) throw new KryptonError(`${path} is not an image classifier: it has no output`, 'model');
  const outputName = options.outputName ?? outputs[0];
  const outputInfo = graphProto.output!.find((o) => o.name === outputName);
  if (!outputInfo) {
    throw new KryptonError(`${path} has no output '${outputName}' (its outputs: ${outputs.map((o) => `'${o}'`).join(', ')})`, 'model');
  }
  // Only the class vector is computed; the other outputs would cost time in every call.
  graphProto.output = [outputInfo];
  const input = describeInput(path, inputInfo, options);
  const storedPrecision = inputInfo.type?.tensorType?.elemType === DataType.FLOAT16 ? 'float16' : 'float32';

  normaliseForBatchedFloat32(proto, inputInfo.name!);
  fusePadsIntoWindows(proto);
  const known = probeCacheKey ? readProbeFacts(probeCacheKey) : undefined;
  if (known && describesGraph(known, proto, input.name)) {
    const graph = new ModelGraph(proto, input.name, outputInfo.name!, known.shapes);
    const output = describeOutput(path, graph, outputs, options);
    const problem = probabilityProblem(known.output, output.classes, 0, output.check);
    if (problem) throw notProbabilities(path, 'a blank test image', problem);
    // The rewrite is a function of the bytes: it changes the graph now exactly as it did then.
    const batchable = known.batchable || (makeReshapesBatchFree(graph) && known.rewrittenBatchable === true);
    return { path, graph, input, output, storedPrecision, batchable };
  }
  const probe = await probeModel(path, proto, input);
  // The weights stay views of the file's bytes, which sessions can map from the file itself.
  const graph = new ModelGraph(proto, input.name, outputInfo.name!, probe.shapes);
  const output = describeOutput(path, graph, outputs, options);
  const problem = probabilityProblem(probe.output, output.classes, 0, output.check);
  if (problem) throw notProbabilities(path, 'a blank test image', problem);

  let batchable = probe.batchable;
  let rewrittenBatchable: boolean | undefined;
  if (!batchable && makeReshapesBatchFree(graph)) {
    const again = await probeModel(path, proto, input);
    batchable = rewrittenBatchable = again.batchable;
  }
  if (probeCacheKey) writeProbeFacts(probeCacheKey, { shapes: probe.shapes, batchable: probe.batchable, rewrittenBatchable, output: probe.output });
  return { path, graph, input, output, storedPrecision, batchable };
}

/** Whether stored facts give a shape for the input and every tensor a node of this graph makes. */
function describesGraph(facts: ProbeFacts, proto: onnx.ModelProto, inputName: string): boolean {
  if (!facts.shapes.has(inputName)) return false;
  for (const node of proto.graph!.node ?? []) for (const name of node.output ?? []) if (name && !facts.shapes.has(name)) return false;
  return true;
}

/**
 * A loaded model as plain data (its graph's bytes after normalisation, and what the probe
 * learnt), for a worker thread to rebuild without reading or probing the file again.
 */
export interface PortableModel {
  /** The same for every portable of one loaded model, so a worker can tell a model it already holds. */
  readonly id: number;
  readonly path: string;
  /** In a SharedArrayBuffer: every worker reads the one copy the loading thread holds. */
  readonly bytes: Uint8Array;
  readonly input: ModelInput;
  readonly output: ModelOutput;
  readonly storedPrecision: LoadedModel['storedPrecision'];
  readonly batchable: boolean;
  readonly externalData: readonly string[];
  readonly shapes: readonly (readonly [string, readonly number[]])[];
  /** Where the initializers lie in the model file, for workers to map them as this thread does. */
  readonly fileWeights?: FileWeights;
}

const portables = new WeakMap<LoadedModel, PortableModel>();
let nextPortable = 0;

export function portableModel(model: LoadedModel): PortableModel {
  let portable = portables.get(model);
  if (!portable) {
    const { path, input, output, storedPrecision, batchable, externalData, graph } = model;
    // Posting a plain buffer to a worker copies it (VGG16: 553 MB per worker); a shared one is
    // the same memory in every thread. This thread's weights move into it too, so it is the only copy.
    const fileWeights = fileWeightsOf(graph.model.graph!.initializer ?? []);
    const encoded = encodedModel(graph);
    const bytes = new Uint8Array(new SharedArrayBuffer(encoded.length));
    bytes.set(encoded);
    pointWeightsAt(graph.model, decodeModel(path, bytes));
    encodedModels.set(graph.model, bytes);
    portable = { id: nextPortable++, path, bytes, input, output, storedPrecision, batchable, externalData, shapes: [...graph.shapes.entries()], fileWeights };
    portables.set(model, portable);
  }
  return portable;
}

/** The id portableModel gave this model, if it has made one. */
export function portableIdOf(model: LoadedModel): number | undefined {
  return portables.get(model)?.id;
}

export function modelFromPortable(portable: PortableModel): LoadedModel {
  const { path, bytes, input, output, storedPrecision, batchable, externalData, shapes, fileWeights } = portable;
  const proto = decodeModel(path, bytes);
  if (fileWeights) noteFileWeights(proto.graph!.initializer ?? [], fileWeights);
  encodedModels.set(proto, bytes);
  const graph = new ModelGraph(proto, input.name, output.name, new Map(shapes.map(([name, shape]) => [name, [...shape]])));
  return { path, graph, input, output, storedPrecision, batchable, externalData };
}

/** The decoded model, and the hash of the very bytes decoded. */
async function readModelFile(path: string): Promise<{ proto: onnx.ModelProto; externalData: string[]; fileHash: string }> {
  const { bytes, sha256, stats, unread } = await readModelFileBytes(path);
  // Unchanged in size while read: sessions may map its weights from the file itself.
  if (stats && stats.size === bytes.length) noteFileBytes(bytes, path, identityOf(stats), unread);
  const proto = decodeModel(path, bytes);
  return { proto, externalData: await inlineExternalData(path, proto), fileHash: sha256 };
}

/** Every tensor a model holds: its initializers and its nodes' tensor attributes (Constant values). */
function modelTensors(proto: onnx.IModelProto): onnx.ITensorProto[] {
  const graph = proto.graph!;
  const tensors = [...(graph.initializer ?? [])];
  for (const node of graph.node ?? []) for (const attr of node.attribute ?? []) if (attr.t) tensors.push(attr.t);
  return tensors;
}

/** Tensors whose bytes live in an external-data file (large models exported with torch.onnx). */
function externalTensors(proto: onnx.ModelProto): onnx.ITensorProto[] {
  return modelTensors(proto).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
}

/**
 * Reads external-data tensors into the model, resolving their locations against the model file's
 * folder (never the current one): every session Krypton builds is made from bytes, sub-models and
 * worker threads included, so the weights must travel inside the model. Like onnxruntime, only the
 * model's folder and its subfolders are read. Returns the files read.
 */
async function inlineExternalData(path: string, proto: onnx.ModelProto): Promise<string[]> {
  const folder = dirname(resolve(path));
  const files = new Map<string, Promise<Buffer>>();
  const fail = (problem: string) => new KryptonError(`cannot load model ${path}: ${problem}`, 'model');
  for (const tensor of externalTensors(proto)) {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location') ?? '';
    const what = `initializer '${tensor.name}'`;
    if (location === '') throw fail(`${what} is marked as external data but names no file`);
    if (isAbsolute(location)) {
      throw fail(`the external data location '${location}' (${what}) is an absolute path; onnxruntime reads external data only from the model's folder and below`);
    }
    const file = resolve(folder, location);
    const inside = relative(folder, file);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw fail(`the external data location '${location}' (${what}) lies outside the model's folder; onnxruntime reads external data only from the model's folder and below`);
    }
    let read = files.get(file);
    if (!read) {
      read = readRegularFile(file, modelFileCap(), (problem) => fail(`its external data file ${location} (for ${what}) ${problem.reason === 'missing' ? `is not in ${folder}` : problem.problem}`));
      read.catch(() => undefined);
      files.set(file, read);
    }
    let data: Buffer;
    try {
      data = await read;
    } catch (error) {
      if (error instanceof KryptonError) throw error;
      throw fail(`cannot read its external data file ${location} (for ${what}): ${messageOf(error)}`);
    }
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : data.length - offset;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > data.length) {
      throw fail(`its external data file ${location} has ${data.length} bytes, too few for ${what} (offset ${entries.get('offset') ?? 0}, length ${length})`);
    }
    tensor.rawData = data.subarray(offset, offset + length);
    tensor.externalData = [];
    tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return [...files.keys()];
}

function decodeModel(path: string, bytes: Uint8Array): onnx.ModelProto {
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new KryptonError(`${path} is not an ONNX model (${messageOf(error)})`, 'model');
  }
  if (!proto.graph || !proto.graph.node || proto.graph.node.length === 0) {
    throw new KryptonError(`${path} is not an ONNX model (no graph found)`, 'model');
  }
  return proto;
}

function dimValue(dim: onnx.TensorShapeProto.IDimension | undefined): number | undefined {
  if (!dim || dim.dimParam) return undefined;
  const value = toNumber(dim.dimValue);
  return value > 0 ? value : undefined;
}

function describeInput(path: string, info: onnx.IValueInfoProto, options: LoadModelOptions): ModelInput {
  const tensorType = info.type?.tensorType;
  const elemType = tensorType?.elemType;
  if (elemType !== DataType.FLOAT && elemType !== DataType.FLOAT16) {
    throw new KryptonError(`${path} is not an image classifier: its input '${info.name}' is not a float tensor`, 'model');
  }
  const dims = tensorType?.shape?.dim ?? [];
  if (dims.length !== 4) {
    throw new KryptonError(
      `${path} is not an image classifier: its input '${info.name}' has rank ${dims.length}, expected [batch, channels, height, width]`,
      'model',
    );
  }
  const channels = dimValue(dims[1]);
  if (channels === undefined || channels > 4) {
    throw new KryptonError(
      `${path} is not an NCHW image classifier: input '${info.name}' has ${channels ?? 'a symbolic number of'} channels (channels-last models are not supported)`,
      'model',
    );
  }
  const fixedHeight = dimValue(dims[2]);
  const fixedWidth = dimValue(dims[3]);
  const wanted = options.inputSize;
  if (wanted && fixedHeight !== undefined && fixedWidth !== undefined && (wanted.height !== fixedHeight || wanted.width !== fixedWidth)) {
    throw new KryptonError(
      `${path} takes ${fixedWidth}x${fixedHeight} images, not ${wanted.width}x${wanted.height}`,
      'model',
    );
  }
  const height = wanted?.height ?? fixedHeight;
  const width = wanted?.width ?? fixedWidth;
  if (height === undefined || width === undefined) {
    throw new KryptonError(`${path} has no fixed input size: give one (e.g. INPUT 224)`, 'model');
  }
  return { name: info.name!, channels, height, width };
}

/**
 * Computes in float32 (float16 weights are widened, which is exact), lets every graph input take any
 * batch size, and drops stored intermediate shapes that would pin the batch to the exported one.
 */
function normaliseForBatchedFloat32(proto: onnx.ModelProto, inputName: string): void {
  const graph = proto.graph!;
  for (const tensor of graph.initializer ?? []) upcastHalfTensor(tensor);
  for (const node of graph.node ?? []) {
    for (const attr of node.attribute ?? []) {
      if (attr.t) upcastHalfTensor(attr.t);
      if (node.opType === 'Cast' && attr.name === 'to' && toNumber(attr.i) === DataType.FLOAT16) attr.i = DataType.FLOAT;
    }
  }
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  graph.input = (graph.input ?? []).filter((i) => !initializerNames.has(i.name));
  // Since IR 4 initializers need not be graph inputs; older files list them, which blocks folding.
  if (toNumber(proto.irVersion) < 4) proto.irVersion = 4;
  for (const info of [...graph.input, ...(graph.output ?? [])]) {
    const tensorType = info.type?.tensorType;
    if (!tensorType) continue;
    if (tensorType.elemType === DataType.FLOAT16) tensorType.elemType = DataType.FLOAT;
    const dims = tensorType.shape?.dim;
    if (dims && dims.length > 0 && (info.name === inputName || graph.output!.includes(info as onnx.ValueInfoProto))) {
      dims[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
    }
  }
  graph.valueInfo = [];
}

/** The loaded models' protos as encoded once, for worker threads. */
const encodedModels = new WeakMap<onnx.IModelProto, Uint8Array>();

/** A loaded graph's model as bytes, float32 and batch-free as loaded (encoded once). */
export function encodedModel(graph: ModelGraph): Uint8Array {
  let bytes = encodedModels.get(graph.model);
  if (!bytes) {
    for (const tensor of modelTensors(graph.model)) if (tensor.rawData) ensureFileBytes(tensor.rawData);
    bytes = onnx.ModelProto.encode(graph.model as onnx.ModelProto).finish();
    pointWeightsAt(graph.model, decodeModel('the encoded model', bytes));
    encodedModels.set(graph.model, bytes);
  }
  return bytes;
}

/**
 * Makes a model's weights views of another decoding of the same model (same tensors, same order),
 * so that whatever bytes the first decoding held (the file's) can be let go: the weights are then
 * held once, in the bytes a session of the whole model is made from.
 */
function pointWeightsAt(model: onnx.IModelProto, decoded: onnx.IModelProto): void {
  const rebind = (target: onnx.ITensorProto, source: onnx.ITensorProto | null | undefined) => {
    if (target.rawData?.length && source?.rawData?.length === target.rawData.length) {
      // Still the file's bytes, so still mapped from the file.
      carryFileExtent(target.rawData, source.rawData);
      target.rawData = source.rawData;
    }
  };
  const initializers = model.graph!.initializer ?? [];
  initializers.forEach((tensor, i) => rebind(tensor, decoded.graph!.initializer?.[i]));
  (model.graph!.node ?? []).forEach((node, i) => {
    (node.attribute ?? []).forEach((attr, j) => { if (attr.t) rebind(attr.t, decoded.graph!.node?.[i]?.attribute?.[j]?.t); });
  });
}

interface ProbeResult {
  shapes: Map<string, number[]>;
  batchable: boolean;
  /** The model's output for a blank (all-zero) input. */
  output: Float32Array;
}

/**
 * Runs the model once with every tensor exposed, to learn all shapes exactly as onnxruntime sees
 * them, and checks that an image batched behind another gives the same outputs as alone.
 */
async function probeModel(path: string, proto: onnx.ModelProto, input: ModelInput): Promise<ProbeResult> {
  const graph = proto.graph!;
  const declared = new Set(graph.output!.map((o) => o.name));
  const exposed: onnx.ValueInfoProto[] = [];
  for (const node of graph.node ?? []) {
    for (const name of node.output ?? []) {
      if (name && !declared.has(name)) {
        declared.add(name);
        exposed.push(onnx.ValueInfoProto.create({ name }));
      }
    }
  }
  let session: ort.InferenceSession;
  try {
    session = await createSession({ ...proto, graph: { ...graph, output: [...graph.output!, ...exposed] } });
  } catch (error) {
    throw new KryptonError(`cannot load model ${path}: ${messageOf(error)}`, 'model');
  }
  try {
    const size = input.channels * input.height * input.width;
    const blank = new Float32Array(size);
    let single: ort.InferenceSession.OnnxValueMapType;
    try {
      single = await session.run({ [input.name]: float32Tensor(blank, [1, input.channels, input.height, input.width]) });
    } catch (error) {
      throw new KryptonError(`cannot run model ${path}: ${messageOf(error)}`, 'model');
    }
    const shapes = new Map<string, number[]>();
    for (const [name, value] of Object.entries(single)) shapes.set(name, (value as ort.Tensor).dims.slice());
    shapes.set(input.name, [1, input.channels, input.height, input.width]);
    const outputName = graph.output![0].name!;
    const batchable = await runsBatched(session, input, outputName, single[outputName] as ort.Tensor);
    return { shapes, batchable, output: (single[outputName] as ort.Tensor).data as Float32Array };
  } finally {
    await session.release();
  }
}

/**
 * Whether the blank image, second in a batch behind a different image, gives what it gives alone.
 * Any mixing of a batch's images (a batch size baked into a Reshape, statistics over the batch)
 * shows there, at the cost of one run on two images.
 */
async function runsBatched(session: ort.InferenceSession, input: ModelInput, outputName: string, blankAlone: ort.Tensor): Promise<boolean> {
  const dims = [input.channels, input.height, input.width];
  const size = input.channels * input.height * input.width;
  try {
    const both = new Float32Array(size * 2);
    for (let i = 0; i < size; i++) both[i] = ((i * 7919) % 255) / 255 - 0.5;
    const together = (await session.run({ [input.name]: float32Tensor(both, [2, ...dims]) }, [outputName]))[outputName];
    if (together.dims[0] !== 2) return false;
    const expected = blankAlone.data as Float32Array;
    const actual = together.data as Float32Array;
    if (actual.length !== expected.length * 2) return false;
    let scale = 1e-6;
    for (const v of expected) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < expected.length; i++) if (!(Math.abs(actual[expected.length + i] - expected[i]) <= 1e-4 * scale)) return false;
    return true;
  } catch (error) {
    if (process.env.KRYPTON_DEBUG) console.error(error);
    return false;
  }
}

/**
 * Exporters often bake the batch size into Reshape targets ([1, -1]); a 0 copies the input's own
 * batch dimension instead. Returns whether anything changed.
 */
function makeReshapesBatchFree(graph: ModelGraph): boolean {
  let changed = false;
  for (const node of graph.nodes) {
    if (node.opType !== 'Reshape' || graph.isConstant(node.inputs[0])) continue;
    const target = graph.initializers.get(node.inputs[1]);
    const allowZero = (node.proto.attribute ?? []).some((a) => a.name === 'allowzero' && toNumber(a.i) === 1);
    if (!target || allowZero) continue;
    const shape = readIntegers(target);
    const inputShape = graph.shapeOf(node.inputs[0]);
    if (shape.length === 0 || shape[0] !== 1 || inputShape?.[0] !== 1) continue;
    const renamed = `${target.name}__batch_free_${node.id}`;
    const replacement = int64Tensor(renamed, [shape.length], [0, ...shape.slice(1)]);
    graph.model.graph!.initializer!.push(replacement);
    graph.initializers.set(renamed, replacement);
    graph.constants.add(renamed);
    (node.proto.input as string[])[1] = renamed;
    (node.inputs as string[])[1] = renamed;
    changed = true;
  }
  return changed;
}

function isClassVector(shape: readonly number[] | undefined): boolean {
  return !!shape && shape.length >= 2 && shape[0] === 1 && shape[1] >= 1 && shape.slice(2).every((d) => d === 1);
}

function describeOutput(path: string, graph: ModelGraph, outputs: readonly string[], options: LoadModelOptions): ModelOutput {
  const shape = graph.shapeOf(graph.outputName) ?? [];
  if (!isClassVector(shape)) {
    const shown = `its output '${graph.outputName}' has shape [${shape.join(', ')}], expected [batch, classes]`;
    const others = outputs.filter((name) => name !== graph.outputName && isClassVector(graph.shapeOf(name)));
    if (options.outputName === undefined && outputs.length > 1) {
      const hint = others.length > 0 ? `; choose the class scores with OUTPUT NAME '${others[0]}'` : '; none of its outputs is a class vector';
      throw new KryptonError(`${path} has ${outputs.length} outputs (${outputs.map((o) => `'${o}'`).join(', ')}) and the first is not a class vector: ${shown}${hint}`, 'model');
    }
    throw new KryptonError(`${path} is not an image classifier: ${shown}`, 'model');
  }
  const classes = shape[1];
  const interpretation = interpretOutput(path, graphEnding(graph), options.outputKind, classes);
  const notes: string[] = [];
  if (outputs.length > 1 && options.outputName === undefined) {
    notes.push(`the model has ${outputs.length} outputs (${outputs.map((o) => `'${o}'`).join(', ')}): the first, '${graph.outputName}', is used (OUTPUT NAME chooses another)`);
  }
  if (interpretation.note) notes.push(interpretation.note);
  const { activation, kind, check } = interpretation;
  return { name: graph.outputName, classes, activation, kind, check, outputs: [...outputs], notes };
}

const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);

function graphEnding(graph: ModelGraph): GraphEnding {
  let node = graph.producer.get(graph.outputName);
  while (node && SHAPE_ONLY.has(node.opType)) node = graph.producer.get(node.inputs[0]);
  if (node?.opType === 'Softmax' || node?.opType === 'Sigmoid' || node?.opType === 'LogSoftmax') return node.opType;
  return 'scores';
}
