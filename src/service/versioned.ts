import type { ErrorExtras } from '../domain/errors.js';
import { ApiError } from '../domain/errors.js';
import type { Scope } from '../domain/tenancy.js';
import type { SharedState } from '../shared-state/shared-state.js';
import { waitFor } from '../shared/wait-for.js';

/**
 * The rules every versioned resource with tasks shares (VMs, volumes): If-Match, Idempotency-Key
 * claims and waiting for a task to settle. Each service keeps what is its own (what a replay must
 * match, which error names the resource).
 */

/** How long a claim outlives a process that died holding it (a create's claim covers the call to the backend). */
export const IDEMPOTENCY_CLAIM_TTL_MS = 60_000;

/** Throws 412 PRECONDITION_FAILED unless If-Match (if given) names `version` or `*`. */
export function assertIfMatch(ifMatch: readonly string[] | undefined, version: string, noun: string, extras: ErrorExtras = {}): void {
  if (ifMatch && !ifMatch.includes('*') && !ifMatch.includes(version)) {
    throw new ApiError('PRECONDITION_FAILED', `The ${noun} has changed since the ETag given in If-Match`, extras);
  }
}

/**
 * Runs `work` holding the claim on an Idempotency-Key (per tenant and resource kind), so that a
 * concurrent retry, in any process sharing the claims, is a 409 rather than a second create. If the
 * claim cannot be decided (Redis down) this throws BACKEND_UNAVAILABLE: never a second create.
 */
export async function underIdempotencyClaim<T>(
  claims: Pick<SharedState, 'claim' | 'release'>,
  claimKey: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!(await claims.claim(claimKey, IDEMPOTENCY_CLAIM_TTL_MS))) {
    throw new ApiError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed; retry later');
  }
  try {
    return await work();
  } finally {
    await claims.release(claimKey);
  }
}

/** The claim's name for a key of `scope`'s tenant; `kind` keeps a VM's and a volume's keys apart. */
export function claimKeyOf(scope: Scope, key: string, kind = ''): string {
  return `idem:${kind}${scope.tenant}:${key}`;
}

/** A list as a client asks for it: statuses as a set (absent or empty: all but DELETED), a name exact or a prefix ending in '*'. */
export interface ListRequestOf<S> {
  statuses?: ReadonlySet<S>;
  name?: string;
  limit: number;
  cursor?: string;
  /** An admin's `?tenant=`. */
  tenant?: string;
}

/**
 * The repository's page query for a list request, or null when the answer is an empty page: only
 * an admin chooses the tenant; anyone else naming another tenant sees nothing of it.
 */
export function pageQueryOf<S>(scope: Scope, request: ListRequestOf<S>, listedByDefault: readonly S[]) {
  if (scope.role !== 'admin' && request.tenant !== undefined && request.tenant !== scope.tenant) return null;
  const name = request.name;
  return {
    statuses: request.statuses && request.statuses.size > 0 ? [...request.statuses] : listedByDefault,
    ...(name !== undefined && {
      name: name.endsWith('*') ? { value: name.slice(0, -1), prefix: true } : { value: name, prefix: false },
    }),
    limit: request.limit,
    ...(request.cursor !== undefined && { cursor: request.cursor }),
    ...(request.tenant !== undefined && { tenant: request.tenant }),
  };
}

/** Waits (up to `waitMs`) for the task to settle, re-reading with `read`; the freshest record either way. */
export async function settled<R>(
  record: R,
  busy: (record: R) => boolean,
  read: () => Promise<R | undefined>,
  options: { waitMs: number; intervalMs: number; signal: AbortSignal },
): Promise<R> {
  if (!busy(record) || options.waitMs <= 0) return record;
  return waitFor(async () => (await read()) ?? record, (current) => !busy(current), {
    timeoutMs: options.waitMs,
    intervalMs: options.intervalMs,
    signal: options.signal,
  });
}
