import { randomUUID } from 'node:crypto';
import { ApiError } from '../../domain/errors.js';
import {
  DEFAULT_SECURITY_GROUP,
  allowAllEgress,
  quotaExceeded,
  ruleExists,
  sameRule,
  securityGroupQuotas,
  type NewRule,
  type SecurityGroup,
  type SecurityGroupRef,
  type SecurityGroupRule,
} from '../../domain/security-group.js';
import { scopeSees, type Scope } from '../../domain/tenancy.js';
import type { SecurityGroupRepository } from '../../repository/security-group-repository.js';
import type { VmRecord } from '../../repository/vm-repository.js';

/** What the groups need of the VMs: the memory VM repository answers it (memory-backend.ts wires the two). */
export interface VmGroupMembership {
  securityGroupsOf(scope: Scope, vmId: string): string[] | undefined;
  setSecurityGroups(vmId: string, groups: string[]): void;
  usesSecurityGroup(groupId: string): boolean;
  securityGroupRenamed(groupId: string): void;
}

/**
 * Security groups in the process, with Neutron's rules: unique names in a tenant, its `default`
 * made on first need with the allow-all egress pair, duplicate rules refused, Neutron's default
 * quotas per tenant (a new group's two egress rules count), and no delete while a VM uses a group.
 * Every method does its checks and its change in one tick, so racing requests cannot both pass.
 */
export class MemorySecurityGroupRepository implements SecurityGroupRepository {
  /** In creation order, so lists are oldest first. */
  private readonly groups = new Map<string, SecurityGroup>();
  private readonly defaults = new Map<string, string>();

  constructor(
    private readonly vms: VmGroupMembership,
    private readonly now: () => number = Date.now,
    private readonly quotas: { security_group: number; security_group_rule: number } = securityGroupQuotas,
  ) {}

  /** The name a VM shows for a group id (a group deleted under it shows its id). */
  nameOf(id: string): string {
    return this.groups.get(id)?.name ?? id;
  }

  async list(scope: Scope): Promise<SecurityGroup[]> {
    this.defaultOf(scope.tenant);
    return [...this.groups.values()].filter((g) => scopeSees(scope, g.tenant)).map(copy);
  }

  async tenantGroupNames(tenant: string): Promise<string[]> {
    return [...this.groups.values()].filter((g) => g.tenant === tenant).map((g) => g.name);
  }

  async find(scope: Scope, idOrName: string): Promise<SecurityGroup | undefined> {
    const found = this.lookUp(scope, idOrName);
    return found && copy(found);
  }

  async resolve(scope: Scope, idsOrNames: readonly string[]): Promise<(SecurityGroupRef | undefined)[]> {
    return idsOrNames.map((ref) => {
      const found = this.lookUp(scope, ref);
      return found && { id: found.id, name: found.name };
    });
  }

  async create(scope: Scope, input: { name: string; description: string }): Promise<SecurityGroup> {
    this.defaultOf(scope.tenant);
    this.assertNameFree(scope.tenant, input.name);
    return copy(this.make(scope.tenant, input.name, input.description));
  }

  async update(scope: Scope, group: SecurityGroup, change: { name?: string; description?: string }): Promise<SecurityGroup> {
    const stored = this.stored(scope, group.id);
    if (change.name !== undefined && change.name !== stored.name) {
      this.assertNameFree(stored.tenant, change.name);
      stored.name = change.name;
      this.vms.securityGroupRenamed(stored.id);
    }
    if (change.description !== undefined) stored.description = change.description;
    return copy(stored);
  }

  async delete(scope: Scope, group: SecurityGroup): Promise<void> {
    const stored = this.stored(scope, group.id);
    if (this.vms.usesSecurityGroup(stored.id)) {
      throw new ApiError('RESOURCE_IN_USE', `The security group ${stored.name} is attached to a VM; detach it first`);
    }
    this.groups.delete(stored.id);
  }

  async addRule(scope: Scope, group: SecurityGroup, rule: NewRule): Promise<SecurityGroupRule> {
    const stored = this.stored(scope, group.id);
    const duplicate = stored.rules.find((r) => sameRule(r, rule));
    if (duplicate) throw ruleExists(duplicate);
    if (this.rulesOf(stored.tenant) + 1 > this.quotas.security_group_rule) throw quotaExceeded('security_group_rule', this.quotas.security_group_rule);
    const added = { id: randomUUID(), ...rule };
    stored.rules.push(added);
    return { ...added };
  }

