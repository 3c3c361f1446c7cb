import { z } from 'zod';
import { linkSchema } from '../paging.js';

/** A Neutron subnet as GET /v2.0/subnets shows it; the rest passes through. */
export const subnetSchema = z.looseObject({
  id: z.string(),
  network_id: z.string(),
  cidr: z.string(),
  gateway_ip: z.string().nullable().optional(),
  ip_version: z.number().optional(),
});

export type Subnet = z.infer<typeof subnetSchema>;

export const subnetListResponseSchema = z.object({ subnets: z.array(subnetSchema), subnets_links: z.array(linkSchema).optional() });
export const subnetResponseSchema = z.object({ subnet: subnetSchema });

export interface CreateSubnetRequest {
  network_id: string;
  cidr: string;
  ip_version: 4;
  name?: string;
}

export const subnetPaths = {
  subnets: '/v2.0/subnets',
  subnet: (id: string) => `/v2.0/subnets/${encodeURIComponent(id)}`,
};
