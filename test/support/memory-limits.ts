import { DAY_MS, type MemoryLimits } from '../../src/backends/memory/memory-backend.js';

/** Roomy limits for tests that build a memory backend directly: no quota, an hour of tombstones. */
export function memoryLimits(over: Partial<MemoryLimits> = {}): MemoryLimits {
  return {
    actionDelayMs: 0,
    capacityVcpus: 64,
    capacityRamMb: 131_072,
    quotaInstances: -1,
    quotaVcpus: -1,
    quotaRamMb: -1,
    ipCidr: '10.0.0.0/24',
    deletedRetentionMs: 3_600_000,
    maxTombstones: 10_000,
    idempotencyTtlMs: DAY_MS,
    maxIdempotencyKeys: 100_000,
    ...over,
  };
}
