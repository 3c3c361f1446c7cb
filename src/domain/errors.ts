import type { VmAction, VmStatus } from './vm.js';

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
  'UNKNOWN_FLAVOR',
  'UNKNOWN_IMAGE',
  'INVALID_STATE_TRANSITION',
  'TASK_IN_PROGRESS',
  'INSUFFICIENT_CAPACITY',
  'PRECONDITION_FAILED',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_FLIGHT',
  'QUOTA_EXCEEDED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'BACKEND_UNAVAILABLE',
  'BACKEND_TIMEOUT',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface FieldError {
  path: string;
  message: string;
}

/** Extra members of the problem body; names are the wire names. */
export interface ErrorExtras {
  errors?: FieldError[];
  current_status?: VmStatus;
  allowed_actions?: VmAction[];
  task?: string;
  /** For BACKEND_UNAVAILABLE: the cloud could not be reached, or it answered with an error. */
  upstream?: 'unreachable' | 'error';
  /** For /readyz: each dependency and whether it answered. */
  checks?: { name: string; ok: boolean; detail?: string }[];
}

/** The one error type of the project: a machine code, a sentence for people, and extras. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extras: ErrorExtras = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'ApiError';
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
