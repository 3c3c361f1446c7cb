import { ApiError } from '../domain/errors.js';
import { roleAllows, scopeSees, DEFAULT_TENANT, type ApiKey, type Role, type Scope, type Tenant } from '../domain/tenancy.js';
import type { TenantDirectory } from '../repository/tenant-directory.js';
import type { Revocations } from '../shared-state/shared-state.js';

export interface CreateKeyRequest {
  name: string;
  role: Role;
  expiresAt?: string;
  /** Only an admin may name another tenant than its own. */
  tenant?: string;
}

/**
 * The rules of tenants and keys (docs/contract.md section 8). Which role an endpoint needs at least is
 * declared with the endpoint; this holds the rules that depend on the resource: whose tenant it is
 * (another tenant's answers exactly as an unknown id does) and that a key never outranks its maker.
 */
export class TenantService {
  constructor(
    private readonly directory: TenantDirectory,
    /** Whether a tenant still owns any resource (a tenant is deleted only when it owns none). */
    private readonly ownsResources: (tenant: string) => Promise<boolean>,
    private readonly now: () => number = Date.now,
    /** Where a revocation is recorded for every process (REDIS_URL) before the directory forgets the key. */
    private readonly revocations?: Pick<Revocations, 'revoke'>,
  ) {}

  async createTenant(input: { name: string; description: string }): Promise<{ tenant: Tenant; initialKey: ApiKey; secret: string }> {
    const tenant = await this.directory.createTenant(input);
    const { key, secret } = await this.directory.createKey({ tenant: tenant.id, name: 'initial', role: 'member' });
    return { tenant, initialKey: key, secret };
  }

  async listTenants(scope: Scope): Promise<Tenant[]> {
    const all = await this.directory.listTenants();
    return all.filter((t) => scopeSees(scope, t.id));
  }

  async getTenant(scope: Scope, id: string): Promise<Tenant> {
    const tenant = scopeSees(scope, id) ? await this.directory.getTenant(id) : undefined;
    if (!tenant) throw new ApiError('TENANT_NOT_FOUND', `No tenant with id ${id}`);
    return tenant;
  }

  async deleteTenant(scope: Scope, id: string): Promise<Tenant> {
    const tenant = await this.getTenant(scope, id);
    if (id === DEFAULT_TENANT) throw new ApiError('FORBIDDEN', 'The default tenant cannot be deleted');
    if (await this.ownsResources(id)) throw new ApiError('TENANT_NOT_EMPTY', `Tenant ${tenant.name} still owns resources; delete them first`);
    for (const key of await this.directory.listKeys(id)) await this.revocations?.revoke(key.id);
    await this.directory.deleteTenant(id);
    return tenant;
  }

  async createKey(scope: Scope, request: CreateKeyRequest): Promise<{ key: ApiKey; secret: string }> {
    const tenant = request.tenant ?? scope.tenant;
    // A member naming another tenant learns nothing about it: the same 404 as an unknown id.
    await this.getTenant(scope, tenant);
    if (!roleAllows(scope.role, request.role)) {
      throw new ApiError('FORBIDDEN', `A ${scope.role} key cannot make a ${request.role} key`);
    }
    if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= this.now()) {
      throw new ApiError('VALIDATION_ERROR', 'expires_at must be in the future', { errors: [{ path: 'body.expires_at', message: 'must be in the future' }] });
    }
    return this.directory.createKey({
      tenant,
      name: request.name,
      role: request.role,
      ...(request.expiresAt !== undefined && { expiresAt: new Date(request.expiresAt).toISOString() }),
    });
  }

  async listKeys(scope: Scope, tenant?: string): Promise<ApiKey[]> {
    if (scope.role === 'admin') return this.directory.listKeys(tenant);
    if (tenant !== undefined && tenant !== scope.tenant) return [];
    return this.directory.listKeys(scope.tenant);
  }

  async getKey(scope: Scope, id: string): Promise<ApiKey> {
    const key = await this.directory.getKey(id);
    if (!key || !scopeSees(scope, key.tenant)) throw new ApiError('KEY_NOT_FOUND', `No API key with id ${id}`);
    return key;
  }

  async revokeKey(scope: Scope, id: string): Promise<ApiKey> {
    const key = await this.getKey(scope, id);
    // First everywhere (a Redis that cannot record it: 503, nothing changed, retry), then here.
    await this.revocations?.revoke(id);
    await this.directory.revokeKey(id);
    return key;
  }
}
