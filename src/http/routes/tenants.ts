import type { ApiKey, Tenant } from '../../domain/tenancy.js';
import type { TenantService } from '../../service/tenant-service.js';
import type { EndpointRouter } from '../endpoint.js';
import {
  ApiKeyListSchema,
  ApiKeySchema,
  CreateKeyBody,
  CreateTenantBody,
  IdParams,
  KeyListQuery,
  NewApiKeySchema,
  NewTenantSchema,
  TenantListSchema,
  TenantSchema,
  WhoAmISchema,
} from '../tenancy-schemas.js';

const withSecret = (key: ApiKey, secret: string) => ({ ...key, secret });
const tenantView = (t: Tenant): Tenant => ({ id: t.id, name: t.name, description: t.description, created_at: t.created_at });

/** Tenants, API keys and who-am-I (docs/contract.md section 8). */
export function tenantRoutes(api: EndpointRouter, service: TenantService): void {
  api.add({
    method: 'post',
    path: '/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant, with a first member key',
    tag: 'Tenants and keys',
    role: 'admin',
    body: CreateTenantBody,
    bodyRequired: true,
    responses: { 201: { description: 'The tenant and its `initial_key` (the secret is shown this once)', schema: NewTenantSchema } },
    problems: ['TENANT_NAME_TAKEN'],
    handler: async ({ body }, req, res) => {
      const { tenant, initialKey, secret } = await service.createTenant(body);
      res.location(`${req.path.replace(/\/$/, '')}/${tenant.id}`);
      res.status(201).json({ ...tenantView(tenant), initial_key: withSecret(initialKey, secret) });
    },
  });

  api.add({
    method: 'get',
    path: '/tenants',
    operationId: 'listTenants',
    summary: 'List tenants (a member sees its own)',
    tag: 'Tenants and keys',
    role: 'member',
    responses: { 200: { description: 'The tenants the key may see', schema: TenantListSchema } },
    problems: [],
    handler: async ({ scope }, _req, res) => {
      res.json({ data: (await service.listTenants(scope)).map(tenantView) });
    },
  });

  api.add({
    method: 'get',
    path: '/tenants/{id}',
    operationId: 'getTenant',
    summary: 'Get a tenant',
    tag: 'Tenants and keys',
    role: 'member',
    params: IdParams,
    responses: { 200: { description: 'The tenant', schema: TenantSchema } },
    problems: ['TENANT_NOT_FOUND'],
    handler: async ({ params, scope }, _req, res) => {
      res.json(tenantView(await service.getTenant(scope, params.id)));
    },
  });

  api.add({
    method: 'delete',
    path: '/tenants/{id}',
    operationId: 'deleteTenant',
    summary: 'Delete a tenant that owns no resource (its keys are revoked)',
    tag: 'Tenants and keys',
    role: 'admin',
    params: IdParams,
    responses: { 200: { description: 'The tenant, deleted', schema: TenantSchema } },
    problems: ['TENANT_NOT_FOUND', 'TENANT_NOT_EMPTY'],
    handler: async ({ params, scope }, _req, res) => {
      res.json(tenantView(await service.deleteTenant(scope, params.id)));
    },
  });

  api.add({
    method: 'post',
    path: '/keys',
    operationId: 'createKey',
    summary: 'Create an API key (role up to the caller\'s own)',
    tag: 'Tenants and keys',
    body: CreateKeyBody,
    bodyRequired: true,
    responses: { 201: { description: 'The key with its `secret`, shown this once', schema: NewApiKeySchema } },
    problems: ['TENANT_NOT_FOUND'],
    handler: async ({ body, scope }, req, res) => {
      const { key, secret } = await service.createKey(scope, {
        name: body.name,
        role: body.role,
        ...(body.expires_at !== undefined && { expiresAt: body.expires_at }),
        ...(body.tenant !== undefined && { tenant: body.tenant }),
      });
      res.location(`${req.path.replace(/\/$/, '')}/${key.id}`);
      res.status(201).json(withSecret(key, secret));
    },
  });

  api.add({
    method: 'get',
    path: '/keys',
    operationId: 'listKeys',
    summary: 'List API keys (a member: its tenant\'s)',
    tag: 'Tenants and keys',
    role: 'member',
    query: KeyListQuery,
    responses: { 200: { description: 'The keys, never a secret', schema: ApiKeyListSchema } },
    problems: [],
    handler: async ({ query, scope }, _req, res) => {
      res.json({ data: await service.listKeys(scope, query.tenant) });
    },
  });

  api.add({
    method: 'get',
    path: '/keys/{id}',
    operationId: 'getKey',
    summary: 'Get an API key',
    tag: 'Tenants and keys',
    role: 'member',
    params: IdParams,
    responses: { 200: { description: 'The key, never its secret', schema: ApiKeySchema } },
    problems: ['KEY_NOT_FOUND'],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.getKey(scope, params.id));
    },
  });

  api.add({
    method: 'delete',
    path: '/keys/{id}',
    operationId: 'revokeKey',
    summary: 'Revoke an API key (at once in this process)',
    tag: 'Tenants and keys',
    params: IdParams,
    responses: { 200: { description: 'The key, revoked', schema: ApiKeySchema } },
    problems: ['KEY_NOT_FOUND'],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.revokeKey(scope, params.id));
    },
  });

  api.add({
    method: 'get',
    path: '/whoami',
    operationId: 'whoAmI',
    summary: 'The caller\'s tenant, key id and role',
    tag: 'Tenants and keys',
    responses: { 200: { description: 'Who the key is', schema: WhoAmISchema } },
    problems: [],
    handler: async ({ scope }, _req, res) => {
      res.json({ tenant: scope.tenant, key_id: scope.keyId, role: scope.role });
    },
  });
}
