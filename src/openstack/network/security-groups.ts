import { z } from 'zod';
import { linkSchema } from '../paging.js';
import type { QueryValue } from '../transport.js';

/**
 * Neutron security groups, their rules, and the one thing of a port they need: its groups. Only
 * what callers read is required; other fields (stateful, revision_number, ...) pass through.
 */
export const securityGroupRuleSchema = z.looseObject({
  id: z.string(),
  security_group_id: z.string(),
  direction: z.string(),
  /** A name (tcp, udp, icmp, ipv6-icmp, ...), a number as text, or null for any. */
  protocol: z.string().nullable(),
  port_range_min: z.number().nullable(),
  port_range_max: z.number().nullable(),
  remote_ip_prefix: z.string().nullable(),
  remote_group_id: z.string().nullable().optional(),
  ethertype: z.string(),
});

export type SecurityGroupRule = z.infer<typeof securityGroupRuleSchema>;

export const securityGroupSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  project_id: z.string().optional(),
  security_group_rules: z.array(securityGroupRuleSchema),
  tags: z.array(z.string()).optional(),
  created_at: z.string().optional(),
});

export type SecurityGroup = z.infer<typeof securityGroupSchema>;

export const securityGroupListResponseSchema = z.object({
  security_groups: z.array(securityGroupSchema),
  security_groups_links: z.array(linkSchema).optional(),
});

export const securityGroupResponseSchema = z.object({ security_group: securityGroupSchema });
export const securityGroupRuleResponseSchema = z.object({ security_group_rule: securityGroupRuleSchema });

/** A port as far as its security groups go. */
export const portGroupsSchema = z.looseObject({ id: z.string(), security_groups: z.array(z.string()) });

export type PortGroups = z.infer<typeof portGroupsSchema>;

export const portListResponseSchema = z.object({ ports: z.array(portGroupsSchema), ports_links: z.array(linkSchema).optional() });
export const portResponseSchema = z.object({ port: portGroupsSchema });

export interface ListSecurityGroupsQuery {
  /** Groups of this id: none or one, as a list. */
  id?: string;
  /** Exact match. */
  name?: string;
  /** Groups carrying all of these tags. */
  tags?: readonly string[];
  /** Groups of this project (an admin sees every project's). */
  projectId?: string;
  limit?: number;
}

export function listSecurityGroupsQuery(query: ListSecurityGroupsQuery): Record<string, QueryValue> {
  return { id: query.id, name: query.name, tags: query.tags, project_id: query.projectId, limit: query.limit };
}

export interface CreateSecurityGroupRuleOptions {
  securityGroupId: string;
  direction: 'ingress' | 'egress';
  protocol: string | null;
  portRangeMin: number | null;
  portRangeMax: number | null;
  remoteIpPrefix: string | null;
  ethertype: 'IPv4' | 'IPv6';
}

export function createSecurityGroupRuleBody(options: CreateSecurityGroupRuleOptions): unknown {
  return {
    security_group_rule: {
      security_group_id: options.securityGroupId,
      direction: options.direction,
      protocol: options.protocol,
      port_range_min: options.portRangeMin,
      port_range_max: options.portRangeMax,
      remote_ip_prefix: options.remoteIpPrefix,
      ethertype: options.ethertype,
    },
  };
}

export const securityGroupPaths = {
  groups: '/v2.0/security-groups',
  group: (id: string) => `/v2.0/security-groups/${encodeURIComponent(id)}`,
  groupTags: (id: string) => `/v2.0/security-groups/${encodeURIComponent(id)}/tags`,
  rules: '/v2.0/security-group-rules',
  rule: (id: string) => `/v2.0/security-group-rules/${encodeURIComponent(id)}`,
  ports: '/v2.0/ports',
  port: (id: string) => `/v2.0/ports/${encodeURIComponent(id)}`,
};
