import { z } from 'zod';
import { linkSchema } from '../paging.js';
import { AnyOf, type QueryValue } from '../transport.js';

/**
 * A Neutron network as GET /v2.0/networks shows it. Only what callers read is required; the rest
 * (mtu, subnets, router:external, ...) passes through for the resources that will need it.
 */
export const networkSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  /** ACTIVE, DOWN, BUILD, ERROR: kept open. */
  status: z.string().optional(),
  admin_state_up: z.boolean().optional(),
  shared: z.boolean().optional(),
  project_id: z.string().optional(),
  subnets: z.array(z.string()).optional(),
  'router:external': z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  created_at: z.string().optional(),
});

export type Network = z.infer<typeof networkSchema>;

export const networkListResponseSchema = z.object({
  networks: z.array(networkSchema),
  networks_links: z.array(linkSchema).optional(),
});

export const networkResponseSchema = z.object({ network: networkSchema });

export interface ListNetworksQuery {
  /** Any of these ids (one call for several networks); never empty. */
  id?: readonly string[];
  /** Exact match in Neutron (not a pattern, unlike Nova's server name); several: any of them. */
  name?: string | readonly string[];
  status?: string;
  shared?: boolean;
  /** Page size, where the cloud pages (allow_pagination); every page is read. */
  limit?: number;
  /** Only networks carrying this tag. */
  tags?: string;
  'router:external'?: boolean;
}

export function listNetworksQuery(query: ListNetworksQuery): Record<string, QueryValue> {
  return { id: query.id && new AnyOf(query.id), name: typeof query.name === 'string' ? query.name : query.name && new AnyOf(query.name), status: query.status, shared: query.shared, limit: query.limit, tags: query.tags, 'router:external': query['router:external'] };
}

/** The catalog registers Neutron at its root; every path carries the API version. */
export const networkPaths = {
  networks: '/v2.0/networks',
  network: (id: string) => `/v2.0/networks/${encodeURIComponent(id)}`,
};
