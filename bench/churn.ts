/**
 * Create+delete churn for one simulated hour, with and without the memory backend's count caps,
 * in a fresh process (bench/run.ts starts it; it also runs alone and prints its figures):
 *
 *   node --expose-gc --import tsx bench/churn.ts [--rate 8125] [--pairs 240000] [--blocks 12]
 *
 * Issue 7 measured the churn: 20 s of create+delete grew RSS from 86 to 229 MB, at about 0.42 KB a
 * tombstone and 0.46 KB an Idempotency-Key, i.e. (229 - 86) MB / 20 s / 0.88 KB = about 8 125
 * pairs a second, the default rate. An hour of that is 29 million pairs, far more than a bench
 * can run, so time is compressed: the hour is cut into `blocks` (5 minutes each by default); in
 * each, `pairs / blocks` pairs run back to back on an injected clock that moves 1/rate s per pair,
 * then the clock jumps to the block's end. After each block: full GC, heapUsed.
 *
 * Every pair is what the issue measured: a create with a fresh Idempotency-Key, then its delete,
 * through the repository (no HTTP, no action delay: the delete leaves a tombstone at once).
 * The same schedule runs twice, on two backends that differ only in the caps:
 *   - "time only": the caps off (MAX_SAFE_INTEGER), the behaviour before them;
 *   - "capped": the defaults of src/config/env-schema.ts.
 * Each is measured against its own heap after GC just before it starts.
 */
import { parseArgs } from 'node:util';
import { createMemoryBackend, type MemoryLimits } from '../src/backends/memory/memory-backend.js';
import { envSchema } from '../src/config/env-schema.js';
import type { Backend } from '../src/repository/backend.js';
import { DEFAULT_TENANT, type Scope } from '../src/domain/tenancy.js';
import type { Flavor } from '../src/domain/vm.js';
import { ISSUE_RATE, cappedGrowthRatio, describeChurn, type ChurnMessage, type ChurnRun } from './churn-report.js';
import { benchLimits, catalogOf } from './fixtures.js';

const HOUR_MS = 3_600_000;
/** Every pair is one anonymous member's, as with AUTH_MODE=none. */
const churnScope: Scope = { tenant: DEFAULT_TENANT, keyId: null, role: 'member', requestId: 'bench-churn' };

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/churn.ts needs node --expose-gc');
  gc();
  gc();
}

async function churn(label: string, limits: MemoryLimits, rate: number, pairs: number, blocks: number): Promise<ChurnRun> {
  const clock = { t: Date.parse('2026-01-01T00:00:00.000Z') };
  const startAt = clock.t;
  let backend: Backend | undefined = createMemoryBackend(limits, { now: () => clock.t });
  const { flavors, image } = await catalogOf(backend);
  const flavor = flavors[0] as Flavor;
  const perBlock = Math.floor(pairs / blocks);
  const stepMs = 1000 / rate;
  const fingerprint = 'f'.repeat(43); // a sha256 in base64url, as the service makes it
  fullGc();
  const startBytes = process.memoryUsage().heapUsed;
  const blockBytes: number[] = [];
  const started = performance.now();
  let n = 0;
  for (let block = 1; block <= blocks; block++) {
    for (let i = 0; i < perBlock; i++, n++) {
      const key = `churn-${n.toString(36).padStart(8, '0')}-${'k'.repeat(24)}`;
      const created = await backend.vms.create(churnScope, { name: `churn-${n}`, flavor, image, start: true, idempotency: { key, fingerprint } });
      await backend.vms.apply(churnScope, created.vm.id, { action: 'delete' }, () => undefined);
      clock.t += stepMs;
    }
    clock.t = startAt + (block * HOUR_MS) / blocks;
    fullGc();
    blockBytes.push(process.memoryUsage().heapUsed);
  }
  const ms = performance.now() - started;
  const deletedAtEnd = (await backend.vms.countByStatus()).DELETED;
  await backend.close();
  backend = undefined;
  return { label, maxTombstones: limits.maxTombstones, maxIdempotencyKeys: limits.maxIdempotencyKeys, startBytes, blockBytes, deletedAtEnd, ms };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: String(ISSUE_RATE) },
      pairs: { type: 'string', default: '240000' },
      blocks: { type: 'string', default: '12' },
    },
  });
  const rate = Number(values.rate);
  const pairs = Number(values.pairs);
  const blocks = Number(values.blocks);
  for (const [name, value] of Object.entries({ rate, pairs, blocks })) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  }

  // The caps as a deployment gets them by default; the rest are the bench's roomy limits.
  const defaults = envSchema.parse({});
  const capped: MemoryLimits = { ...benchLimits, maxTombstones: defaults.MOCK_MAX_TOMBSTONES, maxIdempotencyKeys: defaults.MOCK_MAX_IDEMPOTENCY_KEYS };
  const timeOnly: MemoryLimits = { ...benchLimits, maxTombstones: Number.MAX_SAFE_INTEGER, maxIdempotencyKeys: Number.MAX_SAFE_INTEGER };

  // Warm the paths (JIT, one-time allocations) on a throwaway run, so neither measured run pays for them.
  await churn('warm-up', capped, rate, 20_000, 2);

  const message: ChurnMessage = {
    type: 'churn',
    node: process.version,
    rate,
    pairs,
    blocks,
    pairsPerHourAtRate: Math.round(rate * 3600),
    capped: await churn('capped', capped, rate, pairs, blocks),
    timeOnly: await churn('time only', timeOnly, rate, pairs, blocks),
  };
  if (process.send) {
    process.send(message, () => process.exit(0));
  } else {
    for (const line of describeChurn(message)) console.log(line);
    console.log(`  capped growth after the caps filled / time-only growth over the same blocks: ${cappedGrowthRatio(message).toFixed(3)}`);
  }
}

process.on('disconnect', () => process.exit(0));

main().catch((error: unknown) => {
  console.error('bench churn failed:', error);
  process.exit(1);
});
