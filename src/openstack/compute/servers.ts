import { z } from 'zod';
import { linkSchema } from '../paging.js';
import type { QueryValue } from '../transport.js';

/** From microversion 2.47 the server embeds its flavor's figures instead of a reference. */
export const embeddedFlavorSchema = z.looseObject({
  original_name: z.string(),
  vcpus: z.number(),
  ram: z.number(),
  disk: z.number(),
  ephemeral: z.number().optional(),
  swap: z.number().optional(),
  // Shown only when policy allows.
  extra_specs: z.record(z.string(), z.string()).optional(),
});

/** Before 2.47. */
export const flavorReferenceSchema = z.looseObject({ id: z.string() });

export type EmbeddedFlavor = z.infer<typeof embeddedFlavorSchema>;

export const serverAddressSchema = z.looseObject({
  addr: z.string(),
  version: z.number(),
  'OS-EXT-IPS:type': z.string().optional(),
  'OS-EXT-IPS-MAC:mac_addr': z.string().optional(),
});

/** Present once a build failed (ERROR); `details` (a traceback) only for admins. */
export const serverFaultSchema = z.looseObject({
  code: z.number(),
  message: z.string(),
  created: z.string(),
  details: z.string().optional(),
});

/** A server as GET /servers/{id} and /servers/detail show it. Unknown fields pass through. */
export const serverSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  /** ACTIVE, BUILD, SHUTOFF, PAUSED, SUSPENDED, VERIFY_RESIZE, ERROR, DELETED, ...: kept open. */
  status: z.string(),
  /** Non-null while an action runs: stop/start/pause/... keep the old status meanwhile. */
  'OS-EXT-STS:task_state': z.string().nullable(),
  'OS-EXT-STS:vm_state': z.string(),
  'OS-EXT-STS:power_state': z.number(),
  flavor: z.union([embeddedFlavorSchema, flavorReferenceSchema]),
  /** "" for a server booted from a volume. */
  image: z.union([z.looseObject({ id: z.string() }), z.literal('')]),
  /** Keyed by network name. */
  addresses: z.record(z.string(), z.array(serverAddressSchema)),
  fault: serverFaultSchema.optional(),
  created: z.string(),
  updated: z.string(),
  /** 2.26+. */
  tags: z.array(z.string()).optional(),
  /** The project the server belongs to (it outlives the server's tags and metadata). */
  tenant_id: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
  'OS-EXT-AZ:availability_zone': z.string().optional(),
  /** Admin view only. */
  'OS-EXT-SRV-ATTR:host': z.string().nullable().optional(),
  /** The names of the groups of the server's ports (Neutron's names, read when the server is). */
  security_groups: z.array(z.looseObject({ name: z.string() })).optional(),
  /** The volumes attached (2.3+: with delete_on_termination). */
  'os-extended-volumes:volumes_attached': z.array(z.looseObject({ id: z.string(), delete_on_termination: z.boolean().optional() })).optional(),
});

export type Server = z.infer<typeof serverSchema>;

export function isEmbeddedFlavor(flavor: Server['flavor']): flavor is EmbeddedFlavor {
  return 'vcpus' in flavor;
}

export const serverResponseSchema = z.object({ server: serverSchema });

export const serverListResponseSchema = z.object({
  servers: z.array(serverSchema),
  servers_links: z.array(linkSchema).optional(),
});

/**
 * The 202 to POST /servers. A plain object on purpose: it drops `adminPass`, a secret that should
 * not travel further than this parser.
 */
export const createdServerResponseSchema = z.object({ server: z.object({ id: z.string() }) });

export const serverTagsResponseSchema = z.object({ tags: z.array(z.string()) });

/** GET /servers/{id}/os-volume_attachments: each attached volume and the device the server sees. */
export const volumeAttachmentSchema = z.looseObject({ volumeId: z.string(), device: z.string().nullable().optional() });
export type VolumeAttachment = z.infer<typeof volumeAttachmentSchema>;
export const volumeAttachmentListResponseSchema = z.object({ volumeAttachments: z.array(volumeAttachmentSchema) });

/** `networks` is required from 2.37: "auto" (a network the project may use), "none", or explicit ones. */
export type ServerNetworks = 'auto' | 'none' | readonly { uuid: string }[];

