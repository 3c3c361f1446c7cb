import type { Logger } from 'pino';
import { ApiError } from '../../domain/errors.js';
import {
  DEFAULT_SECURITY_GROUP,
  ruleProtocols,
  type NewRule,
  type RuleProtocol,
  type SecurityGroup,
  type SecurityGroupRef,
  type SecurityGroupRule,
} from '../../domain/security-group.js';
import { DEFAULT_TENANT, scopeSees, type Scope } from '../../domain/tenancy.js';
import { OpenStackHttpError, type CallOptions, type Connection, type NeutronSecurityGroup, type NeutronSecurityGroupRule } from '../../openstack/index.js';
import type { SecurityGroupRepository } from '../../repository/security-group-repository.js';
import type { VmRecord } from '../../repository/vm-repository.js';
import { KeyedLock } from './keyed-lock.js';
import { tenantOfTags, tenantTag } from './marks.js';
import { apiGroupName, neutronDefaultGroupName, neutronGroupName } from './security-group-names.js';
import { toApiError } from './upstream-errors.js';

export interface OpenStackSecurityGroupOptions {
  /** The cloud a scope's calls go to: the tenant's own project with Keystone tenants, the shared one otherwise (tenant-placement.ts). */
  connectionFor: (scope: Scope) => Connection;
  log: Logger;
}

/** Neutron's words for ICMP over IPv6, read back as the API's `icmp`. */
const icmpAliases = new Set(['icmp', 'icmpv6', 'ipv6-icmp']);

/**
 * Security groups on Neutron. A tenant's groups are the ones tagged `vmapi-tenant-<id>` (all
 * tenants share the operator's project today); its `default` is a group of its own, made on first
 * need (Neutron keeps the name `default` for the project's group, which is never shown or used).
 * VMs get groups by id, never by name: Nova resolves a name within the project and every tenant has
 * a `default`. Attach and detach rewrite the security groups of the VM's ports.
 */
export class OpenStackSecurityGroupRepository implements SecurityGroupRepository {
  private readonly connectionFor: (scope: Scope) => Connection;
  private readonly log: Logger;
  /** One default made at a time per tenant in this process; a race between processes keeps the oldest. */
  private readonly defaults = new KeyedLock();

  constructor(options: OpenStackSecurityGroupOptions) {
    this.connectionFor = options.connectionFor;
    this.log = options.log;
  }

  async list(scope: Scope): Promise<SecurityGroup[]> {
    await this.defaultOf(scope);
    const groups = await this.call('list security groups', () =>
      this.neutron(scope).listSecurityGroups(scope.role === 'admin' ? {} : { tags: [tenantTag(scope.tenant)] }, options(scope)),
    );
    return groups.filter((g) => isTenantGroup(g) && scopeSees(scope, tenantOfGroup(g))).map(toGroup);
  }

  async tenantGroupNames(tenant: string): Promise<string[]> {
    const scope: Scope = { tenant, keyId: null, role: 'member', requestId: 'tenant-check' };
    const groups = await this.call('list security groups', () => this.neutron(scope).listSecurityGroups({ tags: [tenantTag(tenant)] }, options(scope)));
    return groups.filter((g) => tenantOfGroup(g) === tenant).map((g) => apiGroupName(g.name));
  }

  async find(scope: Scope, idOrName: string): Promise<SecurityGroup | undefined> {
    const byId = await this.byId(scope, idOrName);
    if (byId) return toGroup(byId);
    const byName = await this.byName(scope, idOrName);
    return byName && toGroup(byName);
  }

  async resolve(scope: Scope, idsOrNames: readonly string[]): Promise<(SecurityGroupRef | undefined)[]> {
    // One list of the tenant's groups answers every name and id (the fewest calls for a VM create).
    let groups = await this.tenantGroups(scope);
    if (idsOrNames.includes(DEFAULT_SECURITY_GROUP) && !groups.some((g) => g.name === neutronDefaultGroupName)) {
      groups = [...groups, await this.defaultOf(scope)];
    }
    return idsOrNames.map((ref) => {
      const found = groups.find((g) => g.id === ref) ?? oldestNamed(groups, neutronGroupName(ref));
      return found && { id: found.id, name: apiGroupName(found.name) };
    });
  }

