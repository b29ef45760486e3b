import type { onnx } from 'onnx-proto';
import type { LoadedModel } from './load-model.js';
import { createSession, type Session, type SessionMemory } from './session.js';

/**
 * The onnxruntime sessions of loaded models, by what each computes (a segment, the tail, the whole
 * model), so that a second statement on a model builds none: VGG16's take seconds to make. Keyed
 * by the loaded model itself, and a model file replaced on disk loads as a new model (the model
 * cache keys by size and mtime), so its sessions are never an old file's.
 */
export class SessionCache {
  private readonly byModel = new Map<LoadedModel, Map<string, Promise<Session>>>();

  /** The session `key` names for this model, made from `build()` the first time. */
  session(model: LoadedModel, key: string, build: () => onnx.IModelProto | Uint8Array, memory?: SessionMemory): Promise<Session> {
    let sessions = this.byModel.get(model);
    if (!sessions) {
      sessions = new Map();
      this.byModel.set(model, sessions);
    }
    let session = sessions.get(key);
    if (!session) {
      session = createSession(build(), memory);
      const held = sessions;
      session.catch(() => { if (held.get(key) === session) held.delete(key); });
      sessions.set(key, session);
    }
    return session;
  }

  /** Releases one model's sessions (its file was replaced). */
  async forget(model: LoadedModel): Promise<void> {
    const sessions = this.byModel.get(model);
    this.byModel.delete(model);
    await releaseAll(sessions);
  }

  async release(): Promise<void> {
    const all = [...this.byModel.values()];
    this.byModel.clear();
    for (const sessions of all) await releaseAll(sessions);
  }
}

async function releaseAll(sessions: Map<string, Promise<Session>> | undefined): Promise<void> {
  for (const session of sessions?.values() ?? []) await (await session.catch(() => undefined))?.release();
}
