import { OpenStackShapeError } from '../errors.js';
import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller } from '../service.js';
import type { QueryValue } from '../transport.js';
import { imageListResponseSchema, imagePaths, imageRoot, imageSchema, type Image, type ListImagesQuery } from './images.js';

/** Glance v2. */
export class ImageProxy {
  private readonly caller: ServiceCaller;

  constructor(caller: ServiceCaller) {
    this.caller = caller;
  }

  /** GET /v2/images, following `next` links to the last page. */
  async listImages(query: ListImagesQuery = {}, options?: CallOptions): Promise<Image[]> {
    const images: Image[] = [];
    const seen = new Set<string>();
    let path = imagePaths.collection;
    let params: Record<string, QueryValue> | undefined = { ...query };
    for (;;) {
      const response = await this.caller.call('image', { method: 'GET', path, query: params, rebase: imageRoot }, options);
      const page = parseResource(imageListResponseSchema, response.body, 'image list');
      images.push(...page.images);
      if (page.next === undefined || seen.has(page.next)) return images;
      if (!page.next.startsWith('/')) {
        throw new OpenStackShapeError('image list', [{ path: 'next', message: `not a path: "${page.next}"` }]);
      }
      seen.add(page.next);
      // `next` already carries the filters and the marker.
      path = page.next;
      params = undefined;
    }
  }

  async getImage(id: string, options?: CallOptions): Promise<Image> {
    const response = await this.caller.call('image', { method: 'GET', path: imagePaths.one(id), rebase: imageRoot }, options);
    return parseResource(imageSchema, response.body, 'image');
  }
}
