/**
 * The server for bench/events.ts, in a child process of its own (started with --expose-gc):
 *
 *   node --expose-gc --import tsx bench/events-server.ts
 *
 * The real app on the memory backend with 1,000 VMs, on 127.0.0.1 at a free port. It tells the
 * parent { type: 'ready', port, ids } and answers { type: 'heap' } with the heap used after a full
 * GC and the number of open connections. It exits when the parent disconnects.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/config/config.js';
import { createBenchBackend, populate } from './fixtures.js';

export interface EventsReady {
  type: 'ready';
  port: number;
  ids: string[];
  node: string;
}

export interface HeapReading {
  type: 'heap';
  heapUsed: number;
  connections: number;
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/events-server.ts needs node --expose-gc');
  gc();
  gc();
}

async function main(): Promise<void> {
  const backend = createBenchBackend();
  const ids: string[] = [];
  await populate(backend, 1_000, 'seed', (id) => ids.push(id));
  // Every default, as `npm start` has it without a .env.
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const app = buildApp({ config: parsed.config, backend, logger: pino({ level: 'silent' }) });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  if (!process.send) throw new Error('bench/events-server.ts must be started by bench/events.ts (it needs the IPC channel)');
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'heap') return;
    fullGc();
    server.getConnections((_error, connections) => {
      const reading: HeapReading = { type: 'heap', heapUsed: process.memoryUsage().heapUsed, connections };
      process.send?.(reading);
    });
  });
  const ready: EventsReady = { type: 'ready', port, ids, node: process.version };
  process.send(ready);
}

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

main().catch((error: unknown) => {
  console.error('bench events server failed:', error);
  process.exit(1);
});
