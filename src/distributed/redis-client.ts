import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ConnectionClosedError, RedisConnection, type IRedisClient, type IRedisTransaction } from 'bullmq';

/**
 * BullMQ 6 speaks to Redis through a client it is given (its drivers, ioredis or node-redis, are
 * optional peers that this package does not install). This is that client: the commands BullMQ's
 * IRedisClient names, over RESP2 on one socket, replies shaped as ioredis shapes them (bulk strings
 * as text, HGETALL as an object, a pipeline's results as [error, value] pairs). A first
 * connection that fails is an error at once (a coordinator wants to hear that Redis is
 * unreachable); one lost later is made again only where `reconnect` asks for it.
 */

export type RedisArgument = string | number | Uint8Array;
type Reply = string | number | null | Error | Reply[];

export interface RespClientOptions {
  readonly host: string;
  readonly port: number;
  readonly db?: number;
  readonly username?: string;
  readonly password?: string;
  /** Milliseconds to wait for the connection before giving up. */
  readonly connectTimeout: number;
  readonly connectionName?: string;
  /**
   * Whether a connection lost after it was up is made again, on and on, with commands waiting for
   * it (as ioredis does): what a long-running worker wants. A coordinator leaves it off and hears
   * of the loss from its next command.
   */
  readonly reconnect?: boolean;
}

/** Waits between attempts to reconnect: 100 ms, doubling, at most 2 s. */
const reconnectDelay = (attempt: number) => Math.min(2000, 100 * 2 ** attempt);

/** A reply not yet wholly received. */
const INCOMPLETE = Symbol('incomplete');

