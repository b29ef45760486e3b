import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KryptonError } from '../errors.js';
import { hashRegularFile, modelFileCap, modelFileError } from '../io/read-regular-file.js';
import type { InputSpec, ResizePolicy } from '../image/input-spec.js';
import { imagenetInputSpec } from '../image/input-spec.js';
import { readLabels } from '../model/labels.js';
import type { LoadedModel, OutputKind } from '../model/load-model.js';
import { loadModel } from '../model/load-model.js';
import { SessionCache } from '../model/session-cache.js';
import type { CreateModelStatement, ModelRef } from '../parser/ast.js';
import type { ModelDefinition, Store } from '../store/index.js';

/** A model as an occlusion uses it: loaded, with how to feed it images and what its classes are called. */
export interface ModelBinding {
  /** The catalog name, or the file path for a model named by file. */
  readonly name: string;
  readonly path: string;
  readonly model: LoadedModel;
  readonly spec: InputSpec;
  readonly labels?: readonly string[];
  /** SHA-256 of the model file (with its external-data files) as loaded: recorded with every heatmap computed from it. */
  readonly fileHash: string;
}

/** A model defined for one session only (never written to the catalog), with how to resize images for it. */
export interface SessionModel extends ModelDefinition {
  readonly resize?: ResizePolicy;
}

/**
 * Loaded models of one session, so that a script occluding many images loads each model once, and
 * the session's own models (which shadow the catalog's of the same name). Their onnxruntime
 * sessions live here too, so that the next statement on a model builds none.
 */
export class ModelCache {
  readonly sessions = new SessionCache();
  private readonly models = new Map<string, Promise<LoadedModel>>();
  /** The version (size and mtime) each file was last loaded at: a new one makes the older models stale. */
  private readonly versions = new Map<string, string>();
  private readonly hashes = new Map<string, Promise<string>>();
  private readonly sessionModels = new Map<string, SessionModel>();

  defineSessionModel(model: SessionModel): void {
    this.sessionModels.set(model.name.toLowerCase(), model);
  }

  sessionModel(name: string): SessionModel | undefined {
    return this.sessionModels.get(name.toLowerCase());
  }

  /**
   * The model file's content hash (SHA-256, hex): what tuned configurations are keyed by, so a
   * file replaced at the same path is not mistaken for the old one. Remembered per size and mtime.
   */
  async fileHash(path: string): Promise<string> {
    const absolute = resolve(path);
    const hashNow = () => hashRegularFile(absolute, modelFileCap(), (problem) => modelFileError(path, problem));
    let info;
    try {
      info = await stat(absolute);
    } catch {
      return hashNow(); // which names what is wrong with the path
    }
    const key = JSON.stringify([absolute, info.size, info.mtimeMs]);
    let hash = this.hashes.get(key);
    if (!hash) {
      hash = hashNow();
      hash.catch(() => this.hashes.delete(key));
      this.hashes.set(key, hash);
    }
    return hash;
  }

  /** The content hash of a loaded model: its file's as loaded, and its external-data files' when it has any. */
  async modelHash(model: Pick<LoadedModel, 'path' | 'externalData' | 'fileHash'>): Promise<string> {
    const own = model.fileHash ?? await this.fileHash(model.path);
    if (model.externalData.length === 0) return own;
    const parts = [own, ...(await Promise.all(model.externalData.map((file) => this.fileHash(file))))];
    return createHash('sha256').update(parts.join('\n')).digest('hex');
  }

  /**
   * A model as loaded with these options. Options left open are settled by the file (its input
   * size, the output kind its graph implies), so a request naming them gets the model already
   * loaded without them: CREATE MODEL and the OCCLUDE after it load the file once.
   */
  async load(path: string, inputSize: { width: number; height: number } | undefined, output: OutputChoice = {}): Promise<LoadedModel> {
    const absolute = resolve(path);
    // A file replaced at the same path (new size or mtime) is loaded anew, not served from memory.
    const version = await stat(absolute).then((info) => `${info.size}:${info.mtimeMs}`, () => 'unreadable');
    if (this.versions.has(absolute) && this.versions.get(absolute) !== version) await this.forgetOlder(absolute, version);
    this.versions.set(absolute, version);
    const key = modelKey(absolute, version, inputSize, output);
    let model = this.models.get(key);
    if (!model) {
      model = loadModel(path, { inputSize: inputSize && { width: inputSize.width, height: inputSize.height }, outputKind: output.kind, outputName: output.name });
      this.models.set(key, model);
      model.then(
        (loaded) => {
          const settled = modelKey(absolute, version, loaded.input, { kind: loaded.output.kind, name: output.name });
          if (!this.models.has(settled)) this.models.set(settled, Promise.resolve(loaded));
        },
        () => this.models.delete(key),
      );
    }
    return model;
  }

  /** Drops the models of a file loaded at another version than `version`, and releases their sessions. */
  private async forgetOlder(absolute: string, version: string): Promise<void> {
    for (const [key, model] of [...this.models]) {
      const [path, loadedAt] = JSON.parse(key) as [string, string];
      if (path !== absolute || loadedAt === version) continue;
      this.models.delete(key);
      const loaded = await model.catch(() => undefined);
      if (loaded) await this.sessions.forget(loaded);
    }
  }

