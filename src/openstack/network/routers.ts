import { z } from 'zod';
import { linkSchema } from '../paging.js';

/** A Neutron router (the L3 router service plugin); the rest passes through. */
export const routerSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string().optional(),
  tags: z.array(z.string()).optional(),
  external_gateway_info: z.looseObject({ network_id: z.string() }).nullable().optional(),
});

export type Router = z.infer<typeof routerSchema>;

export const routerListResponseSchema = z.object({ routers: z.array(routerSchema), routers_links: z.array(linkSchema).optional() });
export const routerResponseSchema = z.object({ router: routerSchema });

export interface CreateRouterRequest {
  name: string;
  /** The external network the router's gateway sits on. */
  external_gateway_info?: { network_id: string };
}

export const routerPaths = {
  routers: '/v2.0/routers',
  router: (id: string) => `/v2.0/routers/${encodeURIComponent(id)}`,
  addInterface: (id: string) => `/v2.0/routers/${encodeURIComponent(id)}/add_router_interface`,
  removeInterface: (id: string) => `/v2.0/routers/${encodeURIComponent(id)}/remove_router_interface`,
};
