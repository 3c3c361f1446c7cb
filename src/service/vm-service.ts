import { InProcessState } from '../shared-state/in-process-state.js';
import type { SharedState } from '../shared-state/shared-state.js';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CatalogRepository, CommandGuard, QuotaUsage, VmPage, VmRecord, VmRepository } from '../repository/vm-repository.js';
import type { Backend } from '../repository/backend.js';
import { IDEMPOTENCY_CLAIM_TTL_MS, assertIfMatch, claimKeyOf, pageQueryOf, settled, type ListRequestOf } from './versioned.js';
import { ApiError } from '../domain/errors.js';
import type { Scope } from '../domain/tenancy.js';
import type { SecurityGroupRepository } from '../repository/security-group-repository.js';
import { resolveGroupsForBody } from './security-group-service.js';
import type { NetworkRef } from '../domain/network.js';
import type { NetworkRepository } from '../repository/network-repository.js';
import type { DataDisk } from '../domain/volume.js';
import { vmStatuses, type VmActionEntry, type Flavor, type Image, type Vm, type VmAction, type VmCommandWith, type VmStatus, type VmTask } from '../domain/vm.js';

export interface CreateVmRequest {
  name: string;
  flavor: string;
  image: string;
  start: boolean;
  /** Ids or names; absent: none (the HTTP layer defaults it to the tenant's `default`). */
  security_groups?: readonly string[];
  /** Network ids or names (docs/contract.md section 9); absent: the backend's default. */
  networks?: readonly string[];
  /** New volumes made and attached with the VM (docs/contract.md section 10). */
  data_disks?: DataDisk[];
}

/** An action as a client asks for it: a flavor still by name or id. */
export type ActionRequest = VmCommandWith<string>;

export interface CallOptions {
  /** How long to wait for the task to settle; 0 answers at once. */
  waitMs: number;
}

export interface ActionOptions extends CallOptions {
  /** Versions from If-Match; '*' matches any. */
  ifMatch?: readonly string[];
}

export type ListRequest = ListRequestOf<VmStatus>;

const eventMessages: Record<VmTask, string> = {
  creating: 'VM created',
  starting: 'VM started',
  stopping: 'VM stopped',
  restarting: 'VM restarted',
  pausing: 'VM paused',
  resuming: 'VM resumed',
  suspending: 'VM suspended',
  resizing: 'VM resized',
  deleting: 'VM deleted',
};

/**
 * What the service tells the app about the VMs it sees change (the event stream's source): a create
 * it accepted, an action it accepted (delete included), and a task the backend saw settle.
 */
export type VmChange =
  | { kind: 'created'; vm: Vm; requestId: string }
  /** The backend is about to act on the VM (its guard passed): a settle may follow before `accepted`. */
  | { kind: 'acting'; id: string; requestId: string }
  | { kind: 'accepted'; vm: Vm; previous: VmStatus; busyWith: VmTask | null; action: VmAction; requestId: string }
  | { kind: 'settled'; vm: Vm; previous: VmStatus; task: VmTask };

const listedByDefault = vmStatuses.filter((s) => s !== 'DELETED');

/**
 * The rules of the API: If-Match, idempotency and waiting. The state machine is the domain's
 * `assertAllowed`, which the backend applies to the freshest record at the moment it acts. It knows
 * the repository port, never a backend, and never HTTP. Every call takes the caller's Scope first
 * and hands it to the repository, which answers only within it.
 */
export class VmService {
  private readonly vms: VmRepository;
  private readonly catalog: CatalogRepository;
  private readonly securityGroups: SecurityGroupRepository | undefined;
  private readonly networks: NetworkRepository | undefined;

  constructor(
    backend: Pick<Backend, 'vms' | 'catalog'> & Partial<Pick<Backend, 'securityGroups' | 'networks'>>,
    private readonly log: Logger,
    /** Aborted on shutdown, so that waiting requests answer at once. */
    private readonly shutdown: AbortSignal,
    private readonly onChange: (change: VmChange) => void = () => undefined,
    /**
     * Idempotency keys whose first request is still being served: by this process (the default),
     * or by any process sharing REDIS_URL.
     */
    private readonly claims: Pick<SharedState, 'claim' | 'release' | 'finish'> = new InProcessState(),
  ) {
    this.vms = backend.vms;
    this.catalog = backend.catalog;
    this.securityGroups = backend.securityGroups;
    this.networks = backend.networks;
    this.vms.onSettled(({ vm, previous, task }) => {
      const message = vm.status === 'ERROR' ? 'VM failed' : eventMessages[task];
      this.log.info({ event: 'vm.settled', vm_id: vm.id, previous_status: previous, status: vm.status, task, fault: vm.fault ?? undefined }, message);
      this.onChange({ kind: 'settled', vm, previous, task });
    });
  }