  async create(scope: Scope, input: { name: string; description: string }): Promise<SecurityGroup> {
    await this.defaultOf(scope);
    if (await this.byName(scope, input.name)) throw new ApiError('SECURITY_GROUP_NAME_TAKEN', `The tenant has a security group named ${input.name} already`);
    return toGroup(await this.make(scope, input.name, input.description));
  }

  async update(scope: Scope, group: SecurityGroup, change: { name?: string; description?: string }): Promise<SecurityGroup> {
    if (change.name !== undefined && change.name !== group.name && (await this.byName(scope, change.name))) {
      throw new ApiError('SECURITY_GROUP_NAME_TAKEN', `The tenant has a security group named ${change.name} already`);
    }
    const updated = await this.call('update security group', () => this.neutron(scope).updateSecurityGroup(group.id, change, options(scope)), group.id);
    return toGroup(updated);
  }

  async delete(scope: Scope, group: SecurityGroup): Promise<void> {
    await this.call('delete security group', () => this.neutron(scope).deleteSecurityGroup(group.id, options(scope)), group.id);
  }

  async addRule(scope: Scope, group: SecurityGroup, rule: NewRule): Promise<SecurityGroupRule> {
    const made = await this.call(
      'create security group rule',
      () =>
        this.neutron(scope).createSecurityGroupRule(
          {
            securityGroupId: group.id,
            direction: rule.direction,
            protocol: rule.protocol,
            portRangeMin: rule.port_min,
            portRangeMax: rule.port_max,
            remoteIpPrefix: rule.remote_cidr,
            ethertype: rule.ethertype,
          },
          options(scope),
        ),
      group.id,
    );
    return toRule(made) ?? { id: made.id, ...rule };
  }

  async deleteRule(scope: Scope, group: SecurityGroup, ruleId: string): Promise<void> {
    await this.call('delete security group rule', () => this.neutron(scope).deleteSecurityGroupRule(ruleId, options(scope)), group.id, 'RULE_NOT_FOUND');
  }

  async attach(scope: Scope, vm: VmRecord, group: SecurityGroupRef): Promise<string[]> {
    const ports = await this.portsOf(scope, vm);
    if (ports.every((p) => p.security_groups.includes(group.id))) {
      throw new ApiError('ALREADY_ATTACHED', `The security group ${group.name} is attached to the VM already`);
    }
    for (const port of ports) {
      if (!port.security_groups.includes(group.id)) {
        await this.call('attach security group', () => this.neutron(scope).setPortSecurityGroups(port.id, [...port.security_groups, group.id], options(scope)));
      }
    }
    return this.namesOf(scope, union(ports.map((p) => p.security_groups), group.id));
  }

  async detach(scope: Scope, vm: VmRecord, group: SecurityGroupRef): Promise<string[]> {
    const ports = await this.portsOf(scope, vm);
    if (!ports.some((p) => p.security_groups.includes(group.id))) {
      throw new ApiError('SECURITY_GROUP_NOT_FOUND', `The security group ${group.name} is not attached to the VM`);
    }
    for (const port of ports) {
      if (port.security_groups.includes(group.id)) {
        const rest = port.security_groups.filter((id) => id !== group.id);
        await this.call('detach security group', () => this.neutron(scope).setPortSecurityGroups(port.id, rest, options(scope)));
      }
    }
    return this.namesOf(scope, union(ports.map((p) => p.security_groups)).filter((id) => id !== group.id));
  }

  private neutron(scope: Scope) {
    return this.connectionFor(scope).network;
  }

