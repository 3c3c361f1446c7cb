import { ApiError } from '../domain/errors.js';
import { roleAllows, scopeSees, DEFAULT_TENANT, type ApiKey, type Role, type Scope, type Tenant } from '../domain/tenancy.js';
import { DEFAULT_SECURITY_GROUP } from '../domain/security-group.js';
import type { Backend } from '../repository/backend.js';
import type { TenantDirectory } from '../repository/tenant-directory.js';
import type { Revocations } from '../shared-state/shared-state.js';

/** The ports a tenant's delete asks whether it still holds anything. */
export type TenantHoldings = Pick<Backend, 'vms' | 'volumes' | 'networks' | 'floatingIps' | 'securityGroups'>;

/**
 * What a tenant must not hold to be deleted (docs/contract.md section 8), each asked of its port:
 * VMs (deleted ones too, until forgotten), volumes, networks, floating IPs, and security groups
 * other than its `default` (made for it on first need, and deleted with it, never by a user).
 */
const holdings: readonly { what: string; holds: (ports: TenantHoldings, tenant: string) => Promise<boolean> }[] = [
  { what: 'VMs', holds: (p, t) => p.vms.tenantOwnsVms(t) },
  { what: 'volumes', holds: (p, t) => p.volumes.tenantOwnsVolumes(t) },
  { what: 'networks', holds: (p, t) => p.networks.tenantOwnsNetworks(t) },
  { what: 'floating IPs', holds: (p, t) => p.floatingIps.tenantOwnsFloatingIps(t) },
  { what: 'security groups', holds: async (p, t) => (await p.securityGroups.tenantGroupNames(t)).some((name) => name !== DEFAULT_SECURITY_GROUP) },
];

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
    /** The ports asked whether a tenant still holds anything (a tenant is deleted only when it holds nothing). */
    private readonly ports: TenantHoldings,
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
    const held = await Promise.all(holdings.map(async (h) => ((await h.holds(this.ports, id)) ? [h.what] : [])));
    const still = held.flat();
    if (still.length > 0) throw new ApiError('TENANT_NOT_EMPTY', `Tenant ${tenant.name} still holds ${still.join(', ')}; delete them first`);
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
