import type { ErrorCode } from '../domain/errors.js';

export interface ProblemType {
  status: number;
  title: string;
  /** Says when the problem happens; served at /errors/{slug} and in the OpenAPI document. */
  description: string;
}

/**
 * Every problem the API answers with (CONTRACT section 4): the one place that maps a code to an
 * HTTP status. The `type` URI of a problem is /errors/<slug>, where the API serves this entry.
 */
export const problemCatalog: Record<ErrorCode, ProblemType> = {
  VALIDATION_ERROR: { status: 400, title: 'Validation error', description: 'The body, query or path failed validation; `errors` lists each field and why. Also malformed JSON (400), a body over 16 KiB (413) and a body that is not application/json (415).' },
  NOT_FOUND: { status: 404, title: 'Not found', description: 'No such route. The API lives under /api/v1; see /docs.' },
  VM_NOT_FOUND: { status: 404, title: 'VM not found', description: 'No VM with this id (a deleted VM is forgotten after its retention).' },
  FLAVOR_NOT_FOUND: { status: 404, title: 'Flavor not found', description: 'No flavor with this name or id.' },
  IMAGE_NOT_FOUND: { status: 404, title: 'Image not found', description: 'No image with this name or id.' },
  UNKNOWN_FLAVOR: { status: 400, title: 'Unknown flavor', description: 'The flavor named in the body is not in the catalog (GET /api/v1/flavors).' },
  UNKNOWN_IMAGE: { status: 400, title: 'Unknown image', description: 'The image named in the body is not in the catalog (GET /api/v1/images).' },
  INVALID_STATE_TRANSITION: { status: 409, title: 'Invalid state transition', description: 'The action is not allowed from the VM\'s current status; `allowed_actions` lists what is.' },
  TASK_IN_PROGRESS: { status: 409, title: 'Task in progress', description: 'The VM is busy with another task; only delete is accepted until it settles.' },
  INSUFFICIENT_CAPACITY: { status: 409, title: 'Insufficient capacity', description: 'No host has room for the resize; the VM is left as it was.' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed', description: 'The VM has changed since the ETag given in If-Match; GET it again.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused', description: 'The Idempotency-Key was used before with a different request body.' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { status: 409, title: 'Idempotency key in flight', description: 'The first request with this Idempotency-Key is still being processed; retry later.' },
  QUOTA_EXCEEDED: { status: 403, title: 'Quota exceeded', description: 'The project\'s quota (instances, vCPUs or RAM) would be exceeded; nothing was created or changed.' },
  UNAUTHENTICATED: { status: 401, title: 'Unauthenticated', description: 'Missing or unknown API key (Authorization: Bearer <key> or X-API-Key).' },
  FORBIDDEN: { status: 403, title: 'Forbidden', description: 'The API key is read-only and the request would change something.' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', description: 'Over the per-client request rate; retry after the seconds in Retry-After.' },
  BACKEND_UNAVAILABLE: { status: 503, title: 'Backend unavailable', description: 'The cloud behind the API is unreachable or answered with an error; retry later.' },
  BACKEND_TIMEOUT: { status: 504, title: 'Backend timeout', description: 'The cloud behind the API did not answer in time; retry later.' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error', description: 'An unexpected error; the request id in the body finds it in the logs.' },
};

export function slugOf(code: ErrorCode): string {
  return code.toLowerCase().replaceAll('_', '-');
}

export const codeBySlug: ReadonlyMap<string, ErrorCode> = new Map(
  (Object.keys(problemCatalog) as ErrorCode[]).map((code) => [slugOf(code), code]),
);