  private async portsOf(scope: Scope, vm: VmRecord) {
    const ports = await this.call('list ports', () => this.neutron(scope).listDevicePorts(vm.vm.id, options(scope)));
    if (ports.length === 0) {
      throw new ApiError('INVALID_STATE_TRANSITION', 'The VM has no network port yet to attach a security group to', { current_status: vm.vm.status, allowed_actions: [] });
    }
    return ports;
  }

  /** The names the VM shows for group ids: the tenant's groups by name, any other by id. */
  private async namesOf(scope: Scope, ids: string[]): Promise<string[]> {
    const groups = await this.tenantGroups(scope);
    return ids.map((id) => {
      const group = groups.find((g) => g.id === id);
      return group ? apiGroupName(group.name) : id;
    });
  }

  /** The group with this id, if it is a tenant's group the scope sees. */
  private async byId(scope: Scope, id: string): Promise<NeutronSecurityGroup | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
    // One call; another project's group is a 404 to a tenant's token, as an unknown one is.
    const group = await this.call('get security group', () =>
      this.neutron(scope)
        .getSecurityGroup(id, options(scope))
        .catch((err: unknown) => {
          if (err instanceof OpenStackHttpError && err.status === 404) return undefined;
          throw err;
        }),
    );
    return group && isTenantGroup(group) && scopeSees(scope, tenantOfGroup(group)) ? group : undefined;
  }

  /** The scope's tenant's group with this (API) name; `default` is made if the tenant has none yet. */
  private async byName(scope: Scope, name: string): Promise<NeutronSecurityGroup | undefined> {
    if (name === DEFAULT_SECURITY_GROUP) return this.defaultOf(scope);
    const groups = await this.call('find security group', () =>
      this.neutron(scope).listSecurityGroups({ name: neutronGroupName(name), tags: [tenantTag(scope.tenant)] }, options(scope)),
    );
    return oldestNamed(groups, neutronGroupName(name));
  }

  private tenantGroups(scope: Scope): Promise<NeutronSecurityGroup[]> {
    return this.call('list security groups', () => this.neutron(scope).listSecurityGroups({ tags: [tenantTag(scope.tenant)] }, options(scope)));
  }

  /** The tenant's `default`, made now if it has none. */
  private defaultOf(scope: Scope): Promise<NeutronSecurityGroup> {
    return this.defaults.run(scope.tenant, async () => {
      const existing = await this.call('find default security group', () =>
        this.neutron(scope).listSecurityGroups({ name: neutronDefaultGroupName, tags: [tenantTag(scope.tenant)] }, options(scope)),
      );
      return oldestNamed(existing, neutronDefaultGroupName) ?? (await this.make(scope, neutronDefaultGroupName, 'The tenant\'s default group'));
    });
  }

  /** A new group carrying the tenant's tag; deleted again if the tag cannot be set, so none is left untagged. */
  private async make(scope: Scope, neutronName: string, description: string): Promise<NeutronSecurityGroup> {
    const made = await this.call('create security group', () => this.neutron(scope).createSecurityGroup({ name: neutronName, description }, options(scope)));
    const tags = [tenantTag(scope.tenant)];
    try {
      await this.neutron(scope).setSecurityGroupTags(made.id, tags, options(scope));
    } catch (err) {
      await this.neutron(scope).deleteSecurityGroup(made.id, options(scope)).catch(() => undefined);
      throw toApiError(err, { operation: 'tag security group' }, this.log);
    }
    return { ...made, tags };
  }

  /** Runs a Neutron call, answering its refusals in the API's words. */
  private async call<T>(operation: string, work: () => Promise<T>, groupId?: string, notFound: 'SECURITY_GROUP_NOT_FOUND' | 'RULE_NOT_FOUND' = 'SECURITY_GROUP_NOT_FOUND'): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const mapped = fromNeutron(err, groupId, notFound);
      if (mapped) {
        this.log.info({ event: 'openstack.neutron_refused', operation, code: mapped.code, upstream_status: (err as OpenStackHttpError).status }, `Neutron refused ${operation}`);
        throw mapped;
      }
      throw toApiError(err, { operation }, this.log);
    }
  }
}

