import { OpenStackMicroversionError } from '../errors.js';
import { nextMarker } from '../paging.js';
import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from '../service.js';
import { limitsResponseSchema, type CinderLimits } from './limits.js';
import { blockStorageRoot, blockStorageVersionsSchema, negotiateMicroversion } from './versions.js';
import {
  createVolumeBody,
  listVolumesQuery,
  volumeListResponseSchema,
  volumePaths,
  volumeResponseSchema,
  type CinderVolume,
  type CreateVolumeOptions,
  type ListVolumesQuery,
  type VolumeAction,
} from './volumes.js';

/** What this API asks for: 3.42 extends attached volumes; 3.60 is what Zed-era clients speak. */
export const preferredBlockStorageMicroversion = '3.60';
export const minimumBlockStorageMicroversion = '3.42';

export interface VolumePage {
  volumes: CinderVolume[];
  nextMarker: string | undefined;
}

/**
 * Cinder v3, at a microversion negotiated with the cloud (`negotiate`), sent as
 * `OpenStack-API-Version: volume 3.x`: Cinder reads its own name there, not the catalog type
 * (`block-storage 3.x` is a 400).
 */
export class BlockStorageProxy {
  private version = minimumBlockStorageMicroversion;

  constructor(
    private readonly caller: ServiceCaller,
    private readonly preferred = preferredBlockStorageMicroversion,
  ) {}

  get microversion(): string {
    return this.version;
  }

  private async call(request: ServiceRequest, options: CallOptions | undefined): Promise<unknown> {
    const response = await this.caller.call('block-storage', { ...request, microversion: this.version, microversionName: 'volume' }, options);
    return response.body;
  }

  /** Speaks the microversion another proxy negotiated with the same cloud. */
  adopt(other: BlockStorageProxy): void {
    this.version = other.version;
  }

  /** Reads the cloud's range and settles the microversion; throws when the cloud is older than this API needs. */
  async negotiate(options?: CallOptions): Promise<string> {
    const body = await this.call({ method: 'GET', path: '/', rebase: blockStorageRoot }, options);
    const v3 = parseResource(blockStorageVersionsSchema, body, 'block-storage versions').versions.find((v) => v.id.startsWith('v3'));
    const range = { min: v3?.min_version || '3.0', max: v3?.version || '3.0' };
    const chosen = negotiateMicroversion(range, this.preferred, minimumBlockStorageMicroversion);
    if (chosen === undefined) throw new OpenStackMicroversionError(this.preferred, range.min, range.max);
    this.version = chosen;
    return chosen;
  }

  async createVolume(create: CreateVolumeOptions, options?: CallOptions): Promise<CinderVolume> {
    const body = await this.call({ method: 'POST', path: volumePaths.collection, body: createVolumeBody(create) }, options);
    return parseResource(volumeResponseSchema, body, 'block-storage created volume').volume;
  }

  async getVolume(id: string, options?: CallOptions): Promise<CinderVolume> {
    const body = await this.call({ method: 'GET', path: volumePaths.one(id) }, options);
    return parseResource(volumeResponseSchema, body, 'block-storage volume').volume;
  }

  /** One page of GET /volumes/detail. */
  async listVolumes(query: ListVolumesQuery = {}, options?: CallOptions): Promise<VolumePage> {
    const body = await this.call({ method: 'GET', path: volumePaths.detail, query: listVolumesQuery(query) }, options);
    const page = parseResource(volumeListResponseSchema, body, 'block-storage volume list');
    return { volumes: page.volumes, nextMarker: nextMarker(page.volumes_links) };
  }

  async updateVolume(id: string, changes: { name?: string; description?: string }, options?: CallOptions): Promise<CinderVolume> {
    const body = await this.call({ method: 'PUT', path: volumePaths.one(id), body: { volume: changes } }, options);
    return parseResource(volumeResponseSchema, body, 'block-storage updated volume').volume;
  }

  async deleteVolume(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: volumePaths.one(id) }, options);
  }

  /** The project's absolute limits and usage (GET /limits). */
  async getLimits(options?: CallOptions): Promise<CinderLimits> {
    const body = await this.call({ method: 'GET', path: '/limits' }, options);
    return parseResource(limitsResponseSchema, body, 'block-storage limits').limits.absolute;
  }

  /** POST /volumes/{id}/action; Cinder answers 202 with nothing to read. */
  async volumeAction(id: string, action: VolumeAction, options?: CallOptions): Promise<void> {
    await this.call({ method: 'POST', path: volumePaths.action(id), body: action }, options);
  }
}
