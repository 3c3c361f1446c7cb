import type { CallOptions, Connection, ListServersQuery } from '../../openstack/index.js';
import type { VmRecord } from '../../repository/vm-repository.js';
import type { OpenStackCatalog } from './catalog.js';
import { serverToRecord, type ServerTenant } from './server-record.js';
import type { OpenStackTuning } from './tuning.js';

export interface DeletedServersOptions {
  connection: Connection;
  catalog: OpenStackCatalog;
  /** Whose server each is (tenant-placement.ts). */
  tenantOf: ServerTenant;
  /** Nova's filters that list every tenant's servers (tenant-placement.ts). */
  everyTenant: Pick<ListServersQuery, 'allTenants'>;
  tuning: Pick<OpenStackTuning, 'deletedWindowMs' | 'maxRememberedDeleted'>;
  now: () => number;
}

/**
 * Deleted servers. Nova answers 404 for a deleted server at once, but still lists it under
 * `changes-since` (until an operator archives the rows): within the window, it is a DELETED VM;
 * after, unknown. Deleted records are final, so once seen they are remembered (bounded) instead of
 * listing changes again.
 */
export class DeletedServers {
  private readonly connection: Connection;
  private readonly catalog: OpenStackCatalog;
  private readonly tenantOf: ServerTenant;
  private readonly everyTenant: Pick<ListServersQuery, 'allTenants'>;
  private readonly tuning: Pick<OpenStackTuning, 'deletedWindowMs' | 'maxRememberedDeleted'>;
  private readonly now: () => number;
  private readonly records = new Map<string, VmRecord>();

  constructor(options: DeletedServersOptions) {
    this.connection = options.connection;
    this.catalog = options.catalog;
    this.tenantOf = options.tenantOf;
    this.everyTenant = options.everyTenant;
    this.tuning = options.tuning;
    this.now = options.now;
  }

  /** The `changes-since` that reaches back over the whole window. */
  windowStart(): Date {
    return new Date(this.now() - this.tuning.deletedWindowMs);
  }

  remembered(id: string): VmRecord | undefined {
    return this.records.get(id);
  }

  remember(record: VmRecord): void {
    this.records.set(record.vm.id, record);
    // Oldest first out: Map iteration is insertion order.
    for (const key of this.records.keys()) {
      if (this.records.size <= this.tuning.maxRememberedDeleted) break;
      this.records.delete(key);
    }
  }

  /** Looks `id` up among the servers deleted within the window, remembering every one it sees. */
  async find(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const servers = await this.connection.compute.listAllServers({ ...this.everyTenant, changesSince: this.windowStart() }, options);
    await this.catalog.refresh();
    let found: VmRecord | undefined;
    for (const server of servers) {
      if (server.status !== 'DELETED') continue;
      const record = serverToRecord(server, this.catalog.names, this.now(), this.tenantOf);
      this.remember(record);
      if (server.id === id) found = record;
    }
    return found;
  }
}
