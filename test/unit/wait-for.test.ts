import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../src/shared/wait-for.js';

/** A reader that returns 1, 2, 3, ... and counts its calls. */
function counter() {
  const state = { reads: 0, read: async () => ++state.reads };
  return state;
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; elapsed: number }> {
  const started = performance.now();
  const value = await work;
  return { value, elapsed: performance.now() - started };
}

describe('waitFor', () => {
  it('returns at once, after one read, when the first value is already done', async () => {
    const c = counter();
    const { value, elapsed } = await timed(waitFor(c.read, () => true, { timeoutMs: 5_000, intervalMs: 1_000 }));
    expect(value).toBe(1);
    expect(c.reads).toBe(1);
    expect(elapsed).toBeLessThan(500);
  });

  it('re-reads until done holds and returns that value', async () => {
    const c = counter();
    const value = await waitFor(c.read, (v) => v >= 3, { timeoutMs: 5_000, intervalMs: 5 });
    expect(value).toBe(3);
    expect(c.reads).toBe(3);
  });

  it('on timeout returns the last value read, after about the timeout', async () => {
    const c = counter();
    const { value, elapsed } = await timed(waitFor(c.read, () => false, { timeoutMs: 120, intervalMs: 10 }));
    expect(value).toBe(c.reads);
    expect(c.reads).toBeGreaterThan(2);
    expect(elapsed).toBeGreaterThanOrEqual(110);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('never sleeps past the deadline, even with an interval longer than the timeout', async () => {
    const c = counter();
    const { elapsed } = await timed(waitFor(c.read, () => false, { timeoutMs: 50, intervalMs: 10_000 }));
    expect(elapsed).toBeLessThan(1_000);
    // The first read and one at the deadline (a third only if the clock showed a hair under 50 ms).
    expect(c.reads).toBeGreaterThanOrEqual(2);
    expect(c.reads).toBeLessThanOrEqual(3);
  });

  it('a timeout of 0 reads once and returns', async () => {
    const c = counter();
    expect(await waitFor(c.read, () => false, { timeoutMs: 0, intervalMs: 10 })).toBe(1);
    expect(c.reads).toBe(1);
  });

  it('stops at once when the signal aborts during a wait, returning the last value read', async () => {
    const c = counter();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 40);
    const { value, elapsed } = await timed(waitFor(c.read, () => false, { timeoutMs: 10_000, intervalMs: 5_000, signal: controller.signal }));
    expect(elapsed).toBeLessThan(1_000);
    expect(value).toBe(1);
    expect(c.reads).toBe(1);
  });

  it('with an already-aborted signal, reads once and returns without waiting', async () => {
    const c = counter();
    const { value, elapsed } = await timed(waitFor(c.read, () => false, { timeoutMs: 10_000, intervalMs: 10, signal: AbortSignal.abort() }));
    expect(value).toBe(1);
    expect(c.reads).toBe(1);
    expect(elapsed).toBeLessThan(500);
  });

  it('an abort between reads stops before the next sleep', async () => {
    const controller = new AbortController();
    let reads = 0;
    const read = async () => {
      reads += 1;
      if (reads === 2) controller.abort();
      return reads;
    };
    const value = await waitFor(read, () => false, { timeoutMs: 10_000, intervalMs: 5, signal: controller.signal });
    expect(value).toBe(2);
    expect(reads).toBe(2);
  });

  it('a signal that is never aborted does not end the wait early', async () => {
    const c = counter();
    const value = await waitFor(c.read, (v) => v >= 3, { timeoutMs: 5_000, intervalMs: 5, signal: new AbortController().signal });
    expect(value).toBe(3);
  });

  it('a read that throws rejects the wait with that error', async () => {
    const boom = new Error('backend down');
    await expect(waitFor(async () => { throw boom; }, () => true, { timeoutMs: 100, intervalMs: 5 })).rejects.toBe(boom);
  });

  it('holds one abort listener on the signal however many waits share it, and wakes them all on abort', async () => {
    const stop = new AbortController();
    const waits = Array.from({ length: 25 }, () => waitFor(async () => 0, () => false, { timeoutMs: 60_000, intervalMs: 30_000, signal: stop.signal }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    const started = performance.now();
    stop.abort();
    expect(await Promise.all(waits)).toEqual(Array(25).fill(0));
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
