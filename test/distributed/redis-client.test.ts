// The Redis client BullMQ is given, against a real redis-server: replies shaped as BullMQ expects,
// replies larger than one socket read, scripts loaded on demand, and a server that is not there.
import { parseRedisUrl, RespClient } from '../../src/distributed/redis-client';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';

let redis: TestRedis;
let client: RespClient;

beforeAll(async () => {
  redis = await startRedis();
  client = new RespClient({ host: '127.0.0.1', port: redis.port, connectTimeout: 2000 });
  await client.connect();
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

test('replies come back as text, numbers, null, arrays and (HGETALL) objects', async () => {
  expect(await client.set('k', 'v')).toBe('OK');
  expect(await client.get('k')).toBe('v');
  expect(await client.get('missing')).toBeNull();
  expect(await client.hset('h', { a: '1', b: 2 })).toBe(2);
  expect(await client.hgetall('h')).toEqual({ a: '1', b: '2' });
  expect(await client.hmget('h', 'a', 'z')).toEqual(['1', null]);
  expect(await client.del('k', 'h')).toBe(2);
  await expect(client.call('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/);
});

test('a value of several megabytes, with every byte value, arrives whole', async () => {
  const bytes = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
  await client.call('SET', 'big', bytes);
  expect(await client.call('STRLEN', 'big')).toBe(bytes.length);
  const text = 'é'.repeat(1_000_000);
  await client.set('text', text);
  expect(await client.get('text')).toBe(text);
});

test('scripts run by digest once the server holds them, by source before; transactions give [error, value] pairs', async () => {
  await client.call('SCRIPT', 'FLUSH');
  client.defineCommand('addTwo', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]) + 2)" });
  expect(await client.runCommand('addTwo', ['n', 1])).toBe(3);
  expect(await client.runCommand('addTwo', [['n', 5]])).toBe(10);
  const results = await client.multi().hset('t', { x: '1' }).hgetall('t').runCommand('addTwo', ['n', 0]).llen('t').exec();
  expect(results![0]).toEqual([null, 1]);
  expect(results![1]).toEqual([null, { x: '1' }]);
  expect(results![2]).toEqual([null, 12]);
  expect(results![3][0]).toBeInstanceOf(Error);
  expect(await client.pipeline().del('t').llen('t').exec()).toEqual([[null, 1], [null, 0]]);
});

test('no server on the port: connect fails at once with ECONNREFUSED, and commands refuse', async () => {
  const port = await freePort();
  const nowhere = new RespClient({ host: '127.0.0.1', port, connectTimeout: 2000 });
  const started = Date.now();
  await expect(nowhere.connect()).rejects.toThrow(/ECONNREFUSED/);
  expect(Date.now() - started).toBeLessThan(2000);
  await expect(nowhere.get('k')).rejects.toThrow('Connection is closed.');
});

test('disconnect rejects what is waiting, and the client connects again', async () => {
  const second = client.duplicate();
  await second.connect();
  const blocked = second.bzpopmin('empty', 5);
  second.disconnect();
  await expect(blocked).rejects.toThrow('Connection is closed.');
  expect(second.status).toBe('end');
  await second.connect();
  expect(await second.call('PING')).toBe('PONG');
  await second.quit();
});

test('redis:// URLs: host, port, database and credentials; other schemes and paths are refused', () => {
  expect(parseRedisUrl('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 });
  expect(parseRedisUrl('redis://user:p%40ss@host')).toEqual({ host: 'host', port: 6379, username: 'user', password: 'p@ss' });
  expect(() => parseRedisUrl('rediss://host:6379')).toThrow(/not a redis:\/\/ URL \(TLS is not supported\)/);
  expect(() => parseRedisUrl('redis://host/queue')).toThrow(/must be a database number, got 'queue'/);
  expect(() => parseRedisUrl('localhost:6379')).toThrow(/not a redis:\/\/ URL/);
});
