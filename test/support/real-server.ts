import { Writable } from 'node:stream';
import pino from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface RealServer {
  baseUrl: string;
  port: number;
  server: RunningServer;
  /** Every log line the server wrote, parsed. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * The real server (src/server.ts, as `npm start` runs it: its own http.Server, connection limits
 * and shutdown) on the memory backend, on 127.0.0.1 at a free port, with its logs captured.
 * test/support/memory-app.ts is the lighter one, for tests about the app rather than the server.
 */
export async function startRealServer(env: Record<string, string> = {}): Promise<RealServer> {
  const parsed = parseConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env });
  if (!parsed.ok) throw new Error(`bad test config: ${parsed.problems.join('; ')}`);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  const server = await startServer(parsed.config, pino({ level: parsed.config.LOG_LEVEL }, sink));
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    port: server.port,
    server,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    close: () => server.shutdown(),
  };
}
