import { z } from 'zod';

/** A Glance v2 image. Glance shows the fields at the top level, with no wrapper. */
export const imageSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullable(),
  /** queued, saving, active, killed, deleted, deactivated, ... */
  status: z.string(),
  /** GiB. */
  min_disk: z.number(),
  /** MiB. */
  min_ram: z.number(),
  /** Bytes; null until data is uploaded. */
  size: z.number().nullable().optional(),
  virtual_size: z.number().nullable().optional(),
  disk_format: z.string().nullable().optional(),
  container_format: z.string().nullable().optional(),
  visibility: z.string().optional(),
  tags: z.array(z.string()).optional(),
  created_at: z.string(),
  updated_at: z.string(),
});

export type Image = z.infer<typeof imageSchema>;

export const imageListResponseSchema = z.object({
  images: z.array(imageSchema),
  /** Path and query of the next page, relative to the endpoint's root: "/v2/images?marker=...". */
  next: z.string().optional(),
});

export interface ListImagesQuery {
  /** Page size; every page is read. */
  limit?: number;
  name?: string;
  status?: string;
  visibility?: 'public' | 'private' | 'shared' | 'community' | 'all';
}

/** Catalogs register Glance with or without its version; the paths below carry it. */
export function imageRoot(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/\/v2(?:\.\d+)?$/, '');
}

export const imagePaths = {
  collection: '/v2/images',
  one: (id: string) => `/v2/images/${encodeURIComponent(id)}`,
};
