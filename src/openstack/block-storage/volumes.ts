import { z } from 'zod';
import { linkSchema } from '../paging.js';
import type { QueryValue } from '../transport.js';

/**
 * A Cinder v3 volume as GET /volumes/{id} and /volumes/detail show it. Only what callers read is
 * required; the rest passes through.
 */
export const volumeSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullable(),
  description: z.string().nullable(),
  size: z.number(),
  /** creating, available, reserved, attaching, in-use, detaching, extending, deleting, error, ...: kept open. */
  status: z.string(),
  attachments: z.array(z.looseObject({ server_id: z.string(), device: z.string().nullable().optional(), attachment_id: z.string().optional() })),
  metadata: z.record(z.string(), z.string()),
  created_at: z.string(),
  updated_at: z.string().nullable(),
});

export type CinderVolume = z.infer<typeof volumeSchema>;

export const volumeResponseSchema = z.object({ volume: volumeSchema });

export const volumeListResponseSchema = z.object({
  volumes: z.array(volumeSchema),
  volumes_links: z.array(linkSchema).optional(),
});

export interface CreateVolumeOptions {
  name: string;
  description: string;
  size: number;
  metadata?: Record<string, string>;
}

export function createVolumeBody(options: CreateVolumeOptions): unknown {
  return { volume: { name: options.name, description: options.description, size: options.size, ...(options.metadata && { metadata: options.metadata }) } };
}

export interface ListVolumesQuery {
  limit?: number;
  marker?: string;
  /** Volumes whose metadata holds all of these pairs. */
  metadata?: Record<string, string>;
  /** Exact in Cinder. */
  name?: string;
  /** e.g. created_at:asc; Cinder adds id as a tie-breaker. */
  sort?: string;
}

export function listVolumesQuery(query: ListVolumesQuery): Record<string, QueryValue> {
  return {
    limit: query.limit,
    marker: query.marker,
    sort: query.sort,
    name: query.name,
    // Cinder reads the metadata filter as a Python literal; JSON of string pairs is one.
    metadata: query.metadata && JSON.stringify(query.metadata),
  };
}

export const volumePaths = {
  collection: '/volumes',
  detail: '/volumes/detail',
  one: (id: string) => `/volumes/${encodeURIComponent(id)}`,
  action: (id: string) => `/volumes/${encodeURIComponent(id)}/action`,
};

/** The body of POST /volumes/{id}/action. */
export type VolumeAction = { 'os-extend': { new_size: number } };
