import { z } from 'zod';
import { linkSchema } from '../paging.js';

/** A Neutron port: a VM's (device_owner compute:*), a router's or a DHCP server's. */
export const portSchema = z.looseObject({
  id: z.string(),
  network_id: z.string(),
  device_id: z.string(),
  device_owner: z.string(),
  status: z.string().optional(),
  fixed_ips: z.array(z.looseObject({ subnet_id: z.string(), ip_address: z.string() })),
  created_at: z.string().optional(),
});

export type Port = z.infer<typeof portSchema>;

export const portListResponseSchema = z.object({ ports: z.array(portSchema), ports_links: z.array(linkSchema).optional() });

export interface ListPortsQuery {
  device_id?: string;
  network_id?: string;
  /** Several ids: one call for many ports (Neutron reads a repeated filter as "any of"). */
  id?: readonly string[];
}

export const portPaths = {
  ports: '/v2.0/ports',
};
