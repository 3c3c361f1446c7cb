import { nextMarker, readAllPages } from '../paging.js';
import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from '../service.js';
import { instanceActionListResponseSchema, instanceActionPaths, type InstanceAction } from './instance-actions.js';
import { limitsPaths, limitsResponseSchema, type AbsoluteLimits } from './limits.js';
import { flavorListResponseSchema, flavorPaths, flavorResponseSchema, type Flavor } from './flavors.js';
import {
  createServerBody,
  createdServerResponseSchema,
  listServersQuery,
  serverActionBody,
  serverListResponseSchema,
  serverPaths,
  serverResponseSchema,
  serverTagsResponseSchema,
  volumeAttachmentListResponseSchema,
  type CreateServerOptions,
  type ListServersQuery,
  type Server,
  type ServerAction,
  type VolumeAttachment,
} from './servers.js';
import {
  assertMicroversionInRange,
  computeVersionResponseSchema,
  computeVersionRoot,
  microversionRange,
  type MicroversionRange,
} from './versions.js';

export interface ServerPage {
  servers: Server[];
  /** Pass as `marker` for the next page; undefined on the last one. */
  nextMarker: string | undefined;
}

/** Nova, at one pinned microversion sent with every call. */
export class ComputeProxy {
  readonly microversion: string;
  private readonly caller: ServiceCaller;

  constructor(caller: ServiceCaller, microversion: string) {
    this.caller = caller;
    this.microversion = microversion;
  }

  private async call(request: ServiceRequest, options: CallOptions | undefined): Promise<unknown> {
    const response = await this.caller.call('compute', { ...request, microversion: this.microversion }, options);
    return response.body;
  }

  /** Returns once Nova accepted the request (202); the server then builds asynchronously. */
  async createServer(create: CreateServerOptions, options?: CallOptions): Promise<{ id: string }> {
    const body = await this.call({ method: 'POST', path: serverPaths.collection, body: createServerBody(create) }, options);
    return parseResource(createdServerResponseSchema, body, 'compute created server').server;
  }

  async getServer(id: string, options?: CallOptions): Promise<Server> {
    const body = await this.call({ method: 'GET', path: serverPaths.one(id) }, options);
    return parseResource(serverResponseSchema, body, 'compute server').server;
  }

  /** One page of GET /servers/detail. */
  async listServers(query: ListServersQuery = {}, options?: CallOptions): Promise<ServerPage> {
    const body = await this.call({ method: 'GET', path: serverPaths.detail, query: listServersQuery(query) }, options);
    const page = parseResource(serverListResponseSchema, body, 'compute server list');
    return { servers: page.servers, nextMarker: nextMarker(page.servers_links) };
  }

  /** Every page of GET /servers/detail. */
  listAllServers(query: ListServersQuery = {}, options?: CallOptions): Promise<Server[]> {
    return readAllPages(query.marker, async (marker) => {
      const page = await this.listServers({ ...query, marker }, options);
      return { items: page.servers, nextMarker: page.nextMarker };
    });
  }

  async deleteServer(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: serverPaths.one(id) }, options);
  }

  /** POST /servers/{id}/action; Nova answers 202 (204 for confirmResize) with nothing to read. */
  async serverAction(id: string, action: ServerAction, options?: CallOptions): Promise<void> {
    await this.call({ method: 'POST', path: serverPaths.action(id), body: serverActionBody(action) }, options);
  }

  /** PUT /servers/{id}/tags/{tag} (2.26+): adds one tag, keeps the others. */
  async addServerTag(id: string, tag: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: serverPaths.tag(id, tag) }, options);
  }

  /** DELETE /servers/{id}/tags/{tag} (2.26+): Nova answers 404 when the tag is not there. */
  async removeServerTag(id: string, tag: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: serverPaths.tag(id, tag) }, options);
  }

  /** PUT /servers/{id}/metadata/{key}: sets one item, keeps the others. */
  async setServerMetadataItem(id: string, key: string, value: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: serverPaths.metadataItem(id, key), body: { meta: { [key]: value } } }, options);
  }

  /** PUT /servers/{id}/tags (2.26+): replaces every tag. */
  async replaceServerTags(id: string, tags: readonly string[], options?: CallOptions): Promise<string[]> {
    const body = await this.call({ method: 'PUT', path: serverPaths.tags(id), body: { tags } }, options);
    return parseResource(serverTagsResponseSchema, body, 'compute server tags').tags;
  }

  /** POST /servers/{id}/os-volume_attachments: Nova reserves the volume in Cinder and attaches it asynchronously. */
  async attachVolume(serverId: string, volumeId: string, device: string | null, options?: CallOptions): Promise<void> {
    const volumeAttachment = { volumeId, ...(device !== null && { device }) };
    await this.call({ method: 'POST', path: serverPaths.volumeAttachments(serverId), body: { volumeAttachment } }, options);
  }

  /** GET /servers/{id}/os-volume_attachments: the volumes attached, with their devices. */
  async listVolumeAttachments(serverId: string, options?: CallOptions): Promise<VolumeAttachment[]> {
    const body = await this.call({ method: 'GET', path: serverPaths.volumeAttachments(serverId) }, options);
    return parseResource(volumeAttachmentListResponseSchema, body, 'compute volume attachments').volumeAttachments;
  }

  /** DELETE /servers/{id}/os-volume_attachments/{volumeId}: detaches asynchronously (202). */
  async detachVolume(serverId: string, volumeId: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: serverPaths.volumeAttachment(serverId, volumeId) }, options);
  }

  /** GET /flavors/detail, every page. */
  listFlavors(options?: CallOptions): Promise<Flavor[]> {
    return readAllPages(undefined, async (marker) => {
      const body = await this.call({ method: 'GET', path: flavorPaths.detail, query: { marker } }, options);
      const page = parseResource(flavorListResponseSchema, body, 'compute flavor list');
      return { items: page.flavors, nextMarker: nextMarker(page.flavors_links) };
    });
  }

  async getFlavor(id: string, options?: CallOptions): Promise<Flavor> {
    const body = await this.call({ method: 'GET', path: flavorPaths.one(id) }, options);
    return parseResource(flavorResponseSchema, body, 'compute flavor').flavor;
  }

  /** The server's instance actions, newest first. */
  async listInstanceActions(serverId: string, options?: CallOptions): Promise<InstanceAction[]> {
    const body = await this.call({ method: 'GET', path: instanceActionPaths.list(serverId) }, options);
    return parseResource(instanceActionListResponseSchema, body, 'compute instance actions').instanceActions;
  }

  /** The project's absolute limits and usage (GET /limits). */
  async getLimits(options?: CallOptions): Promise<AbsoluteLimits> {
    const body = await this.call({ method: 'GET', path: limitsPaths.all }, options);
    return parseResource(limitsResponseSchema, body, 'compute limits').limits.absolute;
  }

  /** The microversions this cloud's Nova offers, from its version document. */
  async getMicroversionRange(options?: CallOptions): Promise<MicroversionRange> {
    const body = await this.call({ method: 'GET', path: '/', rebase: computeVersionRoot }, options);
    return microversionRange(parseResource(computeVersionResponseSchema, body, 'compute version document'));
  }

  /** Throws OpenStackMicroversionError when the pinned microversion is outside the cloud's range. */
  async assertMicroversionSupported(options?: CallOptions): Promise<MicroversionRange> {
    const range = await this.getMicroversionRange(options);
    assertMicroversionInRange(this.microversion, range);
    return range;
  }
}
