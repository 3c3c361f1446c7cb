import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createBackend } from '../../src/backends/create-backend.js';
import { parseConfig, type Config } from '../../src/config/config.js';
import type { Backend } from '../../src/repository/backend.js';

export interface RunningApp {
  baseUrl: string;
  server: Server;
  backend: Backend;
  config: Config;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, to check that no secret ever reaches it. */
  rawLog: () => string;
  close(): Promise<void>;
}

export function configFrom(env: Record<string, string> = {}): Config {
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new Error(`bad test config: ${parsed.problems.join('; ')}`);
  return parsed.config;
}

/**
 * Builds the real app on the memory backend (or `backend`), listening on 127.0.0.1 at a free port,
 * with its logs captured. Every test that needs a server uses this and closes it.
 */
export async function startApp(env: Record<string, string> = {}, backendOverride?: Backend): Promise<RunningApp> {
  const config = configFrom({ LOG_LEVEL: 'debug', ...env });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  const logger = pino({ level: config.LOG_LEVEL }, sink);
  const backend = backendOverride ?? (await createBackend(config, logger));
  const stopping = new AbortController();
  const app = buildApp({ config, backend, logger, shutdownSignal: stopping.signal });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const logs: Record<string, unknown>[] = [];
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    backend,
    config,
    get logs() {
      logs.length = 0;
      for (const line of lines) logs.push(JSON.parse(line) as Record<string, unknown>);
      return logs;
    },
    rawLog: () => lines.join('\n'),
    async close() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}
