import { nextMarker, readAllPages } from '../paging.js';
import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from '../service.js';
import { listNetworksQuery, networkListResponseSchema, networkPaths, networkResponseSchema, type ListNetworksQuery, type Network } from './networks.js';

/**
 * Neutron v2.0. One module per resource beside this one (networks.ts today; subnets, ports,
 * security groups and floating IPs follow the same shape: schema, query builder, paths).
 */
export class NetworkProxy {
  private readonly caller: ServiceCaller;

  constructor(caller: ServiceCaller) {
    this.caller = caller;
  }

  private async call(request: ServiceRequest, options: CallOptions | undefined): Promise<unknown> {
    const response = await this.caller.call('network', request, options);
    return response.body;
  }

  /** GET /v2.0/networks with filters, every page. */
  listNetworks(query: ListNetworksQuery = {}, options?: CallOptions): Promise<Network[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: networkPaths.networks, query: { ...listNetworksQuery(query), marker } }, options);
      const page = parseResource(networkListResponseSchema, body, 'network list');
      return { items: page.networks, nextMarker: nextMarker(page.networks_links) };
    });
  }

  async getNetwork(id: string, options?: CallOptions): Promise<Network> {
    const body = await this.call({ method: 'GET', path: networkPaths.network(id) }, options);
    return parseResource(networkResponseSchema, body, 'network').network;
  }
}
