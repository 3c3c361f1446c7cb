import type { VmService } from '../../service/vm-service.js';
import type { VolumeService } from '../../service/volume-service.js';
import type { EndpointRouter } from '../endpoint.js';
import { QuotasSchema } from '../tenancy-schemas.js';

export function quotaRoutes(api: EndpointRouter, service: VmService, volumes: VolumeService): void {
  api.add({
    method: 'get',
    path: '/quotas',
    operationId: 'getQuotas',
    summary: 'The caller\'s tenant\'s quotas: limit and use of each resource',
    description:
      'Memory: the `MOCK_QUOTA_*` limits apply to each tenant. OpenStack: the configured project\'s Nova limits (`instances`, `vcpus`, `ram_mb`) and Cinder limits (`volumes`, `gigabytes`).',
    tag: 'Tenants and keys',
    responses: { 200: { description: 'Per resource `{limit, used}`; `-1` is unlimited', schema: QuotasSchema } },
    problems: ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ scope }, _req, res) => {
      // Nova's and Cinder's limits are two calls on OpenStack: asked at once.
      const [vms, disks] = await Promise.all([service.quotas(scope), volumes.quotas(scope)]);
      res.json({ ...vms, ...disks });
    },
  });
}