/** Neutron's 409s and 404s that mean something to a client, by its sentence (neutron/extensions/securitygroup.py, neutron-lib quota). */
function fromNeutron(err: unknown, groupId: string | undefined, notFound: 'SECURITY_GROUP_NOT_FOUND' | 'RULE_NOT_FOUND'): ApiError | undefined {
  if (!(err instanceof OpenStackHttpError) || err.service !== 'network') return undefined;
  const message = err.upstreamMessage;
  if (err.status === 409) {
    if (/Quota exceeded/i.test(message)) return new ApiError('QUOTA_EXCEEDED', "The project's security group quota would be exceeded; nothing was created", {}, { cause: err });
    if (/rule already exists/i.test(message)) return new ApiError('RULE_EXISTS', 'The group already has this rule', {}, { cause: err });
    if (/in use/i.test(message)) return new ApiError('RESOURCE_IN_USE', 'The security group is attached to a VM; detach it first', {}, { cause: err });
  }
  if (err.status === 404 && groupId !== undefined) {
    return notFound === 'RULE_NOT_FOUND'
      ? new ApiError('RULE_NOT_FOUND', `The security group ${groupId} has no such rule`, {}, { cause: err })
      : new ApiError('SECURITY_GROUP_NOT_FOUND', `No security group ${groupId}`, {}, { cause: err });
  }
  return undefined;
}

function options(scope: Scope): CallOptions {
  return { requestId: scope.requestId };
}

/** Only groups this API made (tagged with a tenant) are a tenant's; the project's own `default` never is. */
function isTenantGroup(group: NeutronSecurityGroup): boolean {
  return tenantOfGroup(group) !== '';
}

function tenantOfGroup(group: NeutronSecurityGroup): string {
  return tenantOfTags(group.tags ?? [], '');
}

/** Neutron allows two groups of one name; the oldest is the one (a race between processes can make two defaults). */
function oldestNamed(groups: readonly NeutronSecurityGroup[], name: string): NeutronSecurityGroup | undefined {
  return groups.filter((g) => g.name === name).sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? ''))[0];
}

function union(lists: readonly (readonly string[])[], extra?: string): string[] {
  const all = lists.flat();
  if (extra !== undefined) all.push(extra);
  return [...new Set(all)];
}

function toGroup(group: NeutronSecurityGroup): SecurityGroup {
  return {
    id: group.id,
    name: apiGroupName(group.name),
    description: group.description,
    rules: group.security_group_rules.flatMap((r) => toRule(r) ?? []),
    tenant: tenantOfGroup(group) || DEFAULT_TENANT,
    created_at: isoUtc(group.created_at),
  };
}

/** A Neutron rule in the API's words; undefined for one the API cannot show (another protocol, a remote group). */
function toRule(rule: NeutronSecurityGroupRule): SecurityGroupRule | undefined {
  const protocol = rule.protocol === null ? null : icmpAliases.has(rule.protocol) ? 'icmp' : rule.protocol;
  if (protocol !== null && !(ruleProtocols as readonly string[]).includes(protocol)) return undefined;
  if (rule.remote_group_id) return undefined;
  if (rule.direction !== 'ingress' && rule.direction !== 'egress') return undefined;
  if (rule.ethertype !== 'IPv4' && rule.ethertype !== 'IPv6') return undefined;
  return {
    id: rule.id,
    direction: rule.direction,
    protocol: protocol as RuleProtocol | null,
    port_min: rule.port_range_min,
    port_max: rule.port_range_max,
    remote_cidr: rule.remote_ip_prefix,
    ethertype: rule.ethertype,
  };
}

function isoUtc(text: string | undefined): string {
  if (text === undefined) return new Date(0).toISOString();
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}
