import type { VmService } from '../../service/vm-service.js';
import type { EndpointRouter } from '../endpoint.js';
import { QuotasSchema } from '../tenancy-schemas.js';

export function quotaRoutes(api: EndpointRouter, service: VmService): void {
  api.add({
    method: 'get',
    path: '/quotas',
    operationId: 'getQuotas',
    summary: 'The caller\'s tenant\'s quotas: limit and use of each resource',
    description: 'Memory: the `MOCK_QUOTA_*` limits apply to each tenant. OpenStack: the configured project\'s Nova limits.',
    tag: 'Tenants and keys',
    responses: { 200: { description: 'Per resource `{limit, used}`; `-1` is unlimited', schema: QuotasSchema } },
    problems: ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ scope }, _req, res) => {
      res.json(await service.quotas(scope));
    },
  });
}