  async create(
    scope: Scope,
    request: CreateVmRequest,
    options: CallOptions & { idempotencyKey?: string },
  ): Promise<{ record: VmRecord; replayed: boolean }> {
    const key = options.idempotencyKey;
    if (key === undefined) return { record: await this.createNow(scope, request, options), replayed: false };
    // Claimed before anything else, so that a concurrent retry (in any process sharing the claims)
    // sees it; the in-process claim is taken synchronously. Keys are per tenant. If the claim cannot
    // be decided (Redis down) this throws BACKEND_UNAVAILABLE: never a second create.
    const claim = claimKeyOf(scope, key);
    if (!(await this.claims.claim(claim, IDEMPOTENCY_CLAIM_TTL_MS))) {
      // Held by a request still creating the VM, or (REDIS_URL) left to expire by one that made it:
      // a VM with this key answers the retry either way.
      const { fingerprint } = await this.fingerprinted(scope, request);
      const earlier = await this.vms.findByIdempotencyKey(scope, key);
      if (earlier) return this.replay(scope, earlier, fingerprint, options);
      throw new ApiError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed; retry later');
    }
    // Whether a VM with this key exists now: then the claim is finished (with Redis: left to expire,
    // no round trip), else released so that a retry may try again at once.
    let made = false;
    try {
      const { resolved, fingerprint } = await this.fingerprinted(scope, request);
      const earlier = await this.vms.findByIdempotencyKey(scope, key);
      if (earlier) {
        made = true;
        return await this.replay(scope, earlier, fingerprint, options);
      }
      return { record: await this.createNow(scope, request, options, { key, fingerprint }, resolved, () => (made = true)), replayed: false };
    } finally {
      if (made) this.claims.finish(claim);
      else await this.claims.release(claim);
    }
  }

  private async fingerprinted(scope: Scope, request: CreateVmRequest): Promise<{ resolved: ResolvedCreate; fingerprint: string }> {
    const resolved = await this.resolveCatalog(scope, request);
    return { resolved, fingerprint: fingerprintOf(request, resolved) };
  }

  private async replay(
    scope: Scope,
    earlier: { record: VmRecord; fingerprint: string },
    fingerprint: string,
    options: CallOptions,
  ): Promise<{ record: VmRecord; replayed: boolean }> {
    if (earlier.fingerprint !== fingerprint) {
      throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body');
    }
    return { record: await this.settle(scope, earlier.record, options), replayed: true };
  }

  async get(scope: Scope, id: string): Promise<VmRecord> {
    const record = await this.vms.get(scope, id);
    if (!record) throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
    return record;
  }

  async list(scope: Scope, request: ListRequest): Promise<VmPage> {
    const query = pageQueryOf(scope, request, listedByDefault);
    return query ? this.vms.list(scope, query) : { items: [], nextCursor: null };
  }

  async listActions(scope: Scope, id: string): Promise<VmActionEntry[]> {
    const actions = await this.vms.listActions(scope, id);
    if (!actions) throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
    return actions;
  }

  async quotas(scope: Scope): Promise<QuotaUsage> {
    return this.vms.quotaUsage(scope);
  }

  async act(scope: Scope, id: string, request: ActionRequest, options: ActionOptions): Promise<VmRecord> {
    const command =
      request.action === 'resize' ? { action: 'resize' as const, flavor: await this.flavorNamedInBody(request.flavor) } : request;
    // If-Match is judged first; the backend then applies the state machine (assertAllowed) to the same record.
    let before: Vm | undefined;
    const guard: CommandGuard = (current) => {
      before = current.vm;
      assertIfMatch(options.ifMatch, current.version, 'VM', { current_status: current.vm.status });
      this.onChange({ kind: 'acting', id, requestId: scope.requestId });
    };
    const record = await this.vms.apply(scope, id, command, guard);
    this.log.info(
      { event: 'vm.action_accepted', vm_id: id, tenant: record.vm.tenant, action: request.action, status: record.vm.status, task: record.vm.task },
      `VM ${request.action} accepted`,
    );
    if (before) {
      this.onChange({
        kind: 'accepted',
        vm: record.vm,
        previous: before.status,
        busyWith: before.task,
        action: request.action,
        requestId: scope.requestId,
      });
    }
    return this.settle(scope, record, options);
  }

  async listFlavors(): Promise<Flavor[]> {
    return this.catalog.listFlavors();
  }

  async getFlavor(nameOrId: string): Promise<Flavor> {
    const flavor = await this.catalog.findFlavor(nameOrId);
    if (!flavor) throw new ApiError('FLAVOR_NOT_FOUND', `No flavor named or with id "${nameOrId}"`);
    return flavor;
  }

  async listImages(): Promise<Image[]> {
    return this.catalog.listImages();
  }

