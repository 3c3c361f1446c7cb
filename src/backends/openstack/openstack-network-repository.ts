import type { Logger } from 'pino';
import { ApiError } from '../../domain/errors.js';
import type { FloatingIp, FloatingIpStatus, Network, NetworkRef } from '../../domain/network.js';
import { scopeSees, type Scope } from '../../domain/tenancy.js';
import { OpenStackHttpError, type CallOptions, type Connection, type Network as NeutronNetwork, type NeutronFloatingIp, type Port } from '../../openstack/index.js';
import type { CreateNetworkInput, FloatingIpRepository, NetworkRepository } from '../../repository/network-repository.js';
import { KeyedLock } from './keyed-lock.js';
import { tenantOfTags, tenantTag } from './marks.js';
import type { NetworkChoice } from './network.js';
import { toApiError } from './upstream-errors.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NO_TENANT = '\u0000';
/** Subnets' cidr and gateway by network id: a subnet's cidr never changes, so it is read once. */
const MAX_CACHED_SUBNETS = 10_000;

export interface OpenStackNetworkOptions {
  /** The seam for Keystone tenancy: today every tenant's calls go through the one operator connection. */
  connectionFor: (scope: Scope) => Connection;
  /** OS_NETWORK: shown to every tenant as the shared default network. */
  defaultNetwork: NetworkChoice;
  log: Logger;
  /** Told when networks change, so that names read elsewhere (the VM's `networks`) are read again. */
  onChange?: () => void;
}

/**
 * Turns Neutron's refusals into the domain's words, by Neutron's status and sentence (neutron/
 * common/exceptions.py, Zed); the rest goes the way of every upstream failure (upstream-errors.ts).
 */
function neutronError(err: unknown, operation: string, log: Logger): unknown {
  if (err instanceof OpenStackHttpError && err.service === 'network') {
    const text = err.upstreamMessage;
    if (err.status === 409 && /quota exceeded/i.test(text)) {
      log.warn({ event: 'openstack.call_failed', operation, upstream_status: 409, upstream_message: text }, 'Neutron quota');
      return new ApiError('QUOTA_EXCEEDED', `The cloud's network quota would be exceeded (${operation}); nothing was created`, {}, { cause: err });
    }
    if (err.status === 409 && /no more ip addresses|ip address generation failed/i.test(text)) {
      return new ApiError('POOL_EXHAUSTED', 'The external network has no floating address left', {}, { cause: err });
    }
    if (err.status === 404 && /not reachable from subnet/i.test(text)) {
      return new ApiError('VM_UNREACHABLE', 'The VM\'s network has no router to the external network, so no floating IP can point at it', {}, { cause: err });
    }
    if (err.status === 400 && /overlaps with cidr/i.test(text)) {
      const message = 'overlaps the subnet of another of the tenant\'s networks: a tenant\'s networks share one router';
      return new ApiError('VALIDATION_ERROR', `Invalid body: body.cidr (${message})`, { errors: [{ path: 'body.cidr', message }] }, { cause: err });
    }
    if (err.status === 409 && /in use|still attached|one or more ports/i.test(text)) {
      return new ApiError('RESOURCE_IN_USE', `The cloud says the resource is still in use (${operation})`, {}, { cause: err });
    }
  }
  return toApiError(err, { operation }, log);
}

async function neutron<T>(log: Logger, operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw neutronError(err, operation, log);
  }
}

const isNotFound = (err: unknown) => err instanceof OpenStackHttpError && err.status === 404;

function iso(time: string | undefined): string {
  if (time === undefined) return new Date(0).toISOString();
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(time) ? time : `${time}Z`);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

/**
 * Networks on Neutron: a tenant's network is a Neutron network tagged `vmapi-tenant-<id>` with one
 * IPv4 subnet, plugged into the tenant's router (one per tenant, tagged the same, made on first
 * need, its gateway on the external network) so that floating IPs reach its VMs. Every tenant also
 * sees the external networks and OS_NETWORK (shown as shared: every tenant's VMs use it by
 * default); other networks of the project are not the API's and are not shown.
 */
