import type { Flavor, Image } from '../../domain/vm.js';
import type { CatalogRepository } from '../../repository/vm-repository.js';

/** The seed's flavors (docs/contract.md section 5), with Nova's default ids. */
export const seedFlavors: readonly Flavor[] = [
  { id: '1', name: 'm1.tiny', vcpus: 1, ram_mb: 512, disk_gb: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ram_mb: 2048, disk_gb: 20 },
  { id: '3', name: 'm1.medium', vcpus: 2, ram_mb: 4096, disk_gb: 40 },
  { id: '4', name: 'm1.large', vcpus: 4, ram_mb: 8192, disk_gb: 80 },
  { id: '5', name: 'm1.xlarge', vcpus: 8, ram_mb: 16384, disk_gb: 160 },
];

export const seedImages: readonly Image[] = [
  { id: '8c2e4a51-3b9f-4f7e-9d1a-0a6b1c2d3e41', name: 'ubuntu-22.04', min_disk_gb: 3, min_ram_mb: 512 },
  { id: '8c2e4a51-3b9f-4f7e-9d1a-0a6b1c2d3e42', name: 'ubuntu-24.04', min_disk_gb: 4, min_ram_mb: 512 },
  { id: '8c2e4a51-3b9f-4f7e-9d1a-0a6b1c2d3e43', name: 'debian-12', min_disk_gb: 2, min_ram_mb: 256 },
  { id: '8c2e4a51-3b9f-4f7e-9d1a-0a6b1c2d3e44', name: 'cirros-0.6', min_disk_gb: 1, min_ram_mb: 64 },
];

export class MemoryCatalog implements CatalogRepository {
  constructor(
    private readonly flavors: readonly Flavor[],
    private readonly images: readonly Image[],
  ) {}

  async listFlavors(): Promise<Flavor[]> {
    return [...this.flavors];
  }

  async findFlavor(nameOrId: string): Promise<Flavor | undefined> {
    return this.flavors.find((f) => f.name === nameOrId || f.id === nameOrId);
  }

  async listImages(): Promise<Image[]> {
    return [...this.images];
  }

  async findImage(nameOrId: string): Promise<Image | undefined> {
    return this.images.find((i) => i.name === nameOrId || i.id === nameOrId);
  }
}