  async getImage(nameOrId: string): Promise<Image> {
    const image = await this.catalog.findImage(nameOrId);
    if (!image) throw new ApiError('IMAGE_NOT_FOUND', `No image named or with id "${nameOrId}"`);
    return image;
  }

  private async createNow(
    scope: Scope,
    request: CreateVmRequest,
    options: CallOptions,
    idempotency?: { key: string; fingerprint: string },
    resolved?: ResolvedCreate,
    /** Told as soon as the VM exists (before it settles). */
    onMade: () => void = () => undefined,
  ): Promise<VmRecord> {
    const { flavor, image, networks } = resolved ?? (await this.resolveCatalog(scope, request));
    // Resolved before anything is made: an unknown group is a 400 with no server left behind.
    const groups = request.security_groups;
    const securityGroups = groups && this.securityGroups ? await resolveGroupsForBody(this.securityGroups, scope, groups, 'body.security_groups') : undefined;
    const record = await this.vms.create(scope, {
      name: request.name,
      flavor,
      image,
      start: request.start,
      ...(idempotency && { idempotency }),
      ...(securityGroups && { securityGroups }),
      ...(networks && { networks }),
      ...(request.data_disks !== undefined && request.data_disks.length > 0 && { dataDisks: request.data_disks }),
    });
    onMade();
    this.log.info(
      { event: 'vm.create_accepted', vm_id: record.vm.id, tenant: record.vm.tenant, name: record.vm.name, flavor: flavor.name, image: image.name, start: request.start },
      'VM create accepted',
    );
    this.onChange({ kind: 'created', vm: record.vm, requestId: scope.requestId });
    return this.settle(scope, record, options);
  }

  private async resolveCatalog(scope: Scope, request: CreateVmRequest): Promise<ResolvedCreate> {
    const [flavor, image, networks] = await Promise.all([
      this.flavorNamedInBody(request.flavor),
      this.catalog.findImage(request.image),
      this.networksNamedInBody(scope, request.networks),
    ]);
    if (!image) {
      throw new ApiError('UNKNOWN_IMAGE', `No image named or with id "${request.image}"`, {
        errors: [{ path: 'image', message: 'unknown image; see GET /api/v1/images' }],
      });
    }
    return { flavor, image, ...(networks && { networks }) };
  }

  /** Resolved before anything is made, so that a bad name leaves no server behind (section 9). */
  private async networksNamedInBody(scope: Scope, refs: readonly string[] | undefined): Promise<NetworkRef[] | undefined> {
    if (refs === undefined || !this.networks) return undefined;
    // All in one go: one Neutron call for every network named by id (docs/contract.md section 9).
    const found = await this.networks.resolve(scope, refs);
    const errors = refs.flatMap((ref, i) => {
      const network = found[i];
      if (!network) return [{ path: `networks.${i}`, message: `unknown network "${ref}"; see GET /api/v1/networks` }];
      if (network.external) return [{ path: `networks.${i}`, message: `"${ref}" is an external network: it gives floating IPs, not ports` }];
      return [];
    });
    if (errors.length > 0) throw new ApiError('UNKNOWN_NETWORK', `Unknown network: ${errors.map((e) => e.message).join('; ')}`, { errors });
    const ids = found.map((n) => n?.id);
    if (new Set(ids).size !== ids.length) {
      throw new ApiError('VALIDATION_ERROR', 'The same network is named twice', { errors: [{ path: 'networks', message: 'names each network once' }] });
    }
    return found as NetworkRef[];
  }

  private async flavorNamedInBody(nameOrId: string): Promise<Flavor> {
    const flavor = await this.catalog.findFlavor(nameOrId);
    if (!flavor) {
      throw new ApiError('UNKNOWN_FLAVOR', `No flavor named or with id "${nameOrId}"`, {
        errors: [{ path: 'flavor', message: 'unknown flavor; see GET /api/v1/flavors' }],
      });
    }
    return flavor;
  }

  /** Waits (if asked) for the task to settle, and returns the freshest record either way. */
  private async settle(scope: Scope, record: VmRecord, options: CallOptions): Promise<VmRecord> {
    return settled(record, (r) => r.vm.task !== null, () => this.vms.get(scope, record.vm.id), {
      waitMs: options.waitMs,
      intervalMs: this.vms.pollIntervalMs,
      signal: this.shutdown,
    });
  }
}

interface ResolvedCreate {
  flavor: Flavor;
  image: Image;
  networks?: NetworkRef[];
}

function fingerprintOf(request: CreateVmRequest, { flavor, image, networks }: ResolvedCreate): string {
  const fields: unknown[] = [request.name, flavor.id, image.id, request.start];
  if (networks) fields.push(networks.map((n) => n.id));
  if (request.security_groups) fields.push(request.security_groups);
  if (request.data_disks?.length) fields.push(request.data_disks);
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
}
