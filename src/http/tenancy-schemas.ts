import { roles } from '../domain/tenancy.js';
import { z } from './openapi/zod.js';
import { resourceName } from './schemas.js';

/** The wire schemas of tenants, keys and who-am-I (docs/contract.md section 8). */

const exampleTime = '2026-02-25T10:30:00.000Z';
const tenantId = z.string().min(1).max(64).openapi({ example: '5b0e6c1a-33f4-4d7e-9b1c-2f8a7e6d4c10' });

export const RoleSchema = z.enum(roles).openapi('Role', {
  description: '`reader` reads; `member` does everything in its own tenant and makes keys up to its own role; `admin` manages tenants and sees every tenant.',
});

export const TenantSchema = z
  .object({
    id: tenantId,
    name: resourceName,
    description: z.string(),
    created_at: z.string().openapi({ example: exampleTime }),
  })
  .openapi('Tenant');

export const TenantListSchema = z.object({ data: z.array(TenantSchema) }).openapi('TenantList');

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: '0f9d3c2b-1a4e-4b5c-8d7e-6f5a4b3c2d1e' }),
    name: z.string().openapi({ example: 'ci' }),
    role: RoleSchema,
    tenant: tenantId,
    created_at: z.string().openapi({ example: exampleTime }),
    expires_at: z.string().nullable().openapi({ example: null }),
  })
  .openapi('ApiKey', { description: 'An API key; its secret is never shown again after it was made.' });

export const ApiKeyListSchema = z.object({ data: z.array(ApiKeySchema) }).openapi('ApiKeyList');

const secret = z.string().openapi({ description: 'The key itself, shown this once; send it as `Authorization: Bearer <secret>`.', example: 'vmk_2mS0…' });

export const NewApiKeySchema = ApiKeySchema.extend({ secret }).openapi('NewApiKey');

export const NewTenantSchema = TenantSchema.extend({ initial_key: NewApiKeySchema }).openapi('NewTenant', {
  description: 'The tenant and a first member key for it, whose secret is shown this once.',
});

export const CreateTenantBody = z
  .strictObject({ name: resourceName, description: z.string().max(255).default('') })
  .openapi({ example: { name: 'team-a', description: 'Team A' } }); // inline, as input: see CreateVmBody

export const CreateKeyBody = z
  .strictObject({
    name: z.string().min(1).max(255),
    role: RoleSchema,
    expires_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2027-01-01T00:00:00Z' }).optional(),
    tenant: tenantId.optional().openapi({ description: 'Admin only: the tenant the key is for (default: the caller\'s).' }),
  })
  .openapi({ example: { name: 'ci', role: 'member' } });

export const IdParams = z.strictObject({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: '5b0e6c1a-33f4-4d7e-9b1c-2f8a7e6d4c10' }),
});

export const KeyListQuery = z.strictObject({
  tenant: tenantId.optional().openapi({ description: 'Admin: only this tenant\'s keys.' }),
});

export const WhoAmISchema = z
  .object({ tenant: tenantId, key_id: z.string().nullable(), role: RoleSchema })
  .openapi('WhoAmI', { description: '`key_id` is null for an anonymous caller (AUTH_MODE=none, no key sent).' });

const quota = z.object({ limit: z.number().int().openapi({ description: '-1 is unlimited', example: 100 }), used: z.number().int().openapi({ example: 3 }) });

export const QuotasSchema = z
  .object({ instances: quota, vcpus: quota, ram_mb: quota, volumes: quota, gigabytes: quota })
  .openapi('Quotas', { description: 'The caller\'s tenant: per resource, its limit and what it uses now.' });
