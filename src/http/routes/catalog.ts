import type { VmService } from '../../service/vm-service.js';
import type { EndpointRouter } from '../endpoint.js';
import { FlavorListSchema, FlavorParams, FlavorSchema, ImageListSchema, ImageParams, ImageSchema } from '../schemas.js';

export function catalogRoutes(api: EndpointRouter, service: VmService): void {
  api.add({
    method: 'get',
    path: '/flavors',
    operationId: 'listFlavors',
    summary: 'List flavors',
    description: 'The sizes a VM can have: vCPUs, RAM and disk. With BACKEND=openstack, Nova\'s flavors (cached for `OS_CATALOG_CACHE_S`).',
    tag: 'Catalog',
    responses: { 200: { description: 'Every flavor', schema: FlavorListSchema } },
    problems: ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async (_input, _req, res) => {
      res.json({ data: await service.listFlavors() });
    },
  });
  api.add({
    method: 'get',
    path: '/flavors/{nameOrId}',
    operationId: 'getFlavor',
    summary: 'Get a flavor by name or id',
    description: 'By name (`m1.small`) or by id; a create or resize accepts either.',
    tag: 'Catalog',
    params: FlavorParams,
    responses: { 200: { description: 'The flavor', schema: FlavorSchema } },
    problems: ['FLAVOR_NOT_FOUND', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ params }, _req, res) => {
      res.json(await service.getFlavor(params.nameOrId));
    },
  });
  api.add({
    method: 'get',
    path: '/images',
    operationId: 'listImages',
    summary: 'List images',
    description: 'What a VM can be created from. With BACKEND=openstack, Glance\'s active images (cached for `OS_CATALOG_CACHE_S`).',
    tag: 'Catalog',
    responses: { 200: { description: 'Every image', schema: ImageListSchema } },
    problems: ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async (_input, _req, res) => {
      res.json({ data: await service.listImages() });
    },
  });
  api.add({
    method: 'get',
    path: '/images/{nameOrId}',
    operationId: 'getImage',
    summary: 'Get an image by name or id',
    description: 'By name (`ubuntu-22.04`) or by id; a create accepts either.',
    tag: 'Catalog',
    params: ImageParams,
    responses: { 200: { description: 'The image', schema: ImageSchema } },
    problems: ['IMAGE_NOT_FOUND', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ params }, _req, res) => {
      res.json(await service.getImage(params.nameOrId));
    },
  });
}
