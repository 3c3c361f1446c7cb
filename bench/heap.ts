/**
 * Heap growth per stored VM (or volume), in a fresh process started by bench/run.ts:
 *
 *   node --expose-gc --import tsx bench/heap.ts --vms 100000
 *   node --expose-gc --import tsx bench/heap.ts --volumes 100000
 *
 * Builds the backend, warms the create path on a throwaway backend (so JIT code and one-time
 * allocations are not counted), forces GC, reads heapUsed, creates the VMs (volumes) through the
 * repository, forces GC again and reads heapUsed. Sends { type: 'heap', ... } to the parent over IPC.
 */
import { parseArgs } from 'node:util';
import type { Backend } from '../src/repository/backend.js';
import { createBenchBackend, populate, populateVolumes } from './fixtures.js';

export interface HeapMessage {
  type: 'heap';
  node: string;
  resource: 'vm' | 'volume';
  count: number;
  beforeBytes: number;
  afterBytes: number;
  bytesPerItem: number;
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/heap.ts needs node --expose-gc');
  // Twice: the first pass can leave garbage that only a second one finds (weak refs, finalizers).
  gc();
  gc();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { vms: { type: 'string' }, volumes: { type: 'string' } } });
  const resource = values.volumes === undefined ? 'vm' : 'volume';
  const given = values.volumes ?? values.vms ?? '100000';
  const count = Number(given);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--${resource === 'vm' ? 'vms' : 'volumes'} must be a positive whole number, got ${given}`);
  const fill = (backend: Backend, n: number, prefix: string) => (resource === 'vm' ? populate(backend, n, prefix) : populateVolumes(backend, n, prefix));

  const warm = createBenchBackend();
  await fill(warm, 5_000, 'warm');
  await warm.close();

  const backend = createBenchBackend();
  fullGc();
  const beforeBytes = process.memoryUsage().heapUsed;
  await fill(backend, count, resource);
  fullGc();
  const afterBytes = process.memoryUsage().heapUsed;
  // Keep the store reachable until after the second measure.
  if ((await backend.vms.countByStatus()).RUNNING === -1) console.log('unreachable');

  const message: HeapMessage = {
    type: 'heap',
    node: process.version,
    resource,
    count,
    beforeBytes,
    afterBytes,
    bytesPerItem: (afterBytes - beforeBytes) / count,
  };
  if (!process.send) throw new Error('bench/heap.ts must be started by bench/run.ts (it needs the IPC channel)');
  process.send(message, () => process.exit(0));
}

process.on('disconnect', () => process.exit(0));

main().catch((error: unknown) => {
  console.error('bench heap measure failed:', error);
  process.exit(1);
});
