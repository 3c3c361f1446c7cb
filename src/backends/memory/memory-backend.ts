import type { Backend, Readiness } from '../../repository/vm-repository.js';
import { MemoryCatalog } from './catalog.js';
import { MemoryVmRepository, type MemoryLimits } from './memory-vm-repository.js';

export type { MemoryLimits };

export const DAY_MS = 86_400_000;

export function createMemoryBackend(limits: MemoryLimits, now: () => number = Date.now): Backend {
  const vms = new MemoryVmRepository(limits, now);
  return {
    name: 'memory',
    vms,
    catalog: new MemoryCatalog(),
    async checkReady(): Promise<Readiness> {
      return { ready: true, checks: [{ name: 'memory', ok: true }] };
    },
    async close() {
      vms.close();
    },
  };
}
