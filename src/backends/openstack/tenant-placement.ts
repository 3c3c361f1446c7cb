import type { Connection, ListServersQuery, Server } from '../../openstack/index.js';
import { DEFAULT_TENANT, type Scope } from '../../domain/tenancy.js';
import { tenantOfTags, tenantTag } from './marks.js';
import { tenantByTag } from './server-record.js';

/**
 * Where a tenant's resources live in the cloud, and whose token makes them (docs/contract.md
 * section 8; ARCHITECTURE.md "Tenants in Keystone"). The repositories ask this one object, so a
 * resource added later inherits the rule instead of restating it.
 */
export interface TenantPlacement {
  /** The connection for a call by `scope` on a resource of `owner` (by default the scope's own tenant). */
  connectionFor(scope: Scope, owner?: string): Connection;
  /** Nova's list filters that find the servers of `tenant`, or of every tenant when undefined. */
  serverFilter(tenant: string | undefined): Pick<ListServersQuery, 'tags' | 'allTenants' | 'projectId'>;
  /** The tenant a server belongs to, from its tags and its project. */
  tenantOfServer(server: Pick<Server, 'tags' | 'tenant_id'>): string;
}

/**
 * OS_TENANTS=process: every tenant shares the operator's project, and a server's tenant is its
 * `vmapi-tenant-<id>` tag (an untagged one is the default tenant's). Every call goes out as the operator.
 */
export function sharedProjectPlacement(operator: Connection): TenantPlacement {
  return {
    connectionFor: () => operator,
    serverFilter: (tenant) => (tenant !== undefined && tenant !== DEFAULT_TENANT ? { tags: [tenantTag(tenant)] } : {}),
    tenantOfServer: tenantByTag,
  };
}

/**
 * OS_TENANTS=keystone: a tenant is a Keystone project, and its id is the project's id (the default
 * tenant is the operator's project). A member's or reader's calls go out with its key's token,
 * scoped to its tenant's project, so Nova's, Neutron's and Cinder's own isolation holds as well as
 * ours. The operator, a Keystone admin, acts where no such key is at hand: work the API does in the
 * background, the default tenant, and keys with the admin role, which see every tenant (what an
 * admin key makes goes into the operator's project, marked with its tenant as with
 * `process`).
 *
 * A server's project outlives its tags (Nova drops both tags and metadata on delete), so a deleted
 * server still finds its tenant.
 */
export function ownProjectPlacement(operator: Connection, keyConnection: (keyId: string) => Connection | undefined): TenantPlacement {
  return {
    connectionFor(scope, owner = scope.tenant) {
      if (owner !== scope.tenant || scope.keyId === null || scope.role === 'admin') return operator;
      return keyConnection(scope.keyId) ?? operator;
    },
    serverFilter(tenant) {
      if (tenant === DEFAULT_TENANT) return {};
      return tenant === undefined ? { allTenants: true } : { allTenants: true, projectId: tenant };
    },
    tenantOfServer(server) {
      const project = server.tenant_id;
      const fromProject = project === undefined || project === operator.projectId ? DEFAULT_TENANT : project;
      return tenantOfTags(server.tags ?? [], fromProject);
    },
  };
}
