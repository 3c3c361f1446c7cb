import type { ApiKey, Tenant } from '../domain/tenancy.js';
import { hashSecret } from '../backends/memory/tenant-directory.js';
import type { KeyIdentity, NewKey, TenantDirectory } from '../repository/tenant-directory.js';
import type { KeyRecords } from './shared-state.js';

/**
 * The backend's tenant directory, with its keys' records also on Redis (REDIS_URL), so that a key
 * made through one process authenticates on every process and can be revoked through any. Only
 * the record goes to Redis: the key as anyone may see it, under the SHA-256 of its secret (as the
 * memory directory keeps it), never the secret.
 *
 * Tenants and key listings stay the backend's (per process on the memory backend: docs/deploy.md).
 * Revocation is not decided here: TenantService records it in the shared revocations, which the
 * authenticate middleware asks on every request, for every key.
 */
export class SharedKeyDirectory implements TenantDirectory {
  readonly sharedByProcesses = true;
  /** Records fetched from Redis, by secret hash (a key's record never changes; revocation is separate). */
  private readonly fetched = new Map<string, ApiKey>();

  constructor(
    private readonly inner: TenantDirectory,
    private readonly records: KeyRecords,
    private readonly now: () => number = Date.now,
  ) {}

  createTenant(input: { name: string; description: string }): Promise<Tenant> {
    return this.inner.createTenant(input);
  }

  getTenant(id: string): Promise<Tenant | undefined> {
    return this.inner.getTenant(id);
  }

  listTenants(): Promise<Tenant[]> {
    return this.inner.listTenants();
  }

  deleteTenant(id: string): Promise<void> {
    return this.inner.deleteTenant(id);
  }

  /** A key that cannot be shared (Redis down) is not made at all: it would work on one process only. */
  async createKey(input: NewKey): Promise<{ key: ApiKey; secret: string }> {
    const made = await this.inner.createKey(input);
    try {
      await this.records.put({ key: made.key, hash: hashSecret(made.secret) });
    } catch (error) {
      await this.inner.revokeKey(made.key.id);
      throw error;
    }
    return made;
  }

  async getKey(id: string): Promise<ApiKey | undefined> {
    return (await this.inner.getKey(id)) ?? (await this.records.byId(id));
  }

  listKeys(tenant?: string): Promise<ApiKey[]> {
    return this.inner.listKeys(tenant);
  }

  revokeKey(id: string): Promise<void> {
    return this.inner.revokeKey(id);
  }

  /** This process's own keys first (no round trip); then Redis, once per key per process. */
  async authenticate(secret: string): Promise<KeyIdentity | undefined> {
    const local = await this.inner.authenticate(secret);
    if (local) return local;
    const hash = hashSecret(secret);
    let key = this.fetched.get(hash);
    if (!key) {
      key = await this.records.byHash(hash);
      if (key) this.fetched.set(hash, key);
    }
    if (!key || (key.expires_at !== null && Date.parse(key.expires_at) <= this.now())) return undefined;
    return key;
  }
}
