/**
 * The memory backend's volumes at scale (issue 10), in one fresh process:
 *
 *   node --expose-gc --import tsx bench/volumes.ts
 *
 * 1. heap per volume: heapUsed after GC before and after 100k volumes made through the
 *    repository (target <= 1024 bytes a volume);
 * 2. a list page (limit 50, first page and one deep in the list) with 1k and with 100k volumes
 *    stored, timed through the repository: the median of many calls (target: 100k within 1.2x of 1k).
 * A report, not a test: it prints the figures and PASS/FAIL, and exits 0.
 */
import { MemoryVolumeRepository } from '../src/backends/memory/memory-volume-repository.js';
import type { Scope } from '../src/domain/tenancy.js';

const scope: Scope = { tenant: 'default', keyId: null, role: 'member', requestId: 'bench' };
const limits = {
  actionDelayMs: 0,
  deletedRetentionMs: 3_600_000,
  maxTombstones: 10_000,
  idempotencyTtlMs: 86_400_000,
  maxIdempotencyKeys: 100_000,
  storageGb: 1_000_000_000,
  quotaVolumes: -1,
  quotaGigabytes: -1,
};

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/volumes.ts needs node --expose-gc');
  gc();
  gc();
}

async function fill(count: number): Promise<MemoryVolumeRepository> {
  const repo = new MemoryVolumeRepository(limits);
  for (let i = 0; i < count; i++) await repo.create(scope, { name: `vol-${i}`, description: '', sizeGb: 1 + (i % 100) });
  return repo;
}

const listed = ['AVAILABLE', 'IN_USE', 'ERROR'] as const;

/** The cursor of the page in the middle of the store, followed page by page as a client would. */
async function middleCursor(repo: MemoryVolumeRepository): Promise<string | undefined> {
  const total = (await repo.quotaUsage(scope)).volumes.used;
  let cursor: string | undefined;
  for (let read = 0; read < total / 2; read += 1000) {
    cursor = (await repo.list(scope, { statuses: listed, limit: 1000, ...(cursor && { cursor }) })).nextCursor ?? undefined;
  }
  return cursor;
}

/** Median microseconds of a 50-item page on each store, the two measured in turn (A B A B ...) so that noise falls on both. */
async function pagePair(stores: MemoryVolumeRepository[], deep: boolean): Promise<number[]> {
  const cursors = await Promise.all(stores.map((repo) => (deep ? middleCursor(repo) : Promise.resolve(undefined))));
  const times: number[][] = stores.map(() => []);
  for (let i = 0; i < 5_000; i++) {
    for (const [k, repo] of stores.entries()) {
      const cursor = cursors[k];
      const start = process.hrtime.bigint();
      await repo.list(scope, { statuses: listed, limit: 50, ...(cursor && { cursor }) });
      (times[k] as number[]).push(Number(process.hrtime.bigint() - start) / 1000);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)] as number);
}

async function main(): Promise<void> {
  await (await fill(5_000)).quotaUsage(scope); // warm the create path
  fullGc();
  const before = process.memoryUsage().heapUsed;
  const big = await fill(100_000);
  fullGc();
  const perVolume = (process.memoryUsage().heapUsed - before) / 100_000;
  const small = await fill(1_000);
  const results = [];
  for (const deep of [false, true]) {
    const [at1k = 0, at100k = 0] = await pagePair([small, big], deep);
    results.push({ page: deep ? 'deep' : 'first', at1k, at100k, ratio: at100k / at1k });
  }
  console.log(`node ${process.version}`);
  console.log(`heap per volume at 100k: ${perVolume.toFixed(0)} bytes (target <= 1024): ${perVolume <= 1024 ? 'PASS' : 'FAIL'}`);
  for (const r of results) {
    console.log(
      `list page (limit 50, ${r.page}): ${r.at1k.toFixed(1)} us at 1k, ${r.at100k.toFixed(1)} us at 100k, ${r.ratio.toFixed(2)}x (target <= 1.2x): ${r.ratio <= 1.2 ? 'PASS' : 'FAIL'}`,
    );
  }
}

await main();