export class OpenStackNetworkRepository implements NetworkRepository {
  private readonly subnets = new Map<string, { cidr: string; gateway_ip: string | null }>();
  /** One create or rename at a time per tenant in this process, so that names stay unique and one router is made. */
  private readonly perTenant = new KeyedLock();

  constructor(private readonly options: OpenStackNetworkOptions) {}

  async create(scope: Scope, input: CreateNetworkInput): Promise<Network> {
    return this.perTenant.run(scope.tenant, async () => {
      const conn = this.options.connectionFor(scope);
      const call = callOptions(scope);
      if ((await this.list(scope)).some((n) => n.name === input.name)) {
        throw new ApiError('NETWORK_NAME_TAKEN', `A network named "${input.name}" exists already`);
      }
      const made = await neutron(this.log, 'create network', () => conn.network.createNetwork({ name: input.name }, call));
      const undo: (() => Promise<unknown>)[] = [() => conn.network.deleteNetwork(made.id, call)];
      try {
        const tags = [tenantTag(scope.tenant)];
        await neutron(this.log, 'tag network', () => conn.network.setTags('networks', made.id, tags, call));
        const subnet = await neutron(this.log, 'create subnet', () =>
          conn.network.createSubnet({ network_id: made.id, cidr: input.cidr, ip_version: 4, name: input.name }, call),
        );
        const router = await this.routerOf(scope, conn);
        await neutron(this.log, 'add router interface', () => conn.network.addRouterInterface(router, subnet.id, call));
        undo.unshift(() => conn.network.removeRouterInterface(router, subnet.id, call));
        this.remember(made.id, subnet);
        this.options.onChange?.();
        const network = this.toNetwork({ ...made, tags }, await this.defaultId(scope));
        if (!network) throw new Error('a tagged network must read as the tenant\'s');
        return network;
      } catch (err) {
        // Nothing half-made: what was made is taken down again, last first.
        for (const step of undo) await step().catch((e: unknown) => this.log.error({ event: 'openstack.cleanup_failed', error: String(e) }, 'Could not undo a network create'));
        throw err;
      }
    });
  }

