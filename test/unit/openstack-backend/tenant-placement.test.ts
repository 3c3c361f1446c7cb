import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/openstack/index.js';
import type { Scope } from '../../../src/domain/tenancy.js';
import { ownProjectPlacement, sharedProjectPlacement } from '../../../src/backends/openstack/tenant-placement.js';

// Placement only compares connections and reads the operator's project: plain objects stand in.
const operator = { projectId: 'operator-project' } as Connection;
const keyConnection = { projectId: 'tenant-a' } as Connection;
const scope = (over: Partial<Scope> = {}): Scope => ({ tenant: 'tenant-a', keyId: 'key-a', role: 'member', requestId: 'req-1', ...over });

describe('sharedProjectPlacement (OS_TENANTS=process)', () => {
  const placement = sharedProjectPlacement(operator);

  it('sends every call as the operator', () => {
    expect(placement.connectionFor(scope())).toBe(operator);
  });

  it("finds a tenant's servers by its tag, the default tenant's and everyone's without a filter", () => {
    expect(placement.serverFilter('tenant-a')).toEqual({ tags: ['vmapi-tenant-tenant-a'] });
    expect(placement.serverFilter('default')).toEqual({});
    expect(placement.serverFilter(undefined)).toEqual({});
  });

  it('reads the tenant from the tag; an untagged server is the default tenant\'s, whatever its project', () => {
    expect(placement.tenantOfServer({ tags: ['vmapi-tenant-tenant-a'], tenant_id: 'operator-project' })).toBe('tenant-a');
    expect(placement.tenantOfServer({ tags: [], tenant_id: 'elsewhere' })).toBe('default');
  });
});

describe('ownProjectPlacement (OS_TENANTS=keystone)', () => {
  const keys = new Map([['key-a', keyConnection]]);
  const placement = ownProjectPlacement(operator, (id) => keys.get(id));

  it("sends a member's calls on its own tenant with its key's connection", () => {
    expect(placement.connectionFor(scope())).toBe(keyConnection);
    expect(placement.connectionFor(scope({ role: 'reader' }), 'tenant-a')).toBe(keyConnection);
  });

  it('falls back to the operator for another owner, an admin, an anonymous caller or a key it holds no token for', () => {
    expect(placement.connectionFor(scope(), 'tenant-b')).toBe(operator);
    expect(placement.connectionFor(scope({ role: 'admin' }))).toBe(operator);
    expect(placement.connectionFor(scope({ keyId: null, tenant: 'default' }))).toBe(operator);
    expect(placement.connectionFor(scope({ keyId: 'key-unknown' }))).toBe(operator);
  });

  it("finds a tenant's servers by its project across projects, the default tenant's in the operator's own", () => {
    expect(placement.serverFilter('tenant-a')).toEqual({ allTenants: true, projectId: 'tenant-a' });
    expect(placement.serverFilter('default')).toEqual({});
    expect(placement.serverFilter(undefined)).toEqual({ allTenants: true });
  });

  it('reads the tenant from the tag first, then from the project (a deleted server has lost its tags)', () => {
    expect(placement.tenantOfServer({ tags: ['vmapi-tenant-tenant-b'], tenant_id: 'operator-project' })).toBe('tenant-b');
    expect(placement.tenantOfServer({ tags: [], tenant_id: 'tenant-a' })).toBe('tenant-a');
    expect(placement.tenantOfServer({ tenant_id: 'operator-project' })).toBe('default');
    expect(placement.tenantOfServer({ tags: [] })).toBe('default');
  });
});
