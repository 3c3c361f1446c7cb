import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  /** Ends the wait early (e.g. on shutdown); the last value read is still returned. */
  signal?: AbortSignal;
}

/**
 * Re-reads `read` until `done` holds or time runs out, and returns the last value read either way:
 * a caller that waited in vain still has the freshest state to show. Every "until settled" loop in
 * the project goes through here.
 */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let value = await read();
  while (!done(value) && !options.signal?.aborted) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      await sleep(Math.min(options.intervalMs, remaining), undefined, { signal: options.signal });
    } catch {
      break; // aborted
    }
    value = await read();
  }
  return value;
}
