import { join } from 'node:path';
import { CREATE_CXR, XRAYS, expectOneLineError, runCli, startCli, useTempDir, waitForOutput } from './helpers.js';

const dir = useTempDir();

/** The address the server printed. */
const addressOf = (stdout: string) => /Krypton explorer on (http:\/\/\S+)/.exec(stdout)![1];

test('krypton serve prints its address on loopback, answers there, and stops on Ctrl-C', async () => {
  const path = join(dir(), 'served.duckdb');
  expect((await runCli(['--db', path, '-c', CREATE_CXR])).code).toBe(0);
  const server = startCli(['--db', path, 'serve', '--port', '0', '--images', XRAYS]);
  try {
    await waitForOutput(server, /Ctrl-C stops/);
    const url = addressOf(server.output().stdout);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.output().stdout).toContain('SQL box read-only');
    const info = await (await fetch(`${url}api/info`)).json();
    expect(info).toMatchObject({ database: path, allowWrite: false });
    expect(await (await fetch(`${url}api/models`)).json()).toEqual([expect.objectContaining({ name: 'cxr' })]);
  } finally {
    server.kill('SIGINT');
  }
  expect(await server.done).toMatchObject({ code: 0, stderr: '' });
});

test('listening on another address prints a token, without which the API answers 401', async () => {
  const server = startCli(['serve', '--db', ':memory:', '--port', '0', '--host', '0.0.0.0']);
  try {
    await waitForOutput(server, /Ctrl-C stops/);
    const url = new URL(addressOf(server.output().stdout));
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(server.output().stdout).toContain(`token: ${token}`);
    const local = `http://127.0.0.1:${url.port}`;
    const refused = await fetch(`${local}/api/tables`);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error).toMatch(/token/);
    expect((await fetch(`${local}/api/tables`, { headers: { 'x-krypton-token': token } })).status).toBe(200);
  } finally {
    server.kill('SIGINT');
  }
  expect((await server.done).code).toBe(0);
});

test('a missing --images folder or a bad port: one line, exit 1', async () => {
  expectOneLineError(await runCli(['serve', '--db', ':memory:', '--port', '0', '--images', '/no/such/folder']), /^krypton: --images folder '\/no\/such\/folder' does not exist$/);
  expectOneLineError(await runCli(['serve', '--db', ':memory:', '--port', 'eighty']), /^krypton: --port must be a port number \(0–65535\), got 'eighty'$/);
});