/** Parses RESP2 replies from the bytes received so far. */
class ReplyParser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** The next whole reply, or INCOMPLETE. */
  next(): Reply | typeof INCOMPLETE {
    if (this.buffer.length === 0) return INCOMPLETE;
    const parsed = this.parse(0);
    if (parsed === INCOMPLETE) return INCOMPLETE;
    this.buffer = this.buffer.subarray(parsed.end);
    return parsed.value;
  }

  private parse(start: number): { value: Reply; end: number } | typeof INCOMPLETE {
    const lineEnd = this.buffer.indexOf('\r\n', start);
    if (lineEnd < 0) return INCOMPLETE;
    const line = this.buffer.toString('utf8', start + 1, lineEnd);
    const after = lineEnd + 2;
    switch (this.buffer[start]) {
      case 0x2b: // +
        return { value: line, end: after };
      case 0x2d: // -
        return { value: new Error(line), end: after };
      case 0x3a: // :
        return { value: Number(line), end: after };
      case 0x24: { // $
        const length = Number(line);
        if (length < 0) return { value: null, end: after };
        if (this.buffer.length < after + length + 2) return INCOMPLETE;
        return { value: this.buffer.toString('utf8', after, after + length), end: after + length + 2 };
      }
      case 0x2a: { // *
        const count = Number(line);
        if (count < 0) return { value: null, end: after };
        const items: Reply[] = [];
        let end = after;
        for (let i = 0; i < count; i++) {
          const item = this.parse(end);
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new Error(`unexpected reply from Redis: ${JSON.stringify(line.slice(0, 40))}`);
    }
  }
}

function encodeCommand(args: readonly RedisArgument[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    // msgpackr packs some script arguments into plain Uint8Arrays.
    // An absent optional script argument goes as an empty string, as ioredis sends it.
    const bytes = arg instanceof Uint8Array ? Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength) : Buffer.from(arg === undefined || arg === null ? '' : String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Waiting {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
}

interface Script {
  readonly lua: string;
  readonly sha: string;
  readonly keys: number;
}

const pairsToObject = (reply: Reply): Record<string, string> => {
  const flat = (reply ?? []) as string[];
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) object[flat[i]] = flat[i + 1];
  return object;
};

const withScores = (options?: { WITHSCORES?: boolean }): string[] => (options?.WITHSCORES ? ['WITHSCORES'] : []);
const hashFields = (data: Record<string, string | number>): RedisArgument[] => Object.entries(data).flat();

export class RespClient extends EventEmitter implements IRedisClient {
  status = 'wait';
  readonly isCluster = false;
  options: Record<string, unknown>;
  private socket?: Socket;
  private readonly waiting: Waiting[] = [];
  private readonly scripts = new Map<string, Script>();
  /** Script digests this connection's server is known to hold. */
  private readonly loaded = new Set<string>();
  private connecting?: Promise<void>;
  /** Set by disconnect and quit: a close then is no loss to make good. */
  private closing = false;
  private wasReady = false;
  private reconnectAttempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  /** Commands sent while the connection is being made again wait here. */
  private readonly waitingForReady: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly settings: RespClientOptions) {
    super();
    // BullMQ reads maxRetriesPerRequest from here and wants it null on blocking connections.
    this.options = { ...settings, maxRetriesPerRequest: null };
  }

  connect(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    this.closing = false;
    this.connecting ??= this.open().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private open(): Promise<void> {
    const { host, port, connectTimeout } = this.settings;
    this.status = 'connecting';
    return new Promise<void>((resolve, reject) => {
      const socket = createConnection({ host, port });
      this.socket = socket;
      const parser = new ReplyParser();
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(Object.assign(new Error(`connect ETIMEDOUT ${host}:${port} (no answer in ${connectTimeout} ms)`), { code: 'ETIMEDOUT' })), connectTimeout);
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      socket.on('data', (chunk) => {
        parser.push(chunk);
        for (let reply = parser.next(); reply !== INCOMPLETE; reply = parser.next()) {
          const waiting = this.waiting.shift();
          if (!waiting) continue;
          if (reply instanceof Error) waiting.reject(reply);
          else waiting.resolve(reply);
        }
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        fail(error);
        if (this.listenerCount('error') > 0) this.emit('error', error);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        fail(new ConnectionClosedError('Connection is closed.'));
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.loaded.clear();
        for (const waiting of this.waiting.splice(0)) waiting.reject(new ConnectionClosedError('Connection is closed.'));
        if (this.settings.reconnect && this.wasReady && !this.closing) {
          this.status = 'reconnecting';
          this.emit('close');
          this.reconnectTimer = setTimeout(() => {
            this.reconnectTimer = undefined;
            this.connect().catch(() => {});
          }, reconnectDelay(this.reconnectAttempt++));
          return;
        }
        this.status = 'end';
        for (const waiting of this.waitingForReady.splice(0)) waiting.reject(new ConnectionClosedError('Connection is closed.'));
        this.emit('close');
        this.emit('end');
      });
      socket.on('connect', () => {
        clearTimeout(timer);
        this.handshake().then(() => {
          if (settled) return;
          settled = true;
          this.status = 'ready';
          this.wasReady = true;
          this.reconnectAttempt = 0;
          for (const waiting of this.waitingForReady.splice(0)) waiting.resolve();
          this.emit('connect');
          this.emit('ready');
          resolve();
        }, (error: Error) => fail(error));
      });
    });
  }

  private async handshake(): Promise<void> {
    const { username, password, db, connectionName } = this.settings;
    if (password !== undefined) await this.send(username ? ['AUTH', username, password] : ['AUTH', password]);
    if (db) await this.send(['SELECT', db]);
    if (connectionName) await this.send(['CLIENT', 'SETNAME', connectionName]);
  }

  /** Sends one command on the open socket (also during the handshake). */
  private send(args: readonly RedisArgument[]): Promise<Reply> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new ConnectionClosedError('Connection is closed.'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      socket.write(encodeCommand(args));
    });
  }

  /** Any command; waits for a connection under way, refuses when there is none. */
  async call(...args: RedisArgument[]): Promise<any> {
    if (this.status === 'reconnecting' || (this.status === 'connecting' && this.reconnectAttempt > 0)) {
      await new Promise<void>((resolve, reject) => this.waitingForReady.push({ resolve, reject }));
    } else if (this.status === 'connecting' && this.connecting) {
      await this.connecting;
    }
    if (this.status !== 'ready') throw new ConnectionClosedError('Connection is closed.');
    return this.send(args);
  }

  disconnect(): void {
    this.closing = true;
    const waitingToReconnect = this.status === 'reconnecting';
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.status = 'end';
    this.socket?.destroy();
    if (waitingToReconnect) {
      for (const waiting of this.waitingForReady.splice(0)) waiting.reject(new ConnectionClosedError('Connection is closed.'));
      this.emit('end');
    }
  }

  async quit(): Promise<string> {
    if (this.status !== 'ready') {
      this.disconnect();
      return 'OK';
    }
    this.closing = true;
    const socket = this.socket;
    const closed = new Promise<void>((resolve) => socket?.once('close', () => resolve()));
    const answer = await this.send(['QUIT']).catch(() => 'OK');
    this.status = 'end';
    socket?.end();
    await closed;
    return String(answer);
  }

  duplicate(overrides: Partial<RespClientOptions> = {}): RespClient {
    return new RespClient({ ...this.settings, ...overrides });
  }

  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void {
    this.scripts.set(name, { lua: definition.lua, sha: createHash('sha1').update(definition.lua).digest('hex'), keys: definition.numberOfKeys });
  }

  private script(name: string): Script {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`Redis script ${name} is not defined`);
    return script;
  }

  async runCommand(name: string, args: any[]): Promise<any> {
    const script = this.script(name);
    const flat = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as RedisArgument[];
    try {
      const reply = await this.call('EVALSHA', script.sha, script.keys, ...flat);
      this.loaded.add(script.sha);
      return reply;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      const reply = await this.call('EVAL', script.lua, script.keys, ...flat);
      this.loaded.add(script.sha);
      return reply;
    }
  }

  /** How a transaction runs a script: by digest where the server holds it (inside MULTI a NOSCRIPT could not be retried). */
  scriptArguments(name: string, args: any[]): RedisArgument[] {
    const script = this.script(name);
    const flat = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as RedisArgument[];
    return this.loaded.has(script.sha) ? ['EVALSHA', script.sha, script.keys, ...flat] : ['EVAL', script.lua, script.keys, ...flat];
  }

  multi(): IRedisTransaction {
    return new Transaction(this, true);
  }

  pipeline(): IRedisTransaction {
    return new Transaction(this, false);
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return pairsToObject(await this.call('HGETALL', key));
  }

  hget(key: string, field: string): Promise<string | null> { return this.call('HGET', key, field); }
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]> { return this.call('HMGET', key, ...fields); }
  hset(key: string, data: Record<string, string | number>): Promise<number> { return this.call('HSET', key, ...hashFields(data)); }
  hdel(key: string, ...fields: string[]): Promise<number> { return this.call('HDEL', key, ...fields); }
  hexists(key: string, field: string): Promise<number> { return this.call('HEXISTS', key, field); }
  get(key: string): Promise<string | null> { return this.call('GET', key); }

  set(key: string, value: string | number, options?: { PX?: number; EX?: number }): Promise<string | null> {
    const expiry = options?.PX !== undefined ? ['PX', options.PX] : options?.EX !== undefined ? ['EX', options.EX] : [];
    return this.call('SET', key, value, ...expiry);
  }

  del(...keys: string[]): Promise<number> { return this.call('DEL', ...keys); }
  zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> { return this.call('ZRANGE', key, start, end, ...withScores(options)); }
  zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> { return this.call('ZREVRANGE', key, start, end, ...withScores(options)); }
  zcard(key: string): Promise<number> { return this.call('ZCARD', key); }
  zscore(key: string, member: string): Promise<string | null> { return this.call('ZSCORE', key, member); }
  lrange(key: string, start: number, end: number): Promise<string[]> { return this.call('LRANGE', key, start, end); }
  llen(key: string): Promise<number> { return this.call('LLEN', key); }
  ltrim(key: string, start: number, end: number): Promise<string> { return this.call('LTRIM', key, start, end); }
  lpos(key: string, value: string): Promise<number | null> { return this.call('LPOS', key, value); }
  smembers(key: string): Promise<string[]> { return this.call('SMEMBERS', key); }

  xadd(key: string, id: string, fields: Record<string, string | number>, options?: { MAXLEN?: number; approximate?: boolean }): Promise<string> {
    const trim = options?.MAXLEN !== undefined ? ['MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN] : [];
    return this.call('XADD', key, ...trim, id, ...hashFields(fields));
  }

  xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }): Promise<any> {
    const block = options?.BLOCK !== undefined ? ['BLOCK', options.BLOCK] : [];
    const count = options?.COUNT !== undefined ? ['COUNT', options.COUNT] : [];
    return this.call('XREAD', ...block, ...count, 'STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id));
  }

  xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }): Promise<number> {
    return this.call('XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold);
  }

  bzpopmin(key: string, timeout: number): Promise<[key: string, member: string, score: string] | null> { return this.call('BZPOPMIN', key, timeout); }
  info(): Promise<string> { return this.call('INFO'); }
  client(...args: RedisArgument[]): Promise<any> { return this.call('CLIENT', ...args); }
  clientSetName(name: string): Promise<any> { return this.call('CLIENT', 'SETNAME', name); }
  clientList(): Promise<string> { return this.call('CLIENT', 'LIST'); }
  clientInfo(): Promise<string> { return this.call('CLIENT', 'INFO'); }

  scan(cursor: string | number, options: { MATCH?: string; COUNT?: number } = {}): Promise<[string, string[]]> {
    const match = options.MATCH !== undefined ? ['MATCH', options.MATCH] : [];
    const count = options.COUNT !== undefined ? ['COUNT', options.COUNT] : [];
    return this.call('SCAN', cursor, ...match, ...count);
  }

  scanStream(options: { match: string; count?: number }): Readable {
    const client = this;
    async function* pages(): AsyncGenerator<string[]> {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, { MATCH: options.match, COUNT: options.count });
        cursor = next;
        if (keys.length) yield keys;
      } while (cursor !== '0');
    }
    return Readable.from(pages(), { objectMode: true });
  }
}

