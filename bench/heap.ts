/**
 * Heap growth per stored VM, in a fresh process started by bench/run.ts:
 *
 *   node --expose-gc --import tsx bench/heap.ts --vms 100000
 *
 * Builds the backend, warms the create path on a throwaway backend (so JIT code and one-time
 * allocations are not counted), forces GC, reads heapUsed, creates the VMs through the repository,
 * forces GC again and reads heapUsed. Sends { type: 'heap', ... } to the parent over IPC.
 */
import { parseArgs } from 'node:util';
import { createBenchBackend, populate } from './fixtures.js';

export interface HeapMessage {
  type: 'heap';
  node: string;
  vms: number;
  beforeBytes: number;
  afterBytes: number;
  bytesPerVm: number;
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/heap.ts needs node --expose-gc');
  // Twice: the first pass can leave garbage that only a second one finds (weak refs, finalizers).
  gc();
  gc();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { vms: { type: 'string', default: '100000' } } });
  const count = Number(values.vms);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--vms must be a positive whole number, got ${values.vms}`);

  const warm = createBenchBackend();
  await populate(warm, 5_000, 'warm');
  await warm.close();

  const backend = createBenchBackend();
  fullGc();
  const beforeBytes = process.memoryUsage().heapUsed;
  await populate(backend, count, 'vm');
  fullGc();
  const afterBytes = process.memoryUsage().heapUsed;
  // Keep the store reachable until after the second measure.
  if ((await backend.vms.countByStatus()).RUNNING === -1) console.log('unreachable');

  const message: HeapMessage = {
    type: 'heap',
    node: process.version,
    vms: count,
    beforeBytes,
    afterBytes,
    bytesPerVm: (afterBytes - beforeBytes) / count,
  };
  if (!process.send) throw new Error('bench/heap.ts must be started by bench/run.ts (it needs the IPC channel)');
  process.send(message, () => process.exit(0));
}

process.on('disconnect', () => process.exit(0));

main().catch((error: unknown) => {
  console.error('bench heap measure failed:', error);
  process.exit(1);
});
