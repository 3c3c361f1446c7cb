import { createHash } from 'node:crypto';
import type { Server } from '../../openstack/index.js';
import { isEmbeddedFlavor } from '../../openstack/index.js';
import type { VmRecord } from '../../repository/vm-repository.js';
import type { Vm, VmFault } from '../../domain/vm.js';
import { DEFAULT_TENANT } from '../../domain/tenancy.js';
import { marks, pendingStopTask, tenantOfTags } from './marks.js';
import { readNovaState } from './nova-status.js';
import { apiGroupName } from './security-group-names.js';

/** Names of catalog entries by id; an entry gone from the catalog shows its id. */
export interface CatalogNames {
  flavorName(id: string): string;
  imageName(id: string): string;
  /** The id of the network Nova names `name` in a server's addresses, as the tenant sees it; undefined if unknown. */
  networkId?(name: string, tenant: string): string | undefined;
}

/**
 * Nova's fault messages that mean something to a client, by the stable code the API shows. The
 * upstream text itself is logged, never shown: the message is ours.
 */
const knownFaults: readonly { pattern: RegExp; code: string; message: (flavor: string) => string }[] = [
  {
    pattern: /no valid host was found/i,
    code: 'NO_VALID_HOST',
    message: (flavor) => `No host has room for flavor ${flavor}`,
  },
  {
    pattern: /exceeded maximum number of retries/i,
    code: 'BUILD_RETRIES_EXCEEDED',
    message: () => 'The cloud tried every host it could and none could build the VM',
  },
];

/**
 * Nova saves a failed build's ERROR state first and writes its fault a moment later: for this long
 * after the change, an unplaced ERROR server without a fault is still finishing its create.
 */
export const FAULT_GRACE_MS = 10_000;

/** Whose server this is. */
export type ServerTenant = (server: Pick<Server, 'tags' | 'tenant_id'>) => string;

/** The tenant its tag names; an untagged server is the default tenant's (tenant-placement.ts knows more with Keystone tenants). */
export const tenantByTag: ServerTenant = (server) => tenantOfTags(server.tags ?? [], DEFAULT_TENANT);

/**
 * The VM as the API shows it, from a server as Nova shows it, read at time `now`. Pure: no calls,
 * no side effects.
 */
export function serverToRecord(server: Server, names: CatalogNames, now: number, tenantOf: ServerTenant = tenantByTag): VmRecord {
  const taskState = server['OS-EXT-STS:task_state'];
  const reading = readNovaState({ status: server.status, taskState, powerState: server['OS-EXT-STS:power_state'] });
  let { status, task } = reading;
  const placed = wasPlaced(server);
  if (status === 'ERROR' && reading.known && !placed && !server.fault && now - Date.parse(isoUtc(server.updated)) < FAULT_GRACE_MS) {
    // A waiter must be able to stop on ERROR and say why: until the fault is written, still creating.
    status = 'STOPPED';
    task = 'creating';
  }
  const pending = pendingStopTask(server.tags ?? []);
  // A pending stop outranks what Nova shows (ACTIVE right after boot, or the unpause before the
  // stop): a client must never see the VM settle in a state it did not ask for. A delete still shows.
  if (pending !== undefined && status !== 'ERROR' && status !== 'DELETED' && task !== 'deleting') {
    task = pending;
    if (pending === 'creating') status = 'STOPPED';
  }
  const flavor = flavorNameOf(server, names);
  const tenant = tenantOf(server);
  const vm: Vm = {
    id: server.id,
    name: server.name,
    flavor,
    image: server.image === '' ? '' : names.imageName(server.image.id),
    status,
    task,
    ip_address: firstFixedIpv4(server.addresses),
    fault: status === 'ERROR' ? faultOf(server, flavor, reading.known) : null,
    created_at: isoUtc(server.created),
    updated_at: isoUtc(server.updated),
    tenant,
    // Nova lists a group once per port that has it: once is enough here.
    security_groups: [...new Set((server.security_groups ?? []).map((g) => apiGroupName(g.name)))],
    networks: Object.entries(server.addresses).map(([name, list]) => ({
      // A network not (yet) in the names read last shows its name as its id until the next read.
      id: names.networkId?.(name, tenant) ?? name,
      name,
      ip_address: list.find((a) => a.version === 4 && (a['OS-EXT-IPS:type'] ?? 'fixed') === 'fixed')?.addr ?? null,
    })),
    floating_ip: Object.values(server.addresses).flat().find((a) => a.version === 4 && a['OS-EXT-IPS:type'] === 'floating')?.addr ?? null,
    volumes: (server['os-extended-volumes:volumes_attached'] ?? []).map((v) => ({ id: v.id, device: null })),
  };
  return { vm, version: versionOf(server, vm), placed };
}

function flavorNameOf(server: Server, names: CatalogNames): string {
  return isEmbeddedFlavor(server.flavor) ? server.flavor.original_name : names.flavorName(server.flavor.id);
}

/** Networks are keyed by name, in no order that matters: the first fixed IPv4 one found wins. */
function firstFixedIpv4(addresses: Server['addresses']): string | null {
  for (const list of Object.values(addresses)) {
    const fixed = list.find((a) => a.version === 4 && (a['OS-EXT-IPS:type'] ?? 'fixed') === 'fixed');
    if (fixed) return fixed.addr;
  }
  return null;
}

function faultOf(server: Server, flavor: string, knownStatus: boolean): VmFault {
  const at = isoUtc(server.fault?.created ?? server.updated);
  if (!knownStatus) {
    return { code: 'UNSUPPORTED_STATE', message: 'The cloud reports a state this API cannot manage; the VM can only be deleted', at };
  }
  const upstream = server.fault?.message ?? '';
  const known = knownFaults.find((f) => f.pattern.test(upstream));
  if (known) return { code: known.code, message: known.message(flavor), at };
  return { code: 'CLOUD_FAULT', message: 'The cloud reports that the VM failed', at };
}

/**
 * A server that never got a host (failed scheduling) has neither a hostId nor an availability
 * zone (see test/fixtures/openstack/compute-server-ERROR-novalidhost.json).
 */
function wasPlaced(server: Server): boolean {
  const hostId = server['hostId'];
  const zone = server['OS-EXT-AZ:availability_zone'];
  return (typeof hostId === 'string' && hostId !== '') || (zone !== undefined && zone !== '');
}

/** Changes whenever the VM as shown changes, or an action was accepted (the revision mark). */
function versionOf(server: Server, vm: Vm): string {
  const parts = [server.updated, server.status, server['OS-EXT-STS:task_state'], server.metadata[marks.revision] ?? '', vm.status, vm.task, vm.flavor, vm.security_groups, vm.networks, vm.floating_ip, ...vm.volumes.map((v) => v.id)];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/** Nova writes "2026-11-23T19:06:55Z" (and launched_at without a zone); the API writes ISO 8601 UTC. */
function isoUtc(text: string): string {
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}
