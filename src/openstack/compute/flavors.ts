import { z } from 'zod';
import { linkSchema } from '../paging.js';

export const flavorSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  /** MiB. */
  ram: z.number(),
  /** GiB. */
  disk: z.number(),
  // Before 2.75 Nova shows a swap of 0 as "": one number type for callers whatever the pin.
  swap: z.union([z.number(), z.literal('')]).transform((swap) => (swap === '' ? 0 : swap)),
  'OS-FLV-EXT-DATA:ephemeral': z.number().optional(),
  'OS-FLV-DISABLED:disabled': z.boolean().optional(),
  'os-flavor-access:is_public': z.boolean().optional(),
  /** 2.55+. */
  description: z.string().nullable().optional(),
  /** 2.61+, when policy allows. */
  extra_specs: z.record(z.string(), z.string()).optional(),
});

export type Flavor = z.infer<typeof flavorSchema>;

export const flavorResponseSchema = z.object({ flavor: flavorSchema });

export const flavorListResponseSchema = z.object({
  flavors: z.array(flavorSchema),
  flavors_links: z.array(linkSchema).optional(),
});

export const flavorPaths = {
  detail: '/flavors/detail',
  one: (id: string) => `/flavors/${encodeURIComponent(id)}`,
};
