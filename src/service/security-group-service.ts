import { ApiError, type FieldError } from '../domain/errors.js';
import {
  DEFAULT_SECURITY_GROUP,
  ruleFromRequest,
  type RuleRequest,
  type SecurityGroup,
  type SecurityGroupRef,
  type SecurityGroupRule,
} from '../domain/security-group.js';
import type { Scope } from '../domain/tenancy.js';
import type { SecurityGroupRepository } from '../repository/security-group-repository.js';
import type { VmRecord, VmRepository } from '../repository/vm-repository.js';

/**
 * The rules of security groups above the port: rule validation (the domain's ruleFromRequest), the
 * `default` group's protection, names and ids resolved to groups with the right 404 or 400, and
 * attach/detach on a VM the scope sees. It knows the ports, never a backend, and never HTTP.
 */
export class SecurityGroupService {
  constructor(
    private readonly groups: SecurityGroupRepository,
    private readonly vms: Pick<VmRepository, 'get'>,
  ) {}

  list(scope: Scope): Promise<SecurityGroup[]> {
    return this.groups.list(scope);
  }

  async get(scope: Scope, idOrName: string): Promise<SecurityGroup> {
    const group = await this.groups.find(scope, idOrName);
    if (!group) throw new ApiError('SECURITY_GROUP_NOT_FOUND', `No security group with id or name "${idOrName}"`);
    return group;
  }

  create(scope: Scope, input: { name: string; description?: string | undefined }): Promise<SecurityGroup> {
    if (isDefaultName(input.name)) throw nameTaken(input.name);
    return this.groups.create(scope, { name: input.name, description: input.description ?? '' });
  }

  async update(scope: Scope, idOrName: string, change: { name?: string | undefined; description?: string | undefined }): Promise<SecurityGroup> {
    const group = await this.get(scope, idOrName);
    if (change.name !== undefined && change.name !== group.name) {
      if (group.name === DEFAULT_SECURITY_GROUP) throw undeletable('renamed');
      if (isDefaultName(change.name)) throw nameTaken(change.name);
    }
    return this.groups.update(scope, group, {
      ...(change.name !== undefined && { name: change.name }),
      ...(change.description !== undefined && { description: change.description }),
    });
  }

  async delete(scope: Scope, idOrName: string): Promise<SecurityGroup> {
    const group = await this.get(scope, idOrName);
    if (group.name === DEFAULT_SECURITY_GROUP) throw undeletable('deleted');
    await this.groups.delete(scope, group);
    return group;
  }

  async addRule(scope: Scope, idOrName: string, request: RuleRequest): Promise<SecurityGroupRule> {
    const rule = ruleFromRequest(request);
    const group = await this.get(scope, idOrName);
    return this.groups.addRule(scope, group, rule);
  }

  async deleteRule(scope: Scope, idOrName: string, ruleId: string): Promise<SecurityGroup> {
    const group = await this.get(scope, idOrName);
    if (!group.rules.some((r) => r.id === ruleId)) throw new ApiError('RULE_NOT_FOUND', `The security group ${group.name} has no rule ${ruleId}`);
    await this.groups.deleteRule(scope, group, ruleId);
    return { ...group, rules: group.rules.filter((r) => r.id !== ruleId) };
  }

  /** See resolveGroupsForBody. */
  resolveForBody(scope: Scope, idsOrNames: readonly string[], path: string): Promise<SecurityGroupRef[]> {
    return resolveGroupsForBody(this.groups, scope, idsOrNames, path);
  }

  /** Attaches a group (named in the body) to a VM; answers the VM as it is then. */
  async attach(scope: Scope, vmId: string, idOrName: string): Promise<VmRecord> {
    const vm = await this.liveVm(scope, vmId);
    const [group] = await this.resolveForBody(scope, [idOrName], 'body.security_group');
    const names = await this.groups.attach(scope, vm, group as SecurityGroupRef);
    return { ...vm, vm: { ...vm.vm, security_groups: names } };
  }

  /** Detaches a group (named in the path) from a VM: 404 when the VM does not have it. */
  async detach(scope: Scope, vmId: string, idOrName: string): Promise<VmRecord> {
    const vm = await this.liveVm(scope, vmId);
    const [group] = await this.groups.resolve(scope, [idOrName]);
    if (!group) throw new ApiError('SECURITY_GROUP_NOT_FOUND', `No security group with id or name "${idOrName}"`);
    const names = await this.groups.detach(scope, vm, group);
    return { ...vm, vm: { ...vm.vm, security_groups: names } };
  }

  private async liveVm(scope: Scope, id: string): Promise<VmRecord> {
    const vm = await this.vms.get(scope, id);
    if (!vm || vm.vm.status === 'DELETED') throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
    return vm;
  }
}

/**
 * The groups a request body names (`path`: where, e.g. body.security_groups), resolved in the
 * scope's tenant; a 400 naming each unknown one, so that nothing is made with a group that does not
 * exist. Two names of one group count once.
 */
export async function resolveGroupsForBody(
  groups: Pick<SecurityGroupRepository, 'resolve'>,
  scope: Scope,
  idsOrNames: readonly string[],
  path: string,
): Promise<SecurityGroupRef[]> {
  const found = await groups.resolve(scope, idsOrNames);
  const errors: FieldError[] = [];
  const unknown: string[] = [];
  const refs: SecurityGroupRef[] = [];
  found.forEach((ref, i) => {
    if (ref) {
      if (!refs.some((r) => r.id === ref.id)) refs.push(ref);
      return;
    }
    unknown.push(`"${idsOrNames[i]}"`);
    errors.push({ path: path.endsWith('s') ? `${path}.${i}` : path, message: 'unknown security group; see GET /api/v1/security-groups' });
  });
  if (errors.length > 0) throw new ApiError('UNKNOWN_SECURITY_GROUP', `No security group named or with id ${unknown.join(', ')}`, { errors });
  return refs;
}

/** Neutron keeps `default` in any case for itself; so does the API, on both backends. */
function isDefaultName(name: string): boolean {
  return name.toLowerCase() === DEFAULT_SECURITY_GROUP;
}

function nameTaken(name: string): ApiError {
  return new ApiError('SECURITY_GROUP_NAME_TAKEN', `The tenant has a security group named ${name} already`);
}

function undeletable(what: 'deleted' | 'renamed'): ApiError {
  return new ApiError('DEFAULT_SECURITY_GROUP', `The tenant's default security group cannot be ${what}`);
}
