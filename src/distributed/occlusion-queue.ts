import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import { KryptonError, messageOf } from '../errors.js';
import { OCCLUSION_QUEUE } from './occlusion-job.js';
import { parseRedisUrl, type RespClient, type RespClientOptions } from './redis-client.js';

/** How long a connection to Redis may take before Krypton says Redis is unreachable. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

/** A duration in milliseconds from the environment, e.g. KRYPTON_REDIS_TIMEOUT_MS=500. */
export function millisecondsFromEnvironment(variable: string, fallback: number): number {
  const text = process.env[variable]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new KryptonError(`${variable} must be a positive whole number of milliseconds, not '${text}'`, 'argument');
  return value;
}

/**
 * BullMQ's connection options for a redis:// URL; a URL that is not one is the user's error.
 * `reconnect`: a connection lost later is made again (workers), not reported (coordinators).
 */
export function redisConnection(url: string, { reconnect = false } = {}): ConnectionOptions {
  let target;
  try {
    target = parseRedisUrl(url);
  } catch (error) {
    throw new KryptonError(`workers: ${messageOf(error)}`, 'argument');
  }
  const options: RespClientOptions = { ...target, connectTimeout: millisecondsFromEnvironment('KRYPTON_REDIS_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS), reconnect };
  return options as unknown as ConnectionOptions;
}

/** The one line a user sees when Redis cannot be reached. */
export function unreachable(url: string, error: unknown): KryptonError {
  return new KryptonError(`cannot reach Redis at ${url}: ${messageOf(error)}`, 'io');
}

/** A URL with any password in it blanked, for messages and logs. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The coordinator's side of the queue: where jobs go in, and where their completions are heard. */
export class OcclusionQueue {
  private constructor(readonly url: string, readonly queue: Queue, readonly events: QueueEvents) {}

  /** Connects, or fails within the connect timeout with one line naming Redis. */
  static async connect(url: string): Promise<OcclusionQueue> {
    const connection = redisConnection(url);
    const shown = shownUrl(url);
    const queue = new Queue(OCCLUSION_QUEUE, { connection });
    const events = new QueueEvents(OCCLUSION_QUEUE, { connection });
    // Problems reach the caller through the calls that fail; BullMQ would print these otherwise.
    queue.on('error', () => {});
    events.on('error', () => {});
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    } catch (error) {
      await Promise.allSettled([queue.close(), events.close()]);
      throw unreachable(shown, error);
    }
    return new OcclusionQueue(shown, queue, events);
  }

  /** Rejects when the connection to Redis is gone: completions would never arrive. */
  async check(): Promise<void> {
    const client = (await this.queue.backend.client) as unknown as RespClient;
    await client.call('PING');
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
