/**
 * Tenants, API keys and roles (docs/contract.md section 8), in the domain's words: no HTTP, no Keystone.
 */

/** Weakest first: each role may do everything the ones before it may. */
export const roles = ['reader', 'member', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Whether `role` may do what needs at least `needed`. */
export function roleAllows(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}

/** The tenant every caller belongs to with AUTH_MODE=none, and the operator's own. */
export const DEFAULT_TENANT = 'default';

/**
 * Every secret a tenant directory makes starts so (docs/contract.md section 8): a leaked key is easy
 * to recognise (secret scanners) and to tell from other tokens.
 */
export const KEY_SECRET_PREFIX = 'vmk_';

export interface Tenant {
  id: string;
  name: string;
  description: string;
  created_at: string;
}

/** An API key as anyone may see it: never its secret. */
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  tenant: string;
  created_at: string;
  expires_at: string | null;
}

/**
 * Who is calling and for which tenant: made once by the HTTP layer for every request and passed to
 * every service and repository call, so that no query can be answered without one (the way Nova's
 * RequestContext is the first argument of every call).
 */
export interface Scope {
  tenant: string;
  /** The key's id; null for an anonymous caller (AUTH_MODE=none without a key). */
  keyId: string | null;
  role: Role;
  requestId: string;
}

/** Whether `scope` may see a resource of `tenant`: its own, or any for an admin. */
export function scopeSees(scope: Scope, tenant: string): boolean {
  return scope.role === 'admin' || scope.tenant === tenant;
}
