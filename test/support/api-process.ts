import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

export interface ApiProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything it wrote (stdout and stderr). */
  output: () => string;
}

/**
 * src/main.ts as `npm start` runs it, in its own process, with only the variables given (plus
 * HOST and PORT=0); resolves once it listens and its /readyz says 200 (its backend and Redis answer).
 */
export async function launchApi(env: Record<string, string>, preload: string[] = [], readyWithinMs = 30_000): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((p) => ['--import', p]), 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: 'pipe',
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += String(chunk)));
  child.stderr.on('data', (chunk) => (out += String(chunk)));
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const match = /"event":"server\.listening".*?"port":(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + readyWithinMs;
  while ((await fetch(`${url}/readyz`)).status !== 200) {
    if (Date.now() > until) throw new Error(`not ready within ${readyWithinMs} ms: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, output: () => out };
}

/** SIGTERM, and waits for the exit. */
export async function stopApi(api: ApiProcess): Promise<void> {
  if (api.child.exitCode !== null) return;
  api.child.kill('SIGTERM');
  await once(api.child, 'exit');
}

/** A call to the API under /api/v1 with a bearer key (JSON body as a string). */
export const callApi = (api: ApiProcess, path: string, key: string, init: RequestInit = {}) =>
  fetch(`${api.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
