import type { ApiKey, Role, Tenant } from '../domain/tenancy.js';

/**
 * The port for tenants and API keys. Memory holds them in the process (secrets only as hashes);
 * OpenStack maps a tenant to a Keystone project and a key to an application credential, so the
 * port never hands back a stored secret: `createKey` returns the secret once, and `authenticate`
 * turns a presented secret into its key.
 *
 * Errors are thrown as ApiError (TENANT_NOT_FOUND, KEY_NOT_FOUND, TENANT_NAME_TAKEN).
 */
export interface NewKey {
  tenant: string;
  name: string;
  role: Role;
  /** ISO 8601; absent: the key does not expire. */
  expiresAt?: string;
}

/** What a presented key proves: enough to make the request's Scope. */
export type KeyIdentity = Pick<ApiKey, 'id' | 'tenant' | 'role'>;

export interface TenantDirectory {
  /**
   * Whether every API process sees the same tenants and keys through this directory (Keystone).
   * One that keeps them in its process needs its keys shared another way (REDIS_URL).
   */
  readonly sharedByProcesses: boolean;

  createTenant(input: { name: string; description: string }): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  /** Removes the tenant and revokes its keys. */
  deleteTenant(id: string): Promise<void>;

  /** The new key and its secret, which is never available again. */
  createKey(input: NewKey): Promise<{ key: ApiKey; secret: string }>;
  getKey(id: string): Promise<ApiKey | undefined>;
  /** Every key, or the keys of one tenant. */
  listKeys(tenant?: string): Promise<ApiKey[]>;
  /** Takes effect at once in this process. */
  revokeKey(id: string): Promise<void>;
  /** The live key this secret belongs to; undefined for an unknown, revoked or expired one. */
  authenticate(secret: string): Promise<KeyIdentity | undefined>;
}
