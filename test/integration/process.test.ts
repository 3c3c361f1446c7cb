import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ApiClient, type VmBody } from '../support/api-client.js';

/** Runs src/main.ts as a user would, in its own process, with only the variables given. */
function launch(env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
});
