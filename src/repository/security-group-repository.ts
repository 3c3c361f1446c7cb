import type { NewRule, SecurityGroup, SecurityGroupRef, SecurityGroupRule } from '../domain/security-group.js';
import type { Scope } from '../domain/tenancy.js';
import type { VmRecord } from './vm-repository.js';

/**
 * The port for security groups (docs/contract.md section 9), in the domain's words. Every call takes
 * the caller's Scope first: a group of another tenant is exactly a group that does not exist. Every
 * tenant has its own `default` group, which the backend makes the first time the tenant needs one
 * (any call in its scope).
 *
 * The backend enforces what only it can do atomically: unique names in a tenant, duplicate rules
 * (RULE_EXISTS), the quotas (QUOTA_EXCEEDED), a group in use (RESOURCE_IN_USE), and attachments
 * (ALREADY_ATTACHED, SECURITY_GROUP_NOT_FOUND when not attached). Rule validation and the `default`
 * group's protection are the service's (src/service/security-group-service.ts).
 */
export interface SecurityGroupRepository {
  /** The scope's tenant's groups (an admin's: every tenant's), oldest first. */
  list(scope: Scope): Promise<SecurityGroup[]>;
  /** By id (any tenant the scope sees) or by name (in the scope's own tenant). */
  find(scope: Scope, idOrName: string): Promise<SecurityGroup | undefined>;
  /** Each of `idsOrNames` as `find` would, in order; undefined for one not found. */
  resolve(scope: Scope, idsOrNames: readonly string[]): Promise<(SecurityGroupRef | undefined)[]>;
  create(scope: Scope, input: { name: string; description: string }): Promise<SecurityGroup>;
  update(scope: Scope, group: SecurityGroup, change: { name?: string; description?: string }): Promise<SecurityGroup>;
  delete(scope: Scope, group: SecurityGroup): Promise<void>;
  addRule(scope: Scope, group: SecurityGroup, rule: NewRule): Promise<SecurityGroupRule>;
  deleteRule(scope: Scope, group: SecurityGroup, ruleId: string): Promise<void>;
  /** Attaches `group` to the VM; answers the names of the VM's groups after. */
  attach(scope: Scope, vm: VmRecord, group: SecurityGroupRef): Promise<string[]>;
  /** Detaches `group` from the VM; answers the names of the VM's groups after. */
  detach(scope: Scope, vm: VmRecord, group: SecurityGroupRef): Promise<string[]>;
  /** The names of the tenant's groups, as they exist (asking makes no `default`). */
  tenantGroupNames(tenant: string): Promise<string[]>;
}
