import { z } from 'zod';
import { linkSchema } from '../paging.js';

/** A Neutron floating IP; the rest (router_id, fixed_ip_address, ...) passes through. */
export const floatingIpSchema = z.looseObject({
  id: z.string(),
  floating_ip_address: z.string(),
  floating_network_id: z.string(),
  port_id: z.string().nullable(),
  fixed_ip_address: z.string().nullable().optional(),
  router_id: z.string().nullable().optional(),
  /** ACTIVE, DOWN or ERROR; DOWN for ever without an L3 agent. */
  status: z.string(),
  tags: z.array(z.string()).optional(),
  created_at: z.string().optional(),
});

export type FloatingIp = z.infer<typeof floatingIpSchema>;

export const floatingIpListResponseSchema = z.object({ floatingips: z.array(floatingIpSchema), floatingips_links: z.array(linkSchema).optional() });
export const floatingIpResponseSchema = z.object({ floatingip: floatingIpSchema });

export interface ListFloatingIpsQuery {
  tags?: string;
  port_id?: readonly string[];
}

export const floatingIpPaths = {
  floatingIps: '/v2.0/floatingips',
  floatingIp: (id: string) => `/v2.0/floatingips/${encodeURIComponent(id)}`,
};

/**
 * Neutron's standard-attr tags, on any resource that has them (networks, routers, floating IPs, ...):
 * set as a whole with PUT, since Zed's POST bodies do not take `tags`.
 */
export const tagPaths = {
  tags: (collection: 'networks' | 'routers' | 'floatingips' | 'subnets', id: string) => `/v2.0/${collection}/${encodeURIComponent(id)}/tags`,
};
