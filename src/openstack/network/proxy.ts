import { nextMarker, readAllPages } from '../paging.js';
import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from '../service.js';
import { listNetworksQuery, networkListResponseSchema, networkPaths, networkResponseSchema, type ListNetworksQuery, type Network } from './networks.js';
import {
  createSecurityGroupRuleBody,
  listSecurityGroupsQuery,
  portListResponseSchema,
  portResponseSchema,
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

  /** GET /v2.0/security-groups with filters, every page. */
  listSecurityGroups(query: ListSecurityGroupsQuery = {}, options?: CallOptions): Promise<SecurityGroup[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: securityGroupPaths.groups, query: { ...listSecurityGroupsQuery(query), marker } }, options);
      const page = parseResource(securityGroupListResponseSchema, body, 'security group list');
      return { items: page.security_groups, nextMarker: nextMarker(page.security_groups_links) };
    });
  }

  /**
   * GET /v2.0/security-groups/{id}. Neutron (Zed) reads the rules in a second database session
   * inside the first; the local cloud's SQLite setup makes that wait on itself for 30 s and fail,
   * so the adapter lists by id instead (listSecurityGroups({ id })).
   */
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
      const page = parseResource(portListResponseSchema, body, 'port list');
      return { items: page.ports, nextMarker: nextMarker(page.ports_links) };
    });
  }

  async setPortSecurityGroups(portId: string, securityGroups: readonly string[], options?: CallOptions): Promise<PortGroups> {
    const body = await this.call({ method: 'PUT', path: securityGroupPaths.port(portId), body: { port: { security_groups: securityGroups } } }, options);
    return parseResource(portResponseSchema, body, 'port').port;
  }
}
