import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/** A security requirement as OpenAPI writes it: scheme name -> scopes (none for API keys). */
export type SecurityRequirement = Record<string, string[]>;

/**
 * How the API authenticates, for the OpenAPI document: the two ways middleware/authenticate.ts reads
 * a key. The schemes are declared whether or not keys are required, so that a client generated from
 * any deployment knows how to send one (and Swagger UI shows Authorize); what changes is whether
 * the /api/v1 operations *require* one: with AUTH_MODE=none and no API_KEYS, `{}` (anonymous) is
 * listed first, and an unknown key sent anyway is ignored. Each operation's description names the
 * weakest role that may call it.
 */
export const securitySchemes = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key as `Authorization: Bearer <key>`: a key from POST /api/v1/keys or /tenants (role reader, member or admin, of one tenant), `ADMIN_API_KEY` (admin), or one of `API_KEYS` (member) / `API_READONLY_KEYS` (reader) of the tenant `default`.',
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
export function apiSecurity(registry: OpenAPIRegistry, keysRequired: boolean): SecurityRequirement[] {
  for (const [name, scheme] of Object.entries(securitySchemes)) registry.registerComponent('securitySchemes', name, scheme);
  return keysRequired ? anyKey : [{}, ...anyKey];
}
