import type { Logger } from 'pino';
import {
  OpenStackConnectionError,
  OpenStackEndpointNotFoundError,
  OpenStackError,
  OpenStackHttpError,
  OpenStackTimeoutError,
} from '../../openstack/index.js';
import { ApiError, isApiError } from '../../domain/errors.js';

/** What the failed call was about, so a 404 or a 409 can be told in the domain's words. */
export interface FailedCall {
  /** Doing what, for the log, e.g. "stop" or "create". */
  operation: string;
  vmId?: string;
}

/**
 * Turns an OpenStack client error into the API's error. The upstream text goes to the log with
 * both request ids; the client gets only our own sentence. Anything not from OpenStack is
 * rethrown as is (the HTTP layer answers it with a 500).
 */
export function toApiError(err: unknown, call: FailedCall, log: Logger): unknown {
  if (isApiError(err) || !(err instanceof OpenStackError)) return err;
  log.warn(
    {
      event: 'openstack.call_failed',
      operation: call.operation,
      vm_id: call.vmId,
      error: err.name,
      upstream_status: err instanceof OpenStackHttpError ? err.status : undefined,
      upstream_request_id: err instanceof OpenStackHttpError ? err.upstreamRequestId : undefined,
      openstack_request_id: 'requestId' in err ? err.requestId : undefined,
      upstream_message: err instanceof OpenStackHttpError ? err.upstreamMessage : err.message,
    },
    `OpenStack refused or failed ${call.operation}`,
  );
  if (err instanceof OpenStackTimeoutError) {
    return new ApiError('BACKEND_TIMEOUT', 'The cloud did not answer in time', {}, { cause: err });
  }
  if (err instanceof OpenStackConnectionError || err instanceof OpenStackEndpointNotFoundError) {
    return new ApiError('BACKEND_UNAVAILABLE', 'The cloud cannot be reached', { upstream: 'unreachable' }, { cause: err });
  }
  if (err instanceof OpenStackHttpError) return fromStatus(err, call);
  return new ApiError('BACKEND_UNAVAILABLE', 'The cloud answered in a way this API does not understand', { upstream: 'error' }, { cause: err });
}

/**
 * Nova's 400s that the client's own choice causes (a flavor too small for the image, ...), by
 * Nova's sentence: the request field to name and what to say instead. Every other 400 is a request
 * this API built wrongly, the API's fault and not the client's, and stays BACKEND_UNAVAILABLE.
 * Sentences from nova/exception.py and nova/api/openstack/compute/servers.py (Zed).
 */
const novaClientFaults: readonly { pattern: RegExp; path: string; message: (m: RegExpMatchArray) => string }[] = [
  {
    // FlavorDiskSmallerThanImage
    pattern: /Flavor's disk is too small for requested image\. Flavor disk is (\d+) bytes, image is (\d+) bytes/i,
    path: 'body.flavor',
    message: (m) => `the flavor's disk (${gib(m[1])}) is smaller than the image (${gib(m[2])}); choose a flavor with a larger disk`,
  },
  {
    // FlavorDiskSmallerThanMinDisk
    pattern: /Flavor's disk is smaller than the minimum size specified in image metadata\. Flavor disk is (\d+) bytes, minimum size is (\d+) bytes/i,
    path: 'body.flavor',
    message: (m) => `the flavor's disk (${gib(m[1])}) is smaller than the image's minimum disk (${gib(m[2])}); choose a flavor with a larger disk`,
  },
  {
    // FlavorDiskTooSmall, the parent of both above, in case the sentence changes
    pattern: /instance's disk would be too small/i,
    path: 'body.flavor',
    message: () => "the flavor's disk is too small for the image; choose a flavor with a larger disk",
  },
  {
    // FlavorMemoryTooSmall
    pattern: /Flavor's memory is too small for requested image/i,
    path: 'body.flavor',
    message: () => "the flavor's memory is less than the image's minimum RAM; choose a flavor with more memory",
  },
  {
    // CannotResizeDisk on a resize to a flavor with no root disk
    pattern: /Resize to zero disk flavor is not allowed/i,
    path: 'body.flavor',
    message: () => 'a VM cannot be resized to a flavor without a root disk',
  },
  {
    // ImageNotActive, InvalidImageRef: the image went away or is not usable since our catalog read it
    pattern: /Image \S+ is not active|Invalid image href|Image \S+ could not be found/i,
    path: 'body.image',
    message: () => 'the image cannot be used to create a VM now; see GET /api/v1/images',
  },
];

function gib(bytes: string | undefined): string {
  const value = Number(bytes) / 2 ** 30;
  return `${Number.isInteger(value) ? value : value.toFixed(2)} GiB`;
}

function clientFault(err: OpenStackHttpError): ApiError | undefined {
  if (err.service !== 'compute') return undefined;
  for (const fault of novaClientFaults) {
    const match = fault.pattern.exec(err.upstreamMessage);
    if (match) {
      const message = fault.message(match);
      return new ApiError('VALIDATION_ERROR', `The cloud refused the request: ${message}`, { errors: [{ path: fault.path, message }] }, { cause: err });
    }
  }
  return undefined;
}

function fromStatus(err: OpenStackHttpError, call: FailedCall): ApiError {
  const options = { cause: err };
  switch (err.status) {
    case 400: {
      const fault = clientFault(err);
      if (fault) return fault;
      break;
    }
    case 403:
      if (/quota exceeded/i.test(err.upstreamMessage)) {
        return new ApiError('QUOTA_EXCEEDED', "The project's quota would be exceeded; nothing was created", {}, options);
      }
      break;
    case 404:
      if (call.vmId !== undefined) return new ApiError('VM_NOT_FOUND', `No VM with id ${call.vmId}`, {}, options);
      break;
    case 409:
      // Nova names the task that holds the server ("while it is in task_state powering-off"):
      // another action got there first. Otherwise the server's state does not allow it.
      if (/task_state/i.test(err.upstreamMessage)) {
        return new ApiError('TASK_IN_PROGRESS', 'The VM is busy with another task; only delete is accepted until it settles', {}, options);
      }
      return new ApiError('INVALID_STATE_TRANSITION', `The cloud does not allow ${call.operation} in the VM's current state`, {}, options);
  }
  // 401 after a fresh token, 403 on a policy, a 400 not in novaClientFaults (a request we built):
  // the API's own setup is at fault, not the client's request; 5xx: the cloud is failing.
  return new ApiError('BACKEND_UNAVAILABLE', 'The cloud answered with an error', { upstream: 'error' }, options);
}