  /** Releases every session the cache's models hold. */
  async release(): Promise<void> {
    await this.sessions.release();
  }
}

/** OUTPUT's two halves: what the output holds and which graph output it is; the file decides what is left open. */
export interface OutputChoice {
  readonly kind?: OutputKind;
  readonly name?: string;
}

function modelKey(path: string, version: string, inputSize: { width: number; height: number } | undefined, output: OutputChoice): string {
  return JSON.stringify([path, version, inputSize ? [inputSize.width, inputSize.height] : null, output.kind ?? null, output.name ?? null]);
}

/** Store and InputSpec speak of scale differently: the store keeps the multiplier applied to 0–255 pixels. */
function multiplierOf(scale: 1 | 255): number {
  return scale / 255;
}

function rangeOf(multiplier: number): 1 | 255 {
  return Math.abs(multiplier - 1) < 1e-9 ? 255 : 1;
}

function specFor(model: LoadedModel, entry: Pick<SessionModel, 'channels' | 'scale' | 'mean' | 'std' | 'resize'> | undefined): InputSpec {
  const channelCount = model.input.channels;
  const channels = entry?.channels ?? (channelCount === 1 ? 'gray' : 'rgb');
  const perChannel = (values: readonly number[]) => (values.length === 1 && channelCount > 1 ? Array(channelCount).fill(values[0]) : [...values]);
  return imagenetInputSpec({
    width: model.input.width,
    height: model.input.height,
    channelCount,
    channels,
    ...(entry ? { scale: rangeOf(entry.scale), mean: perChannel(entry.mean), std: perChannel(entry.std) } : {}),
    ...(entry?.resize ? { resize: entry.resize } : {}),
  });
}

async function labelsFor(path: string | null | undefined, model: LoadedModel): Promise<string[] | undefined> {
  if (!path) return undefined;
  const labels = await readLabels(path);
  if (labels.length !== model.output.classes) {
    throw new KryptonError(`labels file ${path} has ${labels.length} names but the model has ${model.output.classes} classes`, 'catalog');
  }
  return labels;
}

export async function bindModel(ref: ModelRef, store: Store, cache: ModelCache): Promise<ModelBinding> {
  if (ref.kind === 'file') {
    const model = await cache.load(ref.path, undefined, undefined);
    return { name: ref.path, path: ref.path, model, spec: specFor(model, undefined), fileHash: await cache.modelHash(model) };
  }
  const entry: SessionModel = cache.sessionModel(ref.name) ?? await store.requireModel(ref.name);
  const model = await cache.load(entry.path, { width: entry.inputWidth, height: entry.inputHeight }, { kind: entry.outputKind, name: entry.outputName ?? undefined });
  return { name: entry.name, path: entry.path, model, spec: specFor(model, entry), labels: await labelsFor(entry.labelsPath, model), fileHash: await cache.modelHash(model) };
}

/**
 * What CREATE MODEL stores: the statement's options, with the defaults the ONNX file implies (its
 * input size, gray for one channel, ImageNet normalisation, the output kind the graph's end and
 * class count imply). The file is loaded once to check that it is an image classifier.
 */
export async function defineModel(statement: CreateModelStatement, cache: ModelCache): Promise<DefinedModel> {
  const path = resolve(statement.file);
  const model = await cache.load(path, statement.input, { kind: statement.output, name: statement.outputName });
  const channelCount = model.input.channels;
  const channels = statement.channels ?? (channelCount === 1 ? 'gray' : 'rgb');
  if (channels !== 'gray' && channelCount !== 3) {
    throw new KryptonError(`CHANNELS ${channels.toUpperCase()} needs a 3-channel model; ${statement.file} takes ${channelCount}`, 'catalog');
  }
  const normalize = statement.normalize ?? { kind: 'imagenet' };
  const spec = imagenetInputSpec({ width: model.input.width, height: model.input.height, channelCount, channels });
  const mean = normalize.kind === 'custom' ? [...normalize.mean] : normalize.kind === 'none' ? Array(channelCount).fill(0) : spec.mean;
  const std = normalize.kind === 'custom' ? [...normalize.std] : normalize.kind === 'none' ? Array(channelCount).fill(1) : spec.std;
  const labelsPath = statement.labelsFile ? resolve(statement.labelsFile) : null;
  await labelsFor(labelsPath, model);
  const definition: ModelDefinition = {
    name: statement.name,
    path,
    inputWidth: model.input.width,
    inputHeight: model.input.height,
    channels,
    scale: multiplierOf(statement.scale ?? 1),
    mean,
    std,
    labelsPath,
    outputKind: model.output.kind,
    outputName: statement.outputName ?? null,
  };
  return { definition, notes: model.output.notes };
}

/** What CREATE MODEL stores, and what the user should know about how its output is read. */
export interface DefinedModel {
  readonly definition: ModelDefinition;
  readonly notes: readonly string[];
}

/**
 * The graph output and the probabilities' identity in query ids and tuning keys: the output only
 * when it is not the first, so results computed before OUTPUT NAME existed keep their ids.
 */
export function outputIdentity(model: LoadedModel): { activation: string; output?: string } {
  const { activation, name, outputs } = model.output;
  return { activation, ...(name !== outputs[0] && { output: name }) };
}
