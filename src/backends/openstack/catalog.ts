import type { Logger } from 'pino';
import type { Connection, Network as NeutronNetwork } from '../../openstack/index.js';
import { tenantTag } from './marks.js';
import type { CatalogRepository } from '../../repository/vm-repository.js';
import type { Flavor, Image } from '../../domain/vm.js';
import { toApiError } from './upstream-errors.js';

/** A value read again once it is older than `ttlMs`; concurrent readers share one refresh. */
class Cached<T> {
  private value: { data: T; at: number } | undefined;
  private inFlight: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(): Promise<T> {
    if (this.value !== undefined && this.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.data);
    this.inFlight ??= this.load()
      .then((data) => {
        this.value = { data, at: this.now() };
        return data;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** The last value read, however old, without a call: for naming things in records. */
  get last(): T | undefined {
    return this.value?.data;
  }
}

/** Flavors from Nova and images from Glance, cached for OS_CATALOG_CACHE_S; found by name or id. */
export class OpenStackCatalog implements CatalogRepository {
  private readonly flavors: Cached<Flavor[]>;
  private readonly images: Cached<Image[]>;
  /** Neutron's networks, to name a server's (Nova's addresses are keyed by network name). */
  private networks: Cached<NeutronNetwork[]>;
  private readonly loadNetworks: () => Cached<NeutronNetwork[]>;

  constructor(connection: Connection, ttlMs: number, log: Logger, now: () => number = Date.now) {
    // A cold cache and a failing cloud is a 503/504 like any other upstream failure, not a 500.
    const mapped = <T>(operation: string, load: () => Promise<T>) => () =>
      load().catch((err: unknown) => {
        throw toApiError(err, { operation }, log);
      });
    this.flavors = new Cached(mapped('list flavors', async () => (await connection.compute.listFlavors()).map(toFlavor)), ttlMs, now);
    this.images = new Cached(
      mapped('list images', async () =>
        (await connection.image.listImages())
          // An image still uploading, or one without a name, cannot be asked for by name.
          .filter((i) => i.status === 'active' && i.name !== null)
          .map(toImage),
      ),
      ttlMs,
      now,
    );
    this.loadNetworks = () => new Cached(mapped('list networks', () => connection.network.listNetworks()), ttlMs, now);
    this.networks = this.loadNetworks();
  }

  /** A network was made, renamed or deleted: the next refresh reads them again. */
  forgetNetworks(): void {
    this.networks = this.loadNetworks();
  }

  listFlavors(): Promise<Flavor[]> {
    return this.flavors.get();
  }

  async findFlavor(nameOrId: string): Promise<Flavor | undefined> {
    return (await this.flavors.get()).find((f) => f.name === nameOrId || f.id === nameOrId);
  }

  listImages(): Promise<Image[]> {
    return this.images.get();
  }

  async findImage(nameOrId: string): Promise<Image | undefined> {
    return (await this.images.get()).find((i) => i.name === nameOrId || i.id === nameOrId);
  }

  /** Reads both catalogs if they are stale, so that `names` can answer without a call. */
  async refresh(): Promise<void> {
    // Networks only name a VM's networks: a read waits for them the first time only, and never
    // fails for want of them (a network not known yet shows its name as its id).
    const networks = this.networks.get().catch(() => undefined);
    await Promise.all([this.flavors.get(), this.images.get(), this.networks.last === undefined ? networks : undefined]);
  }

  /** Names by id from the last catalogs read; an entry no longer listed shows its id. */
  readonly names = {
    flavorName: (id: string): string => this.flavors.last?.find((f) => f.id === id)?.name ?? id,
    imageName: (id: string): string => this.images.last?.find((i) => i.id === id)?.name ?? id,
    /** Names are unique within what a tenant sees: its own network of the name first, then an untagged one. */
    networkId: (name: string, tenant: string): string | undefined => {
      const named = (this.networks.last ?? []).filter((n) => n.name === name);
      const own = named.find((n) => (n.tags ?? []).includes(tenantTag(tenant)));
      return (own ?? named.find((n) => !(n.tags ?? []).some((t) => t.startsWith(tenantTag(''))))  ?? named[0])?.id;
    },
  };
}

function toFlavor(flavor: { id: string; name: string; vcpus: number; ram: number; disk: number }): Flavor {
  return { id: flavor.id, name: flavor.name, vcpus: flavor.vcpus, ram_mb: flavor.ram, disk_gb: flavor.disk };
}

function toImage(image: { id: string; name: string | null; min_disk: number; min_ram: number }): Image {
  return { id: image.id, name: image.name ?? image.id, min_disk_gb: image.min_disk, min_ram_mb: image.min_ram };
}
