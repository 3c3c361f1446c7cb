import type { ApiError, ErrorCode, ErrorExtras, ErrorVariant } from '../domain/errors.js';

/** A narrower case of a code that is answered with a status of its own. */
export interface ProblemVariant {
  status: number;
  /** The errors it covers: those made with this `variant`, or those whose `upstream` member is this. */
  when: { variant: ErrorVariant } | { upstream: NonNullable<ErrorExtras['upstream']> };
  /** Only a request that carries a body can meet it (so the document lists it only there). */
  bodyOnly?: true;
  description: string;
}

export interface ProblemType {
  status: number;
  title: string;
  /** Says when the problem happens; served at /errors/{slug} and in the OpenAPI document. */
  description: string;
  variants?: readonly ProblemVariant[];
}

/**
 * Every problem the API answers with (docs/contract.md section 4): the one place that maps a code,
 * and each narrower case of it, to an HTTP status. The `type` URI of a problem is /errors/<slug>,
 * where the API serves this entry; docs/errors.md is this table in prose, kept equal by a test.
 */
export const problemCatalog: Record<ErrorCode, ProblemType> = {
  VALIDATION_ERROR: {
    status: 400,
    title: 'Validation error',
    description: 'The body, query or path failed validation, or the body is not well-formed JSON; `errors` lists each field and why.',
    variants: [
      { status: 413, when: { variant: 'body_too_large' }, bodyOnly: true, description: 'The body is larger than 16 KiB.' },
      { status: 415, when: { variant: 'unsupported_media_type' }, bodyOnly: true, description: 'The body is not UTF-8 application/json.' },
    ],
  },
  NOT_FOUND: { status: 404, title: 'Not found', description: 'No such route. The API lives under /api/v1; see /docs.' },
  VM_NOT_FOUND: { status: 404, title: 'VM not found', description: 'No VM with this id (a deleted VM is forgotten after its retention).' },
  FLAVOR_NOT_FOUND: { status: 404, title: 'Flavor not found', description: 'No flavor with this name or id.' },
  IMAGE_NOT_FOUND: { status: 404, title: 'Image not found', description: 'No image with this name or id.' },
  TENANT_NOT_FOUND: { status: 404, title: 'Tenant not found', description: 'No tenant with this id that the key may see (another tenant\'s answers the same).' },
  KEY_NOT_FOUND: { status: 404, title: 'API key not found', description: 'No API key with this id that the key may see (another tenant\'s answers the same).' },
  VOLUME_NOT_FOUND: { status: 404, title: 'Volume not found', description: 'No volume with this id (a deleted volume is forgotten after its retention), or none attached to this VM.' },
  UNKNOWN_FLAVOR: { status: 400, title: 'Unknown flavor', description: 'The flavor named in the body is not in the catalog (GET /api/v1/flavors).' },
  UNKNOWN_IMAGE: { status: 400, title: 'Unknown image', description: 'The image named in the body is not in the catalog (GET /api/v1/images).' },
  INVALID_STATE_TRANSITION: { status: 409, title: 'Invalid state transition', description: 'The action is not allowed from the VM\'s current status; `allowed_actions` lists what is.' },
  TASK_IN_PROGRESS: { status: 409, title: 'Task in progress', description: 'The VM is busy with another task; only delete is accepted until it settles.' },
  INSUFFICIENT_CAPACITY: { status: 409, title: 'Insufficient capacity', description: 'No host has room for the resize; the VM is left as it was.' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed', description: 'The VM has changed since the ETag given in If-Match; GET it again.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused', description: 'The Idempotency-Key was used before with a different request body.' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { status: 409, title: 'Idempotency key in flight', description: 'The first request with this Idempotency-Key is still being processed; retry later.' },
  TENANT_NAME_TAKEN: { status: 409, title: 'Tenant name taken', description: 'Another tenant has this name already; names are unique.' },
  TENANT_NOT_EMPTY: { status: 409, title: 'Tenant not empty', description: 'The tenant still holds resources (VMs, deleted ones included until forgotten; volumes, networks, floating IPs, security groups other than its default); delete them first.' },
  QUOTA_EXCEEDED: { status: 403, title: 'Quota exceeded', description: 'The project\'s quota (instances, vCPUs or RAM; networks or floating IPs; volumes or gigabytes) would be exceeded; nothing was created or changed.' },
  UNAUTHENTICATED: { status: 401, title: 'Unauthenticated', description: 'Missing, unknown, expired or revoked API key (Authorization: Bearer <key> or X-API-Key); the answer carries WWW-Authenticate.' },
  FORBIDDEN: { status: 403, title: 'Forbidden', description: 'The key\'s role may not do this: a reader only reads, a member works in its own tenant and gives keys up to its own role, an admin manages tenants.' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', description: 'Over the per-client request rate; retry after the seconds in Retry-After.' },
  BACKEND_UNAVAILABLE: {
    status: 503,
    title: 'Backend unavailable',
    description: 'The cloud behind the API cannot be reached (`upstream: "unreachable"`); retry later.',
    variants: [
      { status: 502, when: { upstream: 'error' }, description: 'The cloud answered with an error, or with a reply this API does not understand (`upstream: "error"`); retry later.' },
    ],
  },
  BACKEND_TIMEOUT: { status: 504, title: 'Backend timeout', description: 'The cloud behind the API did not answer in time; retry later.' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error', description: 'An unexpected error; the request id in the body finds it in the logs.' },
  SECURITY_GROUP_NOT_FOUND: { status: 404, title: 'Security group not found', description: 'No security group with this id or name in the tenant, or none attached to the VM under it.' },
  RULE_NOT_FOUND: { status: 404, title: 'Rule not found', description: 'The security group has no rule with this id.' },
  UNKNOWN_SECURITY_GROUP: { status: 400, title: 'Unknown security group', description: 'A security group named in the body is not one of the tenant\'s (GET /api/v1/security-groups).' },
  RULE_EXISTS: { status: 409, title: 'Rule exists', description: 'The security group already has a rule allowing the same traffic.' },
  RESOURCE_IN_USE: { status: 409, title: 'Resource in use', description: 'Something still uses the resource (the detail names it: a VM on the network, a VM with the security group); remove or detach that first.' },
  SECURITY_GROUP_NAME_TAKEN: { status: 409, title: 'Security group name taken', description: 'The tenant has a security group with this name already (`default` always exists); names are unique in a tenant.' },
  DEFAULT_SECURITY_GROUP: { status: 409, title: 'Default security group', description: 'The tenant\'s `default` security group cannot be deleted or renamed.' },
  ALREADY_ATTACHED: { status: 409, title: 'Already attached', description: 'The security group is attached to the VM already.' },
  NETWORK_NOT_FOUND: { status: 404, title: 'Network not found', description: 'No network with this id or name that the key may see (another tenant\'s answers the same).' },
  FLOATING_IP_NOT_FOUND: { status: 404, title: 'Floating IP not found', description: 'No floating IP with this id that the key may see (another tenant\'s answers the same).' },
  UNKNOWN_NETWORK: { status: 400, title: 'Unknown network', description: 'A network named in the body is not one the tenant may use (GET /api/v1/networks); VMs cannot be plugged into an external network, and floating IPs come only from one.' },
  NETWORK_NAME_TAKEN: { status: 409, title: 'Network name taken', description: 'The tenant already sees a network with this name (its own or a shared one); names find networks, so they are unique.' },
  POOL_EXHAUSTED: { status: 409, title: 'Pool exhausted', description: 'The external network has no floating address left; release one first.' },
  VM_HAS_FLOATING_IP: { status: 409, title: 'VM has a floating IP', description: 'The VM already has a floating IP; a VM has at most one. Disassociate it first.' },
  VM_UNREACHABLE: { status: 409, title: 'VM unreachable', description: 'The VM has no fixed address on a network routed to the external one (e.g. it never got a host), so no floating IP can point at it.' },
};

export function slugOf(code: ErrorCode): string {
  return code.toLowerCase().replaceAll('_', '-');
}

export const codeBySlug: ReadonlyMap<string, ErrorCode> = new Map(
  (Object.keys(problemCatalog) as ErrorCode[]).map((code) => [slugOf(code), code]),
);

function covers(variant: ProblemVariant, error: ApiError): boolean {
  const { when } = variant;
  return 'variant' in when ? error.variant === when.variant : error.extras.upstream === when.upstream;
}

/** The HTTP status of `error`: its narrower case's, if the catalogue has one for it, else its code's. */
export function statusOf(error: ApiError): number {
  const entry = problemCatalog[error.code];
  return entry.variants?.find((v) => covers(v, error))?.status ?? entry.status;
}

/** Every status `code` can be answered with; without `withBody`, leaving out the cases only a body can meet. */
export function statusesOf(code: ErrorCode, withBody = true): number[] {
  const entry = problemCatalog[code];
  const variants = (entry.variants ?? []).filter((v) => withBody || !v.bodyOnly);
  return [entry.status, ...variants.map((v) => v.status)];
}

/** What a `status` answer of `code` means: its narrower case's description, or the code's. */
export function descriptionOf(code: ErrorCode, status: number): string {
  const entry = problemCatalog[code];
  return entry.variants?.find((v) => v.status === status)?.description ?? entry.description;
}
