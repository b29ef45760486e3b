import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A redis-server of the test's own on a free loopback port: nothing saved, stopped by `stop`. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** A loopback port no one listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `port`: the port of one stopped before, to bring "the same Redis" back (nothing of it kept). */
export async function startRedis(port?: number): Promise<TestRedis> {
  port ??= await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const failure = new Promise<never>((_, reject) => server.once('error', (error) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${error.message}`))));
  const started = Date.now();
  while (!(await Promise.race([accepts(port), failure]))) {
    if (server.exitCode !== null) throw new Error(`redis-server exited with ${server.exitCode} on port ${port}`);
    if (Date.now() - started > 10_000) throw new Error(`redis-server did not listen on port ${port} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
      await exited;
    },
  };
}
