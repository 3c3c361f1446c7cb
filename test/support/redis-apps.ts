import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createBackend } from '../../src/backends/create-backend.js';
import type { Backend } from '../../src/repository/backend.js';
import { RedisState } from '../../src/shared-state/redis-state.js';
import { configFrom } from './memory-app.js';

/** One API "process" (an app with its own RedisState) on a shared Redis, its log captured. */
export interface SharedApp {
  url: string;
  state: RedisState;
  logger: Logger;
  /** Every log line so far, parsed. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function sharedApp(redisUrl: string, env: Record<string, string> = {}, backend?: Backend): Promise<SharedApp> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  const config = configFrom({ LOG_LEVEL: 'info', ...env });
  const logger = pino({ level: 'info' }, sink);
  const state = new RedisState({ url: redisUrl, logger });
  state.start();
  await expect.poll(async () => (await state.check()).ok, { timeout: 10_000 }).toBe(true);
  const ownBackend = backend === undefined;
  const used = backend ?? (await createBackend(config, logger));
  const stopping = new AbortController();
  const app = buildApp({ config, backend: used, logger, sharedState: state, shutdownSignal: stopping.signal });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    logger,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await state.close();
      if (ownBackend) await used.close();
    },
  };
}
