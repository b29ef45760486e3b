import { ConnectionClosedError, Queue, QueueEvents, type RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { KryptonError, messageOf } from '../errors.js';
import { OCCLUSION_QUEUE } from './occlusion-job.js';

/** How long a connection to Redis may take before Krypton says Redis is unreachable. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

/** Waits between a worker's attempts to reconnect: 100 ms, doubling, at most 2 s. */
const reconnectDelay = (attempt: number) => Math.min(2000, 100 * 2 ** attempt);

/** A duration in milliseconds from the environment, e.g. KRYPTON_REDIS_TIMEOUT_MS=500. */
export function millisecondsFromEnvironment(variable: string, fallback: number): number {
  const text = process.env[variable]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new KryptonError(`${variable} must be a positive whole number of milliseconds, not '${text}'`, 'argument');
  return value;
}

/** Refuses, in one line, a workers URL that is not redis:// or rediss:// (TLS) with an optional database number. */
export function checkRedisUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KryptonError(`workers: '${url}' is not a URL; give redis://host:port`, 'argument');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new KryptonError(`workers: '${url}' is not a redis:// URL`, 'argument');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new KryptonError(`workers: '${url}': the path must be a database number, got '${db}'`, 'argument');
}

/**
 * The ioredis options of every Krypton connection to Redis; BullMQ makes its connections with
 * them (`new Redis(url, options)`) and closes them when the queue or worker closes.
 * `reconnect`: a connection lost later is made again, on and on, with commands waiting for it
 * (workers, which outlive a Redis restart); otherwise it ends and its commands fail at once
 * (coordinators, which report the loss).
 */
export function redisConnection(url: string, { reconnect = false } = {}): BullRedisOptions {
  checkRedisUrl(url);
  return {
    url,
    connectTimeout: millisecondsFromEnvironment('KRYPTON_REDIS_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS),
    // BullMQ's workers and blocking connections require it: a command waits out a reconnection instead of failing after a count of retries.
    maxRetriesPerRequest: null,
    enableOfflineQueue: reconnect,
    retryStrategy: reconnect ? reconnectDelay : () => null,
  };
}

/**
 * A connection made once, not made again when lost: what tells the coordinator that Redis is
 * there, before planning and while it waits for results. Fails within the connect timeout.
 */
async function probeConnection(url: string): Promise<Redis> {
  const timeout = millisecondsFromEnvironment('KRYPTON_REDIS_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeout,
    // A Redis that stopped answering (not only one that closed the socket) is noticed too.
    commandTimeout: timeout,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // Unheard, 'error' would end the process; the socket's error says more than the 'Connection is closed.' connect() rejects with.
  let socketError: unknown;
  probe.on('error', (error) => { socketError = error; });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    probe.disconnect();
    throw socketError ?? error;
  }
  return probe;
}

/** Whether Redis at the URL answers: one line naming it when it does not. */
export async function probeRedis(url: string): Promise<void> {
  checkRedisUrl(url);
  let probe;
  try {
    probe = await probeConnection(url);
  } catch (error) {
    throw unreachable(shownUrl(url), error);
  }
  await probe.quit().catch(() => probe.disconnect());
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
  private constructor(readonly url: string, readonly queue: Queue, readonly events: QueueEvents, private readonly probe: Redis) {}

  /** Connects, or fails within the connect timeout with one line naming Redis. */
  static async connect(url: string): Promise<OcclusionQueue> {
    const connection = redisConnection(url);
    const shown = shownUrl(url);
    let probe;
    try {
      probe = await probeConnection(url);
    } catch (error) {
      throw unreachable(shown, error);
    }
    const queue = new Queue(OCCLUSION_QUEUE, { connection });
    const events = new QueueEvents(OCCLUSION_QUEUE, { connection });
    // Problems reach the caller through the calls that fail; BullMQ would print these otherwise.
    queue.on('error', () => {});
    events.on('error', () => {});
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    } catch (error) {
      await Promise.allSettled([queue.close(), events.close()]);
      probe.disconnect();
      throw unreachable(shown, error);
    }
    return new OcclusionQueue(shown, queue, events, probe);
  }

  /** Rejects when the connection to Redis is gone: completions would never arrive. */
  async check(): Promise<void> {
    try {
      await this.probe.ping();
    } catch (error) {
      // Closed, unwritable or silent past the timeout: the coordinator has lost Redis either way.
      throw new ConnectionClosedError(`Redis did not answer: ${messageOf(error)}`);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    await this.probe.quit().catch(() => this.probe.disconnect());
  }
}