type Queued = { readonly args: RedisArgument[]; readonly shape?: (reply: Reply) => unknown };

/** MULTI … EXEC (atomic) or a pipeline: commands sent together, results as [error, value] pairs. */
class Transaction implements IRedisTransaction {
  private readonly queued: Queued[] = [];

  constructor(private readonly client: RespClient, private readonly atomic: boolean) {}

  private add(args: RedisArgument[], shape?: (reply: Reply) => unknown): this {
    this.queued.push({ args, shape });
    return this;
  }

  hgetall(key: string): this { return this.add(['HGETALL', key], pairsToObject); }
  hset(key: string, data: Record<string, string | number>): this { return this.add(['HSET', key, ...hashFields(data)]); }
  hscan(key: string, cursor: string | number, options?: { COUNT?: number }): this { return this.add(['HSCAN', key, cursor, ...(options?.COUNT !== undefined ? ['COUNT', options.COUNT] : [])]); }
  smembers(key: string): this { return this.add(['SMEMBERS', key]); }
  sscan(key: string, cursor: string | number, options?: { COUNT?: number }): this { return this.add(['SSCAN', key, cursor, ...(options?.COUNT !== undefined ? ['COUNT', options.COUNT] : [])]); }
  zrange(key: string, start: number, end: number): this { return this.add(['ZRANGE', key, start, end]); }
  lrange(key: string, start: number, end: number): this { return this.add(['LRANGE', key, start, end]); }
  llen(key: string): this { return this.add(['LLEN', key]); }
  del(...keys: string[]): this { return this.add(['DEL', ...keys]); }
  runCommand(name: string, args: any[]): this { return this.add(this.client.scriptArguments(name, args)); }