  async list(scope: Scope): Promise<Network[]> {
    const conn = this.options.connectionFor(scope);
    const [all, defaultId] = await Promise.all([
      neutron(this.log, 'list networks', () => conn.network.listNetworks({}, callOptions(scope))),
      this.defaultId(scope),
    ]);
    const visible = all.filter((n) => this.sees(scope, n, defaultId));
    await this.readSubnets(scope, visible);
    return visible
      .map((n) => this.toNetwork(n, defaultId))
      .filter((n): n is Network => n !== undefined)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  async find(scope: Scope, idOrName: string): Promise<Network | undefined> {
    const conn = this.options.connectionFor(scope);
    const defaultId = await this.defaultId(scope);
    let candidates: NeutronNetwork[] = [];
    if (uuidPattern.test(idOrName)) {
      try {
        candidates = [await conn.network.getNetwork(idOrName, callOptions(scope))];
      } catch (err) {
        if (!isNotFound(err)) throw neutronError(err, 'get network', this.log);
      }
    }
    if (candidates.length === 0) {
      candidates = await neutron(this.log, 'find network', () => conn.network.listNetworks({ name: idOrName }, callOptions(scope)));
      candidates = candidates.filter((n) => n.name === idOrName);
    }
    const found = this.pick(scope, candidates, defaultId);
    if (!found) return undefined;
    await this.readSubnets(scope, [found]);
    return this.toNetwork(found, defaultId);
  }

  /**
   * One `GET /v2.0/networks?id=..&id=..` for the ids and one `?name=..&name=..` for the rest (only
   * if any): a VM create with two networks makes one Neutron call for them, not one per network,
   * and reads no subnets (its networks' ids are all Nova needs).
   */
  async resolve(scope: Scope, idsOrNames: readonly string[]): Promise<(NetworkRef | undefined)[]> {
    const conn = this.options.connectionFor(scope);
    const call = callOptions(scope);
    const ids = [...new Set(idsOrNames.filter((ref) => uuidPattern.test(ref)))];
    const [defaultId, byId] = await Promise.all([
      this.defaultId(scope),
      ids.length > 0 ? neutron(this.log, 'find networks', () => conn.network.listNetworks({ id: ids }, call)) : [],
    ]);
    // As find: an id Neutron knows is never read as a name, even when the scope does not see it.
    const names = [...new Set(idsOrNames.filter((ref) => !byId.some((n) => n.id === ref)))];
    const byName = names.length > 0 ? await neutron(this.log, 'find networks', () => conn.network.listNetworks({ name: names }, call)) : [];
    return idsOrNames.map((ref) => {
      const withId = byId.filter((n) => n.id === ref);
      const found = this.pick(scope, withId.length > 0 ? withId : byName.filter((n) => n.name === ref), defaultId);
      return found && { id: found.id, name: found.name, external: found['router:external'] === true };
    });
  }

  async rename(scope: Scope, id: string, name: string): Promise<Network> {
    return this.perTenant.run(scope.tenant, async () => {
      const conn = this.options.connectionFor(scope);
      if ((await this.list(scope)).some((n) => n.name === name && n.id !== id)) {
        throw new ApiError('NETWORK_NAME_TAKEN', `A network named "${name}" exists already`);
      }
      const updated = await neutron(this.log, 'rename network', () => conn.network.updateNetwork(id, { name }, callOptions(scope)));
      this.options.onChange?.();
      const network = this.toNetwork(updated, await this.defaultId(scope));
      if (!network) throw new ApiError('NETWORK_NOT_FOUND', `No network with id ${id}`);
      return network;
    });
  }

  async delete(scope: Scope, id: string): Promise<Network> {
    const conn = this.options.connectionFor(scope);
    const call = callOptions(scope);
    const network = await this.find(scope, id);
    if (!network) throw new ApiError('NETWORK_NOT_FOUND', `No network with id ${id}`);
    const ports = await neutron(this.log, 'list ports', () => conn.network.listPorts({ network_id: id }, call));
    const vms = [...new Set(ports.filter((p) => p.device_owner.startsWith('compute:')).map((p) => p.device_id))];
    if (vms.length > 0) {
      throw new ApiError('RESOURCE_IN_USE', `The network is in use by VM ${vms[0]}${vms.length > 1 ? ` and ${vms.length - 1} more` : ''}; delete them first`);
    }
    const unplugged: { router: string; subnet: string }[] = [];
    try {
      for (const port of ports.filter((p) => p.device_owner === 'network:router_interface')) {
        for (const ip of port.fixed_ips) {
          await neutron(this.log, 'remove router interface', () => conn.network.removeRouterInterface(port.device_id, ip.subnet_id, call));
          unplugged.push({ router: port.device_id, subnet: ip.subnet_id });
        }
      }
      await neutron(this.log, 'delete network', () => conn.network.deleteNetwork(id, call));
    } catch (err) {
      // Nothing half-made: a network that stays is plugged into its router again, so that a VM
      // made on it still gets floating IPs (the next delete unplugs it once more).
      for (const { router, subnet } of unplugged.reverse()) {
        await conn.network.addRouterInterface(router, subnet, call).catch((e: unknown) =>
          this.log.error({ event: 'openstack.cleanup_failed', network_id: id, router_id: router, error: String(e) }, 'Could not plug a network whose delete failed back into its router'),
        );
      }
      throw err;
    }
    this.subnets.delete(id);
    this.options.onChange?.();
    return network;
  }

  /** The tenant's router, made on first need with its gateway on the external network. */
  private async routerOf(scope: Scope, conn: Connection): Promise<string> {
    const call = callOptions(scope);
    const tag = tenantTag(scope.tenant);
    const [existing] = await neutron(this.log, 'find router', () => conn.network.listRouters({ tags: tag }, call));
    if (existing) return existing.id;
    const externals = await neutron(this.log, 'find external network', () => conn.network.listNetworks({ 'router:external': true }, call));
    const external = externals[0];
    if (!external) throw new ApiError('BACKEND_UNAVAILABLE', 'The cloud has no external network to route tenant networks to', { upstream: 'error' });
    const router = await neutron(this.log, 'create router', () =>
      conn.network.createRouter({ name: `vmapi-${scope.tenant}`, external_gateway_info: { network_id: external.id } }, call),
    );
    try {
      await neutron(this.log, 'tag router', () => conn.network.setTags('routers', router.id, [tag], call));
    } catch (err) {
      await conn.network.deleteRouter(router.id, call).catch(() => undefined);
      throw err;
    }
    this.log.info({ event: 'openstack.router_created', tenant: scope.tenant, router_id: router.id }, 'Made the tenant\'s router');
    return router.id;
  }

  private async readSubnets(scope: Scope, networks: readonly NeutronNetwork[]): Promise<void> {
    const missing = networks.filter((n) => !this.subnets.has(n.id) && (n.subnets?.length ?? 0) > 0).map((n) => n.id);
    if (missing.length === 0) return;
    const conn = this.options.connectionFor(scope);
    const subnets = await neutron(this.log, 'list subnets', () => conn.network.listSubnets({ network_id: missing }, callOptions(scope)));
    for (const subnet of subnets) if (subnet.ip_version === 4 && !this.subnets.has(subnet.network_id)) this.remember(subnet.network_id, subnet);
  }

  private remember(networkId: string, subnet: { cidr: string; gateway_ip?: string | null | undefined }): void {
    if (this.subnets.size >= MAX_CACHED_SUBNETS) this.subnets.delete(this.subnets.keys().next().value as string);
    this.subnets.set(networkId, { cidr: subnet.cidr, gateway_ip: subnet.gateway_ip ?? null });
  }

  /** Among networks of one id or name: a tenant's own first, then the cloud's, should an admin see several of one name. */
  private pick(scope: Scope, candidates: readonly NeutronNetwork[], defaultId: string | undefined): NeutronNetwork | undefined {
    const visible = candidates.filter((n) => this.sees(scope, n, defaultId));
    return visible.find((n) => tenantOfTags(n.tags ?? [], NO_TENANT) === scope.tenant) ?? visible[0];
  }

  async tenantOwnsNetworks(tenant: string): Promise<boolean> {
    const scope = tenantCheckScope(tenant);
    const tagged = await neutron(this.log, 'list networks', () => this.options.connectionFor(scope).network.listNetworks({ tags: tenantTag(tenant) }, callOptions(scope)));
    return tagged.some((n) => tenantOfTags(n.tags ?? [], NO_TENANT) === tenant);
  }

  private sees(scope: Scope, network: NeutronNetwork, defaultId: string | undefined): boolean {
    if (network['router:external'] === true || network.id === defaultId) return true;
    const tenant = tenantOfTags(network.tags ?? [], NO_TENANT);
    return tenant !== NO_TENANT && scopeSees(scope, tenant);
  }

  private toNetwork(network: NeutronNetwork, defaultId: string | undefined): Network | undefined {
    const external = network['router:external'] === true;
    const cloud = external || network.id === defaultId;
    const tenant = cloud ? null : tenantOfTags(network.tags ?? [], NO_TENANT);
    if (tenant === NO_TENANT) return undefined;
    const subnet = this.subnets.get(network.id);
    return {
      id: network.id,
      name: network.name,
      cidr: subnet?.cidr ?? '',
      gateway_ip: subnet?.gateway_ip ?? null,
      external,
      shared: !external && cloud,
      status: network.status ?? 'ACTIVE',
      tenant,
      created_at: iso(network.created_at),
    };
  }

  /** OS_NETWORK's id, when it names one network (not `auto` or `none`). */
  private async defaultId(scope: Scope): Promise<string | undefined> {
    const choice = await this.options.defaultNetwork.get(scope.requestId);
    return Array.isArray(choice) ? choice[0]?.uuid : undefined;
  }

  private get log(): Logger {
    return this.options.log;
  }
}

const neutronStatuses: Record<string, FloatingIpStatus> = { ACTIVE: 'ACTIVE', DOWN: 'DOWN', ERROR: 'ERROR' };

/**
 * Floating IPs on Neutron, tagged `vmapi-tenant-<id>`. One is associated with a VM through the VM's
 * port (Neutron's port_id), and its `vm_id` is that port's device. Without an L3 agent (the local
 * cloud) Neutron keeps every floating IP DOWN: the status is shown as Neutron has it.
 */
export class OpenStackFloatingIpRepository implements FloatingIpRepository {
  constructor(private readonly options: Pick<OpenStackNetworkOptions, 'connectionFor' | 'log'>) {}

