import { ApiError } from '../../domain/errors.js';
import { SeqIndex, mergeBySeq, type Sequenced } from './seq-index.js';

/** What a resource must hold to be paged by status and tenant. */
export interface Pageable<S extends string> extends Sequenced {
  readonly tenant: string;
  readonly name: string;
  status: S;
}

export interface PageQuery<S extends string> {
  statuses: readonly S[];
  name?: { value: string; prefix: boolean };
  limit: number;
  cursor?: string;
}

type StatusIndexes<S extends string, T extends Sequenced> = Map<S, SeqIndex<T>>;

/**
 * A resource's items by status in creation order, once for all tenants and once per tenant, for
 * cursor paging: one tenant's page costs the same however many other tenants' items there are, and
 * a page at 100k items the same as at 1k. Shared by the VM store and the volume store; knows
 * nothing of what the items are beyond `Pageable`.
 */
export class StatusPages<S extends string, T extends Pageable<S>> {
  private readonly byStatus: StatusIndexes<S, T>;
  private readonly byTenant = new Map<string, StatusIndexes<S, T>>();

  constructor(
    private readonly statuses: readonly S[],
    /** Tells cursors of one resource from another's (a VM cursor is no volume cursor). */
    private readonly cursorPrefix: string,
  ) {
    this.byStatus = this.indexes();
  }

  insert(item: T): void {
    this.statusIndex(item.status).insert(item);
    this.tenantIndex(item.tenant, item.status).insert(item);
  }

  remove(item: T): void {
    this.statusIndex(item.status).remove(item);
    this.tenantIndex(item.tenant, item.status).remove(item);
    const indexes = this.byTenant.get(item.tenant);
    if (indexes && [...indexes.values()].every((index) => index.size === 0)) this.byTenant.delete(item.tenant);
  }

  setStatus(item: T, next: S): void {
    if (item.status === next) return;
    this.statusIndex(item.status).remove(item);
    this.tenantIndex(item.tenant, item.status).remove(item);
    item.status = next;
    this.insert(item);
  }

  /** Whether a tenant has any item here. */
  hasTenant(tenant: string): boolean {
    return this.byTenant.has(tenant);
  }

  countByStatus(): Record<S, number> {
    return Object.fromEntries(this.statuses.map((s) => [s, this.statusIndex(s).size])) as Record<S, number>;
  }

  /** A page of every tenant's items, or of one tenant's, each turned into `R` by `toItem`. */
  page<R>(query: PageQuery<S>, tenant: string | undefined, toItem: (item: T) => R): { items: R[]; nextCursor: string | null } {
    const after = this.decodeCursor(query.cursor);
    if (tenant !== undefined && !this.byTenant.has(tenant)) return { items: [], nextCursor: null };
    const streams = query.statuses.map((s) => (tenant === undefined ? this.statusIndex(s) : this.tenantIndex(tenant, s)).from(after));
    const items: R[] = [];
    let hasMore = false;
    let last: T | undefined;
    for (const item of mergeBySeq(streams)) {
      if (query.name && !matchesName(item.name, query.name)) continue;
      if (items.length === query.limit) {
        hasMore = true;
        break;
      }
      items.push(toItem(item));
      last = item;
    }
    return { items, nextCursor: hasMore && last ? this.encodeCursor(last.seq) : null };
  }

  private indexes(): StatusIndexes<S, T> {
    return new Map(this.statuses.map((s) => [s, new SeqIndex<T>()]));
  }

  private statusIndex(status: S): SeqIndex<T> {
    return this.byStatus.get(status) as SeqIndex<T>;
  }

  private tenantIndex(tenant: string, status: S): SeqIndex<T> {
    let indexes = this.byTenant.get(tenant);
    if (!indexes) {
      indexes = this.indexes();
      this.byTenant.set(tenant, indexes);
    }
    return indexes.get(status) as SeqIndex<T>;
  }

  private encodeCursor(seq: number): string {
    return Buffer.from(`${this.cursorPrefix}${seq}`).toString('base64url');
  }

  private decodeCursor(cursor: string | undefined): number {
    if (cursor === undefined) return 0;
    const text = Buffer.from(cursor, 'base64url').toString();
    const seq = Number(text.slice(this.cursorPrefix.length));
    if (!text.startsWith(this.cursorPrefix) || !Number.isSafeInteger(seq) || seq < 1) {
      throw new ApiError('VALIDATION_ERROR', 'The cursor is not one this API returned', {
        errors: [{ path: 'cursor', message: 'not a cursor returned by this API' }],
      });
    }
    return seq;
  }
}

function matchesName(name: string, filter: { value: string; prefix: boolean }): boolean {
  return filter.prefix ? name.startsWith(filter.value) : name === filter.value;
}
