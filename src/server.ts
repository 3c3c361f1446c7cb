import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { createBackend } from './backends/create-backend.js';
import type { Config } from './config/config.js';

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (waiting ones answer at once), closes the backend. */
  shutdown(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const backend = await createBackend(config, logger);
  const stopping = new AbortController();
  const app = buildApp({ config, backend, logger, shutdownSignal: stopping.signal });
  // Answers not yet written when shutdown starts, so that they too can say `Connection: close`.
  const unanswered = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (stopping.signal.aborted) res.setHeader('Connection', 'close');
    else {
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
    }
    app(req, res);
  });
  server.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  logger.info({ event: 'server.listening', host: config.HOST, port, backend: backend.name }, `listening on http://${config.HOST}:${port}`);

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      logger.info({ event: 'server.stopping' }, 'shutting down: no new connections, finishing in-flight requests');
      // Every answer from now on says `Connection: close`, so a keep-alive client opens a new
      // connection (refused: the listener is closed) instead of reusing one that the sweep below
      // is about to drop, which reset it mid-request.
      for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
      unanswered.clear();
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // close() only drops the connections idle at that moment; keep-alive ones that finish their
      // request afterwards must be dropped as they become idle.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const forced = setTimeout(() => {
        logger.warn({ event: 'server.forced_close' }, 'in-flight requests did not finish in time; closing their connections');
        server.closeAllConnections();
      }, config.SHUTDOWN_TIMEOUT_MS);
      forced.unref();
      await closed;
      clearInterval(sweep);
      clearTimeout(forced);
      await backend.close();
      logger.info({ event: 'server.stopped' }, 'stopped');
    })());
  return { server, port, shutdown };
}