  async allocate(scope: Scope, network: Network): Promise<FloatingIp> {
    const conn = this.options.connectionFor(scope);
    const call = callOptions(scope);
    const made = await neutron(this.log, 'create floating IP', () => conn.network.createFloatingIp({ floating_network_id: network.id }, call));
    const tags = [tenantTag(scope.tenant)];
    try {
      await neutron(this.log, 'tag floating IP', () => conn.network.setTags('floatingips', made.id, tags, call));
    } catch (err) {
      await conn.network.deleteFloatingIp(made.id, call).catch(() => undefined);
      throw err;
    }
    return this.toFloatingIp({ ...made, tags }, new Map());
  }

  async list(scope: Scope): Promise<FloatingIp[]> {
    const conn = this.options.connectionFor(scope);
    const all = await neutron(this.log, 'list floating IPs', () =>
      conn.network.listFloatingIps(scope.role === 'admin' ? {} : { tags: tenantTag(scope.tenant) }, callOptions(scope)),
    );
    const visible = all.filter((f) => this.sees(scope, f));
    const devices = await this.devicesOf(scope, visible);
    return visible.map((f) => this.toFloatingIp(f, devices)).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  async get(scope: Scope, id: string): Promise<FloatingIp | undefined> {
    const found = await this.read(scope, id);
    return found && this.toFloatingIp(found, await this.devicesOf(scope, [found]));
  }

  async associate(scope: Scope, id: string, vmId: string): Promise<FloatingIp> {
    const conn = this.options.connectionFor(scope);
    const call = callOptions(scope);
    const fip = await this.mustRead(scope, id);
    const ports = (await neutron(this.log, 'list ports', () => conn.network.listPorts({ device_id: vmId }, call)))
      .filter((p) => p.fixed_ips.some((ip) => !ip.ip_address.includes(':')))
      .sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? '') || a.id.localeCompare(b.id));
    if (ports.length === 0) throw new ApiError('VM_UNREACHABLE', `The VM ${vmId} has no port with a fixed address, so no floating IP can point at it`);
    if (fip.port_id !== null && ports.some((p) => p.id === fip.port_id)) return this.toFloatingIp(fip, new Map([[fip.port_id, vmId]]));
    const others = await neutron(this.log, 'list floating IPs', () => conn.network.listFloatingIps({ port_id: ports.map((p) => p.id) }, call));
    const other = others.find((f) => f.id !== id);
    if (other) throw new ApiError('VM_HAS_FLOATING_IP', `The VM ${vmId} has the floating IP ${other.floating_ip_address} already`);
    if (fip.port_id !== null) throw new ApiError('RESOURCE_IN_USE', `The floating IP ${fip.floating_ip_address} is associated with another VM; disassociate it first`);
    // The first port whose network is routed to the external one (Neutron says 404 for the others).
    let refusal: unknown;
    for (const port of ports) {
      try {
        const updated = await neutron(this.log, 'associate floating IP', () => conn.network.updateFloatingIp(id, { port_id: port.id }, call));
        return this.toFloatingIp(updated, new Map([[port.id, vmId]]));
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'VM_UNREACHABLE')) throw err;
        refusal = err;
      }
    }
    throw refusal;
  }

  async disassociate(scope: Scope, id: string): Promise<FloatingIp> {
    const fip = await this.mustRead(scope, id);
    if (fip.port_id === null) return this.toFloatingIp(fip, new Map());
    const conn = this.options.connectionFor(scope);
    const updated = await neutron(this.log, 'disassociate floating IP', () => conn.network.updateFloatingIp(id, { port_id: null }, callOptions(scope)));
    return this.toFloatingIp(updated, new Map());
  }

  async release(scope: Scope, id: string): Promise<FloatingIp> {
    const fip = await this.mustRead(scope, id);
    const shown = this.toFloatingIp(fip, await this.devicesOf(scope, [fip]));
    const conn = this.options.connectionFor(scope);
    // Neutron disassociates as it deletes.
    await neutron(this.log, 'delete floating IP', () => conn.network.deleteFloatingIp(id, callOptions(scope)));
    return shown;
  }

  private async read(scope: Scope, id: string): Promise<NeutronFloatingIp | undefined> {
    const conn = this.options.connectionFor(scope);
    try {
      const fip = await conn.network.getFloatingIp(id, callOptions(scope));
      return this.sees(scope, fip) ? fip : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw neutronError(err, 'get floating IP', this.log);
    }
  }

  private async mustRead(scope: Scope, id: string): Promise<NeutronFloatingIp> {
    const fip = await this.read(scope, id);
    if (!fip) throw new ApiError('FLOATING_IP_NOT_FOUND', `No floating IP with id ${id}`);
    return fip;
  }

  /** The VM behind each associated floating IP's port, in one call. */
  private async devicesOf(scope: Scope, fips: readonly NeutronFloatingIp[]): Promise<Map<string, string>> {
    const portIds = fips.map((f) => f.port_id).filter((p): p is string => p !== null);
    if (portIds.length === 0) return new Map();
    const conn = this.options.connectionFor(scope);
    const ports: Port[] = await neutron(this.log, 'list ports', () => conn.network.listPorts({ id: portIds }, callOptions(scope)));
    return new Map(ports.map((p) => [p.id, p.device_id]));
  }

  async tenantOwnsFloatingIps(tenant: string): Promise<boolean> {
    const scope = tenantCheckScope(tenant);
    const tagged = await neutron(this.log, 'list floating IPs', () => this.options.connectionFor(scope).network.listFloatingIps({ tags: tenantTag(tenant) }, callOptions(scope)));
    return tagged.some((f) => tenantOfTags(f.tags ?? [], NO_TENANT) === tenant);
  }

  private sees(scope: Scope, fip: NeutronFloatingIp): boolean {
    const tenant = tenantOfTags(fip.tags ?? [], NO_TENANT);
    return tenant !== NO_TENANT && scopeSees(scope, tenant);
  }

  private toFloatingIp(fip: NeutronFloatingIp, devices: ReadonlyMap<string, string>): FloatingIp {
    return {
      id: fip.id,
      address: fip.floating_ip_address,
      network: fip.floating_network_id,
      vm_id: fip.port_id === null ? null : (devices.get(fip.port_id) ?? null),
      status: neutronStatuses[fip.status] ?? 'DOWN',
      tenant: tenantOfTags(fip.tags ?? [], NO_TENANT),
      created_at: iso(fip.created_at),
    };
  }

  private get log(): Logger {
    return this.options.log;
  }
}

function callOptions(scope: Scope): CallOptions {
  return { requestId: scope.requestId };
}

/** The scope of a check made for the tenant service (a tenant's delete), not for a caller. */
function tenantCheckScope(tenant: string): Scope {
  return { tenant, keyId: null, role: 'member', requestId: 'tenant-check' };
}
