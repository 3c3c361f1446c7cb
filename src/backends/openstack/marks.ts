import { createHash } from 'node:crypto';
import type { VmTask } from '../../domain/vm.js';

/**
 * What this API keeps on a server in Nova itself, so that every API process, and one started after
 * a crash, reads the same intent from the server. Tags are at most 60 characters, with no "/" or ",".
 */
export const marks = {
  /** Tag: created with start=false. Nova boots ACTIVE; whoever reads it stops it, then drops the tag. */
  startFalse: 'vmapi-start-false',
  /** Tag: a stop of a PAUSED VM, which Nova refuses: unpause first, then stop, then drop the tag. */
  stopAfterUnpause: 'vmapi-stop-after-unpause',
  /** Metadata: the fingerprint of the create request that used an Idempotency-Key. */
  fingerprint: 'vmapi-idempotency-fingerprint',
  /**
   * Metadata: rewritten before every action. Nova's `updated` has one-second resolution, so a quick
   * restart could otherwise leave the ETag unchanged.
   */
  revision: 'vmapi-revision',
} as const;

const idempotencyTagPrefix = 'vmapi-idem-';
const tenantTagPrefix = 'vmapi-tenant-';

/**
 * The tag naming the tenant a server belongs to (tenant ids are UUIDs or "default": 13 + 36
 * characters fit Nova's 60). This is what scopes servers within one project; with Keystone tenants
 * each tenant's are in its own project as well (tenant-placement.ts).
 */
export function tenantTag(tenant: string): string {
  return tenantTagPrefix + tenant;
}

/** The server's tenant; a server without the tag (made before tenants, or by other tools) is the default tenant's. */
export function tenantOfTags(tags: readonly string[], fallback: string): string {
  const tag = tags.find((t) => t.startsWith(tenantTagPrefix));
  return tag === undefined ? fallback : tag.slice(tenantTagPrefix.length);
}

/** The tag that finds the server created with an Idempotency-Key: a hash, as keys may hold any character. */
export function idempotencyTag(key: string): string {
  return idempotencyTagPrefix + createHash('sha256').update(key).digest('base64url');
}

/** The task a pending stop reads as, when the server carries one of the marks above. */
export function pendingStopTask(tags: readonly string[]): VmTask | undefined {
  if (tags.includes(marks.startFalse)) return 'creating';
  if (tags.includes(marks.stopAfterUnpause)) return 'stopping';
  return undefined;
}

/** The mark tags a server carries (tags of people or other tools are left alone). */
export function pendingStopMarks(tags: readonly string[]): string[] {
  return tags.filter((tag) => tag === marks.startFalse || tag === marks.stopAfterUnpause);
}
