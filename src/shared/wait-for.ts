
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
    await pause(Math.min(options.intervalMs, remaining), options.signal);
    if (options.signal?.aborted) break;
    value = await read();
  }
  return value;
}

/**
 * Everyone pausing on one signal, woken together by one 'abort' listener. Passing the signal to
 * timers/promises' setTimeout instead adds a listener per pause, and more than 10 concurrent waits
 * (one per waiting request, all on the server's shutdown signal) printed Node's
 * MaxListenersExceededWarning to stderr, outside the JSON log.
 */
const sleepers = new WeakMap<AbortSignal, Set<() => void>>();

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const others = signal && !signal.aborted ? sleepersOn(signal) : undefined;
    const wake = () => {
      clearTimeout(timer);
      others?.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    others?.add(wake);
  });
}

function sleepersOn(signal: AbortSignal): Set<() => void> {
  let set = sleepers.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    signal.addEventListener('abort', () => [...created].forEach((wake) => wake()), { once: true });
    sleepers.set(signal, created);
    set = created;
  }
  return set;
}