  async exec(): Promise<[Error | null, any][] | null> {
    const pair = (reply: Reply, shape?: (reply: Reply) => unknown): [Error | null, any] => (reply instanceof Error ? [reply, null] : [null, shape ? shape(reply) : reply]);
    if (!this.atomic) {
      const settled = await Promise.all(this.queued.map((q) => this.client.call(...q.args).then((reply: Reply) => reply, (error: Error) => error)));
      return settled.map((reply, i) => pair(reply, this.queued[i].shape));
    }
    const sent = [this.client.call('MULTI'), ...this.queued.map((q) => this.client.call(...q.args).catch((error: Error) => error))];
    const replies: Reply | null = await this.client.call('EXEC');
    await Promise.all(sent);
    if (replies === null) return null;
    return (replies as Reply[]).map((reply, i) => pair(reply, this.queued[i].shape));
  }
}

/** Where a redis:// URL points. */
export function parseRedisUrl(url: string): Omit<RespClientOptions, 'connectTimeout'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a URL; give redis://host:port`);
  }
  if (parsed.protocol !== 'redis:') throw new Error(`'${url}' is not a redis:// URL${parsed.protocol === 'rediss:' ? ' (TLS is not supported)' : ''}`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`'${url}': the path must be a database number, got '${db}'`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/**
 * BullMQ builds every connection of a Queue, Worker or QueueEvents given connection options
 * through this factory; one an embedding program installed first is left in place.
 */
RedisConnection.clientFactory ??= (options) => new RespClient({
  ...(options as unknown as RespClientOptions),
  host: options.host ?? '127.0.0.1',
  port: options.port ?? 6379,
  connectTimeout: (options as { connectTimeout?: number }).connectTimeout ?? 10_000,
});