  async deleteRule(scope: Scope, group: SecurityGroup, ruleId: string): Promise<void> {
    const stored = this.stored(scope, group.id);
    const index = stored.rules.findIndex((r) => r.id === ruleId);
    if (index === -1) throw new ApiError('RULE_NOT_FOUND', `The security group ${stored.name} has no rule ${ruleId}`);
    stored.rules.splice(index, 1);
  }

  async attach(scope: Scope, vm: VmRecord, group: SecurityGroupRef): Promise<string[]> {
    const current = this.membersOf(scope, vm);
    if (current.includes(group.id)) throw new ApiError('ALREADY_ATTACHED', `The security group ${group.name} is attached to the VM already`);
    const next = [...current, group.id];
    this.vms.setSecurityGroups(vm.vm.id, next);
    return next.map((id) => this.nameOf(id));
  }

  async detach(scope: Scope, vm: VmRecord, group: SecurityGroupRef): Promise<string[]> {
    const current = this.membersOf(scope, vm);
    if (!current.includes(group.id)) throw notAttached(group);
    const next = current.filter((id) => id !== group.id);
    this.vms.setSecurityGroups(vm.vm.id, next);
    return next.map((id) => this.nameOf(id));
  }

  private membersOf(scope: Scope, vm: VmRecord): string[] {
    const current = this.vms.securityGroupsOf(scope, vm.vm.id);
    if (current === undefined) throw new ApiError('VM_NOT_FOUND', `No VM with id ${vm.vm.id}`);
    return current;
  }

  /** By id if the scope sees it, else by name among the scope's tenant's (its `default` made if needed). */
  private lookUp(scope: Scope, idOrName: string): SecurityGroup | undefined {
    const byId = this.groups.get(idOrName);
    if (byId && scopeSees(scope, byId.tenant)) return byId;
    if (idOrName === DEFAULT_SECURITY_GROUP) return this.defaultOf(scope.tenant);
    for (const group of this.groups.values()) if (group.tenant === scope.tenant && group.name === idOrName) return group;
    return undefined;
  }

  private stored(scope: Scope, id: string): SecurityGroup {
    const stored = this.groups.get(id);
    if (!stored || !scopeSees(scope, stored.tenant)) throw new ApiError('SECURITY_GROUP_NOT_FOUND', `No security group ${id}`);
    return stored;
  }

  private defaultOf(tenant: string): SecurityGroup {
    const id = this.defaults.get(tenant);
    const existing = id === undefined ? undefined : this.groups.get(id);
    if (existing) return existing;
    const made = this.make(tenant, DEFAULT_SECURITY_GROUP, 'The tenant\'s default group');
    this.defaults.set(tenant, made.id);
    return made;
  }

  private make(tenant: string, name: string, description: string): SecurityGroup {
    const groups = [...this.groups.values()].filter((g) => g.tenant === tenant).length;
    if (groups + 1 > this.quotas.security_group) throw quotaExceeded('security_group', this.quotas.security_group);
    if (this.rulesOf(tenant) + allowAllEgress.length > this.quotas.security_group_rule) {
      throw quotaExceeded('security_group_rule', this.quotas.security_group_rule);
    }
    const group: SecurityGroup = {
      id: randomUUID(),
      name,
      description,
      rules: allowAllEgress.map((rule) => ({ id: randomUUID(), ...rule })),
      tenant,
      created_at: new Date(this.now()).toISOString(),
    };
    this.groups.set(group.id, group);
    return group;
  }

  private assertNameFree(tenant: string, name: string): void {
    for (const group of this.groups.values()) {
      if (group.tenant === tenant && group.name === name) {
        throw new ApiError('SECURITY_GROUP_NAME_TAKEN', `The tenant has a security group named ${name} already`);
      }
    }
  }

  private rulesOf(tenant: string): number {
    let count = 0;
    for (const group of this.groups.values()) if (group.tenant === tenant) count += group.rules.length;
    return count;
  }
}

export function notAttached(group: SecurityGroupRef): ApiError {
  return new ApiError('SECURITY_GROUP_NOT_FOUND', `The security group ${group.name} is not attached to the VM`);
}

function copy(group: SecurityGroup): SecurityGroup {
  return { ...group, rules: group.rules.map((r) => ({ ...r })) };
}
