/**
 * The OpenStack adapter's timings. One object, shared by reference with the modules that use it
 * and read at each use, so that a test can tighten it on a running backend.
 */
export interface OpenStackTuning {
  /** How often waiters (and this adapter's own watchers) re-read a busy server. */
  pollIntervalMs: number;
  /** How far back a deleted server is still found (Nova's changes-since). */
  deletedWindowMs: number;
  /** How long the metrics gauge's counts are reused. */
  countCacheMs: number;
  /** A watcher gives up on a task that has not settled after this long. */
  settleTimeoutMs: number;
  /** A reconciling call that failed (or went unanswered) is sent again after this long. */
  nudgeRetryMs: number;
  /** Concurrent and back-to-back reads of one VM within this long share one Nova call. */
  readReuseMs: number;
  /** How many deleted servers are remembered in-process (oldest first out). */
  maxRememberedDeleted: number;
  /** How long after this process made a server a 404 for it is asked again (read-cache.ts). */
  youngServerMs: number;
}

export const defaultTuning: Readonly<OpenStackTuning> = {
  pollIntervalMs: 250,
  deletedWindowMs: 3_600_000,
  countCacheMs: 5_000,
  settleTimeoutMs: 600_000,
  nudgeRetryMs: 5_000,
  readReuseMs: 150,
  maxRememberedDeleted: 10_000,
  youngServerMs: 60_000,
};
