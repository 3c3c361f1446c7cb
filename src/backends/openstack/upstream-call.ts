import type { Logger } from 'pino';
import { toApiError, type FailedCall } from './upstream-errors.js';

/** Runs calls to OpenStack, turning their errors into the API's (upstream-errors.ts). */
export async function upstream<T>(log: Logger, call: FailedCall, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toApiError(err, call, log);
  }
}
