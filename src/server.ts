import { once } from 'node:events';
import { createServer, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { createBackend } from './backends/create-backend.js';
import type { Config } from './config/config.js';
import { createSharedState } from './shared-state/create-shared-state.js';
import { answeredOutsideExpress } from './http/middleware/request-log.js';

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (waiting ones answer at once), closes the backend. */
  shutdown(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const backend = await createBackend(config, logger);
  const sharedState = createSharedState(config, logger);
  const stopping = new AbortController();
  const app = buildApp({ config, backend, logger, shutdownSignal: stopping.signal, sharedState });
  // Answers not yet written when shutdown starts, so that they too can say `Connection: close`.
  const unanswered = new Set<ServerResponse>();
  const server = createServer(connectionLimits(config), (req, res) => {
    if (stopping.signal.aborted) res.setHeader('Connection', 'close');
    else {
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
    }
    app(req, res);
  });
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  // The request in flight on a connection, if any (only looked up on the rare client error).
  const inFlightOn = (socket: Duplex) => [...unanswered].find((res) => res.socket === socket);
  server.on('clientError', clientErrorHandler(logger, inFlightOn));
  server.on('drop', droppedConnectionsLog(logger, config.HTTP_MAX_CONNECTIONS));
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
      await sharedState.close();
      logger.info({ event: 'server.stopped' }, 'stopped');
    })());
  return { server, port, shutdown };
}

/**
 * Bounds on what a client may take to send its request (Node's defaults hold a body shorter than
 * its Content-Length for 300 s, and let headers trickle in for about 90 s). Node checks them only
 * every `connectionsCheckingInterval` (30 s by default), so that is made short enough for the
 * limits to hold to within a second (a fifth of the shorter one, between 50 ms and 1 s).
 */
function connectionLimits(config: Config): ServerOptions {
  const shorter = Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS);
  return {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(shorter / 5))),
  };
}

/** Node's answers to a request it could not read (timeouts, malformed or oversized headers). */
const CLIENT_ERROR_RESPONSES: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/**
 * What Node does by itself for a request it cannot read (answer 408, 431 or 400 and close), plus
 * one log line: these requests never reach Express, so the request log cannot see them.
 */
function clientErrorHandler(logger: Logger, inFlightOn: (socket: Duplex) => ServerResponse | undefined): (error: Error, socket: Duplex) => void {
  return (error, socket) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    // A client that has gone is not worth a line (ECONNRESET while idle, a closed half).
    if (code !== 'ECONNRESET' && code !== 'EPIPE') {
      logger.warn({ event: 'http.client_error', code }, `could not read a request: ${error.message}`);
    }
    const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
    if (!socket.writable || written > 0) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR_RESPONSES[code] ?? '400 Bad Request';
    // A body that came too slowly: Express has the request, and its log line must say 408, not 499.
    const res = inFlightOn(socket);
    if (res) answeredOutsideExpress(res, Number(status.slice(0, 3)));
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // end() closes once the answer is flushed; a client that never reads must not hold it open.
    setTimeout(() => socket.destroy(), 1_000).unref();
  };
}

/** Connections over HTTP_MAX_CONNECTIONS are closed by Node at once; say so at most once a second. */
function droppedConnectionsLog(logger: Logger, max: number): () => void {
  let dropped = 0;
  return () => {
    if (dropped++ > 0) return;
    setTimeout(() => {
      logger.warn({ event: 'server.connections_dropped', count: dropped, max }, `${dropped} connection(s) over HTTP_MAX_CONNECTIONS (${max}) closed`);
      dropped = 0;
    }, 1_000).unref();
  };
}
