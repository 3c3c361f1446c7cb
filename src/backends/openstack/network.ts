import { z } from 'zod';
import type { Connection, ServerNetworks } from '../../openstack/index.js';
import { parseResource } from '../../openstack/resource.js';
import { ApiError } from '../../domain/errors.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const networkListSchema = z.object({ networks: z.array(z.looseObject({ id: z.string(), name: z.string() })) });

/**
 * OS_NETWORK as Nova's `networks` (2.37+): `auto`, `none`, a network id, or a name looked up once
 * in Neutron (`GET /v2.0/networks?name=`) and remembered for the life of the process.
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
    const response = await this.connection.call(
      'network',
      { method: 'GET', path: '/v2.0/networks', query: { name: this.setting } },
      requestId === undefined ? {} : { requestId },
    );
    const { networks } = parseResource(networkListSchema, response.body, 'network list');
    const match = networks.find((n) => n.name === this.setting);
    if (match === undefined) {
      throw new ApiError('BACKEND_UNAVAILABLE', `The cloud has no network named "${this.setting}" (OS_NETWORK)`, { upstream: 'error' });
    }
    return [{ uuid: match.id }];
  }
}
