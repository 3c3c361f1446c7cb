import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { createBackend } from '../src/backends/create-backend.js';
import { parseConfig } from '../src/config/config.js';
import { createSharedState } from '../src/shared-state/create-shared-state.js';

/** The real API in the bench's own process, on 127.0.0.1 and a free port. */
export interface RunningApi {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startApi(env: Record<string, string>): Promise<RunningApi> {
  const parsed = parseConfig({ ...env, LOG_LEVEL: 'warn' });
  if (!parsed.ok) throw new Error(`bad config: ${parsed.problems.join('; ')}`);
  const { config } = parsed;
  // Warnings and errors only, to stderr: the report stays readable, and failures are visible.
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination(2));
  const backend = await createBackend(config, logger);
  // REDIS_URL: what several processes share, as src/server.ts wires it.
  const sharedState = createSharedState(config, logger);
  const stopping = new AbortController();
  const server: Server = buildApp({ config, backend, logger, shutdownSignal: stopping.signal, sharedState }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
      await sharedState.close();
    },
  };
}
