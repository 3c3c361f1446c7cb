import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/** A security requirement as OpenAPI writes it: scheme name -> scopes (none for API keys). */
export type SecurityRequirement = Record<string, string[]>;

/**
 * How the API authenticates, for the OpenAPI document: the two ways middleware/api-keys.ts reads a
 * key. The schemes are declared whether or not keys are configured, so that a client generated from
 * any deployment knows how to send one (and Swagger UI shows Authorize); what changes is whether
 * the /api/v1 operations *require* one: without keys, `{}` (anonymous) is listed first, and a key
 * sent anyway is ignored.
 */
export const securitySchemes = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key as `Authorization: Bearer <key>`. Keys in `API_READONLY_KEYS` may only GET.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'The same API key in the `X-API-Key` header.',
  },
} as const;

/** Either scheme will do: OpenAPI reads a list of requirements as alternatives. */
const anyKey: SecurityRequirement[] = Object.keys(securitySchemes).map((name) => ({ [name]: [] }));

/** Operations outside /api/v1 (probes, metrics, the document, error pages) never need a key. */
export const openAccess: SecurityRequirement[] = [];

/** Registers the schemes and returns the requirement of every /api/v1 operation. */
export function apiSecurity(registry: OpenAPIRegistry, keysConfigured: boolean): SecurityRequirement[] {
  for (const [name, scheme] of Object.entries(securitySchemes)) registry.registerComponent('securitySchemes', name, scheme);
  return keysConfigured ? anyKey : [{}, ...anyKey];
}
