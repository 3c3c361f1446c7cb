import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiClient, type VmBody } from '../support/api-client.js';

/** Runs src/main.ts as a user would, in its own process, with only the variables given. */
function launch(env: Record<string, string>, preload: string[] = []): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((p) => ['--import', p]), 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env },
    stdio: 'pipe',
  });
}

async function listeningPort(child: ChildProcessWithoutNullStreams): Promise<number> {
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    const match = /"event":"server\.listening".*?"port":(\d+)/.exec(out);
    if (match) return Number(match[1]);
  }
  throw new Error(`the server never said it was listening: ${out}`);
}

/** Everything the child writes, the port once it listens, and its exit code. */
function watch(child: ChildProcessWithoutNullStreams) {
  let stdout = '';
  let stderr = '';
  let listening: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => (listening = resolve));
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
    const match = /"event":"server\.listening".*?"port":(\d+)/.exec(stdout);
    if (match) listening(Number(match[1]));
  });
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const exit = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { port, exit };
}

describe('the server process', () => {
  it('stops on SIGTERM with exit code 0 after finishing an in-flight request', async () => {
    const child = launch({ PORT: '0', MOCK_ACTION_DELAY_MS: '60000' });
    const port = await listeningPort(child);
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    expect((await api.call('GET', '/healthz')).status).toBe(200);
    const inFlight = api.call<VmBody>('POST', '/api/v1/vms?wait=120', { body: { name: 'late', flavor: 'm1.tiny', image: 'debian-12' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const response = await inFlight;
    expect([response.status, response.body.task]).toEqual([202, 'creating']);
  });

  it('refuses to start with one clear line per bad variable, and exit code 1', async () => {
    const child = launch({ PORT: 'eighty', BACKEND: 'vmware', MOCK_IP_CIDR: '10.0.0.0/33', OS_PASSWORD: 'hunter2' });
    let err = '';
    child.stderr.on('data', (chunk) => (err += String(chunk)));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    const lines = err.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^config: PORT: must be a whole number \(got "eighty"\)$/);
    expect(err).toMatch(/^config: BACKEND: must be memory or openstack/m);
    expect(err).toMatch(/^config: MOCK_IP_CIDR: /m);
    expect(err).not.toContain('hunter2');
  });

  it.each([
    ['exception', 'uncaught exception; stopping', 'uncaughtException'],
    ['rejection', 'unhandled promise rejection; stopping', 'unhandledRejection'],
  ])('on an uncaught %s: logs it once as fatal, finishes in-flight requests as on SIGTERM, exits 1', async (failWith, message, kind) => {
    const child = launch({ PORT: '0', MOCK_ACTION_DELAY_MS: '60000', FAIL_WITH: failWith }, ['./test/integration/fixtures/fail-on-signal.ts']);
    const watched = watch(child);
    const port = await watched.port;
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    const inFlight = api.call<VmBody>('POST', '/api/v1/vms?wait=120', { body: { name: 'doomed', flavor: 'm1.tiny', image: 'debian-12' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGUSR2');
    const { code, stdout, stderr } = await watched.exit;
    expect(code).toBe(1);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const fatal = lines.filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ msg: message, kind, event: 'process.fatal', err: { message: expect.stringContaining('boom') } });
    expect(lines.map((l) => l.event)).toContain('server.stopped');
    const response = await inFlight;
    expect([response.status, response.body.task]).toEqual([202, 'creating']);
  });

  it('says in one line that PORT is taken when another process listens there, and exits 1', async () => {
    const squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as AddressInfo;
    try {
      const child = launch({ PORT: String(port) });
      const { code, stdout, stderr } = await watch(child).exit;
      expect(code).toBe(1);
      expect(stderr).toBe(`config: PORT: ${port} is already in use on 127.0.0.1 (another process listens there; choose another PORT or stop it)\n`);
      expect(stdout).not.toMatch(/stack|EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });
});
