/** The churn measure's message and how bench/run.ts (and bench/churn.ts alone) report it. */

/** Create+delete pairs a second in issue 7's measurement: (229 - 86) MB / 20 s / (0.42 + 0.46) KB. */
export const ISSUE_RATE = 8_125;

export interface ChurnRun {
  label: string;
  maxTombstones: number;
  maxIdempotencyKeys: number;
  /** heapUsed after GC when the run starts, in bytes. */
  startBytes: number;
  /** heapUsed after GC at the end of each block, in bytes. */
  blockBytes: number[];
  /** Tombstones held at the end (the DELETED count). */
  deletedAtEnd: number;
  ms: number;
}

export interface ChurnMessage {
  type: 'churn';
  node: string;
  rate: number;
  pairs: number;
  blocks: number;
  /** What an hour at `rate` holds, for the projection. */
  pairsPerHourAtRate: number;
  timeOnly: ChurnRun;
  capped: ChurnRun;
}

/** The first block (1-based) at whose end both caps are full: from then on, each pair replaces one. */
export function fullFromBlock(m: ChurnMessage): number {
  const perBlock = Math.floor(m.pairs / m.blocks);
  return Math.max(1, Math.ceil(Math.max(m.capped.maxTombstones, m.capped.maxIdempotencyKeys) / perBlock));
}

/** Heap growth from the end of block `from` (1-based) to the end of the run, in bytes. */
export function growthAfter(run: ChurnRun, from: number): number {
  return (run.blockBytes.at(-1) as number) - (run.blockBytes[from - 1] as number);
}

/**
 * The capped run's growth once its caps are full, as a share of the time-only run's growth over
 * the same blocks (the baseline of the same process): 0 is flat.
 */
export function cappedGrowthRatio(m: ChurnMessage): number {
  const from = fullFromBlock(m);
  // Caps that never filled show nothing about flatness: no figure rather than a flattering one.
  if (from > m.blocks) return Number.NaN;
  const baseline = growthAfter(m.timeOnly, from);
  return baseline > 0 ? Math.max(0, growthAfter(m.capped, from)) / baseline : Number.POSITIVE_INFINITY;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

export function describeChurn(m: ChurnMessage): string[] {
  const lines: string[] = [];
  const minutes = 60 / m.blocks;
  lines.push(
    `  ${m.pairs.toLocaleString('en-US')} create+delete pairs (fresh Idempotency-Key each) over one simulated hour: ${m.blocks} blocks of ` +
      `${minutes} min, each ${Math.floor(m.pairs / m.blocks).toLocaleString('en-US')} pairs at ${m.rate.toLocaleString('en-US')} pairs/s, the rest of the block skipped`,
  );
  for (const run of [m.timeOnly, m.capped]) {
    const caps = run.maxTombstones === Number.MAX_SAFE_INTEGER ? 'no caps' : `caps ${run.maxTombstones.toLocaleString('en-US')} tombstones / ${run.maxIdempotencyKeys.toLocaleString('en-US')} keys`;
    const samples = run.blockBytes.map((b) => (b / 1_048_576).toFixed(0)).join(' ');
    lines.push(`  ${run.label.padEnd(9)} (${caps}): heapUsed ${mb(run.startBytes)} at start; MB after each block: ${samples}; ${run.deletedAtEnd.toLocaleString('en-US')} tombstones at the end; ${(run.ms / 1000).toFixed(1)} s`);
  }
  const perPair = ((m.timeOnly.blockBytes.at(-1) as number) - m.timeOnly.startBytes) / (Math.floor(m.pairs / m.blocks) * m.blocks);
  const from = fullFromBlock(m);
  lines.push(
    `  time only: ${Math.round(perPair)} bytes a pair, ${mb((m.timeOnly.blockBytes.at(-1) as number) - m.timeOnly.startBytes)} by the end of the hour; ` +
      `at ${m.rate.toLocaleString('en-US')} pairs/s an hour is ${m.pairsPerHourAtRate.toLocaleString('en-US')} pairs: about ${((perPair * m.pairsPerHourAtRate) / 1_073_741_824).toFixed(1)} GB`,
  );
  const end = mb((m.capped.blockBytes.at(-1) as number) - m.capped.startBytes);
  lines.push(
    from > m.blocks
      ? `  capped: ${end} by the end of the hour, but the caps never filled in this run: raise BENCH_CHURN_PAIRS to at least twice the larger cap (${(2 * Math.max(m.capped.maxTombstones, m.capped.maxIdempotencyKeys)).toLocaleString('en-US')})`
      : `  capped: ${end} by the end of the hour, whatever the rate; ` +
          `from block ${from} (both caps full) to the end ${mb(growthAfter(m.capped, from))} (time only: ${mb(growthAfter(m.timeOnly, from))})`,
  );
  return lines;
}

