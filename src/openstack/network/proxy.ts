import { nextMarker, readAllPages } from '../paging.js';
import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from '../service.js';
import { AnyOf } from '../transport.js';
import { floatingIpListResponseSchema, floatingIpPaths, floatingIpResponseSchema, tagPaths, type FloatingIp, type ListFloatingIpsQuery } from './floating-ips.js';
import { portListResponseSchema, portPaths, type ListPortsQuery, type Port } from './ports.js';
import { routerListResponseSchema, routerPaths, routerResponseSchema, type CreateRouterRequest, type Router } from './routers.js';
import { subnetListResponseSchema, subnetPaths, subnetResponseSchema, type CreateSubnetRequest, type Subnet } from './subnets.js';
import { listNetworksQuery, networkListResponseSchema, networkPaths, networkResponseSchema, type ListNetworksQuery, type Network } from './networks.js';
import {
  createSecurityGroupRuleBody,
  listSecurityGroupsQuery,
  portListResponseSchema as portGroupsListResponseSchema,
  portResponseSchema as portGroupsResponseSchema,
  securityGroupListResponseSchema,
  securityGroupPaths,
  securityGroupResponseSchema,
  securityGroupRuleResponseSchema,
  type CreateSecurityGroupRuleOptions,
  type ListSecurityGroupsQuery,
  type PortGroups,
  type SecurityGroup,
  type SecurityGroupRule,
} from './security-groups.js';

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

  async createNetwork(network: { name: string }, options?: CallOptions): Promise<Network> {
    const body = await this.call({ method: 'POST', path: networkPaths.networks, body: { network } }, options);
    return parseResource(networkResponseSchema, body, 'network').network;
  }

  async updateNetwork(id: string, network: { name: string }, options?: CallOptions): Promise<Network> {
    const body = await this.call({ method: 'PUT', path: networkPaths.network(id), body: { network } }, options);
    return parseResource(networkResponseSchema, body, 'network').network;
  }

  async deleteNetwork(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: networkPaths.network(id) }, options);
  }

  /** GET /v2.0/subnets of these networks (one call for many), every page. */
  listSubnets(query: { network_id: readonly string[] }, options?: CallOptions): Promise<Subnet[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: subnetPaths.subnets, query: { network_id: new AnyOf(query.network_id), marker } }, options);
      const page = parseResource(subnetListResponseSchema, body, 'subnet list');
      return { items: page.subnets, nextMarker: nextMarker(page.subnets_links) };
    });
  }

  async createSubnet(subnet: CreateSubnetRequest, options?: CallOptions): Promise<Subnet> {
    const body = await this.call({ method: 'POST', path: subnetPaths.subnets, body: { subnet } }, options);
    return parseResource(subnetResponseSchema, body, 'subnet').subnet;
  }

  listRouters(query: { tags?: string } = {}, options?: CallOptions): Promise<Router[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: routerPaths.routers, query: { tags: query.tags, marker } }, options);
      const page = parseResource(routerListResponseSchema, body, 'router list');
      return { items: page.routers, nextMarker: nextMarker(page.routers_links) };
    });
  }

  async createRouter(router: CreateRouterRequest, options?: CallOptions): Promise<Router> {
    const body = await this.call({ method: 'POST', path: routerPaths.routers, body: { router } }, options);
    return parseResource(routerResponseSchema, body, 'router').router;
  }

  async deleteRouter(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: routerPaths.router(id) }, options);
  }

  async addRouterInterface(routerId: string, subnetId: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: routerPaths.addInterface(routerId), body: { subnet_id: subnetId } }, options);
  }

  async removeRouterInterface(routerId: string, subnetId: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: routerPaths.removeInterface(routerId), body: { subnet_id: subnetId } }, options);
  }

  listPorts(query: ListPortsQuery, options?: CallOptions): Promise<Port[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: portPaths.ports, query: { device_id: query.device_id, network_id: query.network_id, id: query.id && new AnyOf(query.id), marker } }, options);
      const page = parseResource(portListResponseSchema, body, 'port list');
      return { items: page.ports, nextMarker: nextMarker(page.ports_links) };
    });
  }

  listFloatingIps(query: ListFloatingIpsQuery = {}, options?: CallOptions): Promise<FloatingIp[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: floatingIpPaths.floatingIps, query: { tags: query.tags, port_id: query.port_id, marker } }, options);
      const page = parseResource(floatingIpListResponseSchema, body, 'floating IP list');
      return { items: page.floatingips, nextMarker: nextMarker(page.floatingips_links) };
    });
  }

  async getFloatingIp(id: string, options?: CallOptions): Promise<FloatingIp> {
    const body = await this.call({ method: 'GET', path: floatingIpPaths.floatingIp(id) }, options);
    return parseResource(floatingIpResponseSchema, body, 'floating IP').floatingip;
  }

  async createFloatingIp(floatingip: { floating_network_id: string }, options?: CallOptions): Promise<FloatingIp> {
    const body = await this.call({ method: 'POST', path: floatingIpPaths.floatingIps, body: { floatingip } }, options);
    return parseResource(floatingIpResponseSchema, body, 'floating IP').floatingip;
  }

  /** Associates (a port id) or disassociates (null). */
  async updateFloatingIp(id: string, floatingip: { port_id: string | null }, options?: CallOptions): Promise<FloatingIp> {
    const body = await this.call({ method: 'PUT', path: floatingIpPaths.floatingIp(id), body: { floatingip } }, options);
    return parseResource(floatingIpResponseSchema, body, 'floating IP').floatingip;
  }

  async deleteFloatingIp(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: floatingIpPaths.floatingIp(id) }, options);
  }

  /** Replaces a resource's tags. */
  async setTags(collection: Parameters<typeof tagPaths.tags>[0], id: string, tags: readonly string[], options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: tagPaths.tags(collection, id), body: { tags } }, options);
  }

  /** GET /v2.0/security-groups with filters, every page. */
  listSecurityGroups(query: ListSecurityGroupsQuery = {}, options?: CallOptions): Promise<SecurityGroup[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: securityGroupPaths.groups, query: { ...listSecurityGroupsQuery(query), marker } }, options);
      const page = parseResource(securityGroupListResponseSchema, body, 'security group list');
      return { items: page.security_groups, nextMarker: nextMarker(page.security_groups_links) };
    });
  }

  /** GET /v2.0/security-groups/{id}: the group with its rules (404 for an unknown id, as for any GET). */
  async getSecurityGroup(id: string, options?: CallOptions): Promise<SecurityGroup> {
    const body = await this.call({ method: 'GET', path: securityGroupPaths.group(id) }, options);
    return parseResource(securityGroupResponseSchema, body, 'security group').security_group;
  }

  /** Neutron adds the allow-all egress pair to every new group. */
  async createSecurityGroup(input: { name: string; description: string }, options?: CallOptions): Promise<SecurityGroup> {
    const body = await this.call({ method: 'POST', path: securityGroupPaths.groups, body: { security_group: input } }, options);
    return parseResource(securityGroupResponseSchema, body, 'security group').security_group;
  }

  async updateSecurityGroup(id: string, change: { name?: string; description?: string }, options?: CallOptions): Promise<SecurityGroup> {
    const body = await this.call({ method: 'PUT', path: securityGroupPaths.group(id), body: { security_group: change } }, options);
    return parseResource(securityGroupResponseSchema, body, 'security group').security_group;
  }

  async deleteSecurityGroup(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: securityGroupPaths.group(id) }, options);
  }

  /** PUT /v2.0/security-groups/{id}/tags: replaces the group's tags (Zed takes no tags on create). */
  async setSecurityGroupTags(id: string, tags: readonly string[], options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: securityGroupPaths.groupTags(id), body: { tags } }, options);
  }

  async createSecurityGroupRule(rule: CreateSecurityGroupRuleOptions, options?: CallOptions): Promise<SecurityGroupRule> {
    const body = await this.call({ method: 'POST', path: securityGroupPaths.rules, body: createSecurityGroupRuleBody(rule) }, options);
    return parseResource(securityGroupRuleResponseSchema, body, 'security group rule').security_group_rule;
  }

  async deleteSecurityGroupRule(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: securityGroupPaths.rule(id) }, options);
  }

  /** The ports of a device (a server's id), with their security groups. */
  listDevicePorts(deviceId: string, options?: CallOptions): Promise<PortGroups[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: securityGroupPaths.ports, query: { device_id: deviceId, marker } }, options);
      const page = parseResource(portGroupsListResponseSchema, body, 'port list');
      return { items: page.ports, nextMarker: nextMarker(page.ports_links) };
    });
  }

  async setPortSecurityGroups(portId: string, securityGroups: readonly string[], options?: CallOptions): Promise<PortGroups> {
    const body = await this.call({ method: 'PUT', path: securityGroupPaths.port(portId), body: { port: { security_groups: securityGroups } } }, options);
    return parseResource(portGroupsResponseSchema, body, 'port').port;
  }
}