export interface CreateServerOptions {
  name: string;
  flavorRef: string;
  imageRef: string;
  networks: ServerNetworks;
  /** 2.52+. */
  tags?: readonly string[];
  metadata?: Record<string, string>;
  availabilityZone?: string;
  /** Security groups by id (Nova takes a name or an id in `name`; an id is never ambiguous). */
  securityGroups?: readonly string[];
  /** Existing volumes to attach as data disks (block_device_mapping_v2). */
  volumes?: readonly { id: string; deleteOnTermination: boolean }[];
}

export function createServerBody(options: CreateServerOptions): unknown {
  return {
    server: {
      name: options.name,
      flavorRef: options.flavorRef,
      imageRef: options.imageRef,
      networks: options.networks,
      ...(options.tags === undefined ? {} : { tags: options.tags }),
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      ...(options.availabilityZone === undefined ? {} : { availability_zone: options.availabilityZone }),
      ...(options.securityGroups === undefined ? {} : { security_groups: options.securityGroups.map((id) => ({ name: id })) }),
      ...(options.volumes === undefined || options.volumes.length === 0
        ? {}
        : {
            // The image stays the root disk; each volume joins as a data disk, in order.
            block_device_mapping_v2: [
              { boot_index: 0, uuid: options.imageRef, source_type: 'image', destination_type: 'local', delete_on_termination: true },
              ...options.volumes.map((v) => ({ boot_index: -1, uuid: v.id, source_type: 'volume', destination_type: 'volume', delete_on_termination: v.deleteOnTermination })),
            ],
          }),
    },
  };
}

export interface ListServersQuery {
  limit?: number;
  marker?: string;
  /** Also lists servers deleted since then, with status DELETED. */
  changesSince?: Date | string;
  /** Servers carrying all of these tags. */
  tags?: readonly string[];
  /** Servers carrying any of these tags. */
  tagsAny?: readonly string[];
  /** A regular expression in Nova. */
  name?: string;
  status?: string;
  /** e.g. created_at; Nova adds id as a tie-breaker, so markers page stably. */
  sortKey?: string;
  sortDir?: 'asc' | 'desc';
  /** Admin only: servers of every project, not just the token's. */
  allTenants?: boolean;
  /** Admin only, with `allTenants`: the servers of this project. */
  projectId?: string;
}

export function listServersQuery(query: ListServersQuery): Record<string, QueryValue> {
  return {
    limit: query.limit,
    marker: query.marker,
    'changes-since': query.changesSince,
    tags: query.tags,
    'tags-any': query.tagsAny,
    name: query.name,
    status: query.status,
    sort_key: query.sortKey,
    sort_dir: query.sortDir,
    all_tenants: query.allTenants ? '1' : undefined,
    project_id: query.projectId,
  };
}

export type ServerAction =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'reboot'; rebootType: 'SOFT' | 'HARD' }
  | { type: 'pause' }
  | { type: 'unpause' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'resize'; flavorRef: string }
  | { type: 'confirmResize' }
  | { type: 'revertResize' };

/** Nova's action key for every action that takes no arguments. */
const argumentlessActions = {
  start: 'os-start',
  stop: 'os-stop',
  pause: 'pause',
  unpause: 'unpause',
  suspend: 'suspend',
  resume: 'resume',
  confirmResize: 'confirmResize',
  revertResize: 'revertResize',
} as const;

/** The body of POST /servers/{id}/action. */
export function serverActionBody(action: ServerAction): Record<string, unknown> {
  switch (action.type) {
    case 'reboot':
      return { reboot: { type: action.rebootType } };
    case 'resize':
      return { resize: { flavorRef: action.flavorRef } };
    default:
      return { [argumentlessActions[action.type]]: null };
  }
}

export const serverPaths = {
  collection: '/servers',
  detail: '/servers/detail',
  one: (id: string) => `/servers/${encodeURIComponent(id)}`,
  action: (id: string) => `/servers/${encodeURIComponent(id)}/action`,
  tags: (id: string) => `/servers/${encodeURIComponent(id)}/tags`,
  tag: (id: string, tag: string) => `/servers/${encodeURIComponent(id)}/tags/${encodeURIComponent(tag)}`,
  metadataItem: (id: string, key: string) => `/servers/${encodeURIComponent(id)}/metadata/${encodeURIComponent(key)}`,
  volumeAttachments: (id: string) => `/servers/${encodeURIComponent(id)}/os-volume_attachments`,
  volumeAttachment: (id: string, volumeId: string) => `/servers/${encodeURIComponent(id)}/os-volume_attachments/${encodeURIComponent(volumeId)}`,
};
