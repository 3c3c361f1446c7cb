/**
 * Every failure the API can report, by machine code. The HTTP layer owns the mapping of a code to a
 * status and a title (src/http/problem-catalog.ts); everything below it only names the code.
 */
export const errorCodes = [
  'VALIDATION_ERROR',
  'NOT_FOUND',
  'VM_NOT_FOUND',
  'FLAVOR_NOT_FOUND',
  'IMAGE_NOT_FOUND',
  'TENANT_NOT_FOUND',
  'KEY_NOT_FOUND',
  'VOLUME_NOT_FOUND',
  'UNKNOWN_FLAVOR',
  'UNKNOWN_IMAGE',
  'INVALID_STATE_TRANSITION',
  'TASK_IN_PROGRESS',
  'INSUFFICIENT_CAPACITY',
  'PRECONDITION_FAILED',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_FLIGHT',
  'TENANT_NAME_TAKEN',
  'TENANT_NOT_EMPTY',
  'QUOTA_EXCEEDED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'BACKEND_UNAVAILABLE',
  'BACKEND_TIMEOUT',
  'INTERNAL_ERROR',
  'SECURITY_GROUP_NOT_FOUND',
  'RULE_NOT_FOUND',
  'UNKNOWN_SECURITY_GROUP',
  'RULE_EXISTS',
  'RESOURCE_IN_USE',
  'SECURITY_GROUP_NAME_TAKEN',
  'DEFAULT_SECURITY_GROUP',
  'ALREADY_ATTACHED',
  'NETWORK_NOT_FOUND',
  'FLOATING_IP_NOT_FOUND',
  'UNKNOWN_NETWORK',
  'NETWORK_NAME_TAKEN',
  'POOL_EXHAUSTED',
  'VM_HAS_FLOATING_IP',
  'VM_UNREACHABLE',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/**
 * Narrower cases of a code that HTTP answers with a status of their own (the catalogue in
 * src/http/problem-catalog.ts says which): a body too large (413) or not JSON (415).
 */
export const errorVariants = ['body_too_large', 'unsupported_media_type'] as const;
export type ErrorVariant = (typeof errorVariants)[number];

export interface FieldError {
  path: string;
  message: string;
}

/** Extra members of the problem body; names are the wire names. */
export interface ErrorExtras {
  errors?: FieldError[];
  /** The resource's status and the actions it allows (a VM's or a volume's words). */
  current_status?: string;
  allowed_actions?: readonly string[];
  task?: string;
  /** For BACKEND_UNAVAILABLE: the cloud could not be reached, or it answered with an error. */
  upstream?: 'unreachable' | 'error';
  /** For /readyz: each dependency and whether it answered. */
  checks?: { name: string; ok: boolean; detail?: string }[];
}

/** The one error type of the project: a machine code, a sentence for people, and extras. */
export class ApiError extends Error {
  /** Which narrower case of the code this is, if any; not part of the body. */
  readonly variant: ErrorVariant | undefined;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extras: ErrorExtras = {},
    options?: { cause?: unknown; variant?: ErrorVariant },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.variant = options?.variant;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
