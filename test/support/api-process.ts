import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

export interface ApiProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything it wrote (stdout and stderr). */
  output: () => string;
}

/** Every process launched and not yet exited: killed when the test process exits, whatever happened. */
const launched = new Set<ChildProcessWithoutNullStreams>();
process.on('exit', () => {
  for (const child of launched) child.kill('SIGKILL');
});

/**
 * src/main.ts as `npm start` runs it, in its own process, with only the variables given (plus
 * HOST and PORT=0); resolves once it listens and its /readyz says 200 (its backend and Redis answer).
 */
export async function launchApi(env: Record<string, string>, preload: string[] = [], readyWithinMs = 30_000): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((p) => ['--import', p]), 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: 'pipe',
  });
  launched.add(child);
  child.once('exit', () => launched.delete(child));
  let out = '';
  child.stdout.on('data', (chunk) => (out += String(chunk)));
  child.stderr.on('data', (chunk) => (out += String(chunk)));
  try {
    return await untilReady(child, () => out, readyWithinMs);
  } catch (error) {
    // Never left behind: a process that did not come up is killed.
    child.kill('SIGKILL');
    throw error;
  }
}

async function untilReady(child: ChildProcessWithoutNullStreams, output: () => string, readyWithinMs: number): Promise<ApiProcess> {
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const match = /"event":"server\.listening".*?"port":(\d+)/.exec(output());
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output()}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + readyWithinMs;
  const ready = () =>
    fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
      (answer) => answer.status === 200,
      () => false,
    );
  while (!(await ready())) {
    if (Date.now() > until) throw new Error(`not ready within ${readyWithinMs} ms: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, output };
}

/** Stops every process launched from this test file, including any still starting (for afterAll). */
export async function stopAllApis(): Promise<void> {
  await Promise.all(
    [...launched].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** A call to the API under /api/v1 with a bearer key (JSON body as a string). */
export const callApi = (api: ApiProcess, path: string, key: string, init: RequestInit = {}) =>
  fetch(`${api.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
