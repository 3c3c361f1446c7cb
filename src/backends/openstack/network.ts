import type { Connection, ServerNetworks } from '../../openstack/index.js';
import { ApiError } from '../../domain/errors.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * OS_NETWORK as Nova's `networks` (2.37+): `auto`, `none`, a network id, or a name looked up once
 * in Neutron and remembered for the life of the process.
 */
export class NetworkChoice {
  private resolved: Promise<ServerNetworks> | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly setting: string,
  ) {}

  get(requestId?: string): Promise<ServerNetworks> {
    if (this.setting === 'auto' || this.setting === 'none') return Promise.resolve(this.setting);
    if (uuidPattern.test(this.setting)) return Promise.resolve([{ uuid: this.setting }]);
    this.resolved ??= this.lookUp(requestId).catch((err: unknown) => {
      this.resolved = undefined; // a failed lookup is tried again by the next create
      throw err;
    });
    return this.resolved;
  }

  private async lookUp(requestId: string | undefined): Promise<ServerNetworks> {
    const networks = await this.connection.network.listNetworks({ name: this.setting }, requestId === undefined ? {} : { requestId });
    // Neutron's name filter is exact already; the check keeps a cloud that ignores it from picking another.
    const match = networks.find((n) => n.name === this.setting);
    if (match === undefined) {
      throw new ApiError('BACKEND_UNAVAILABLE', `The cloud has no network named "${this.setting}" (OS_NETWORK)`, { upstream: 'error' });
    }
    return [{ uuid: match.id }];
  }
}
