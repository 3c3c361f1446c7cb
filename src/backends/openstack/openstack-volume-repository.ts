import { ApiError } from '../../domain/errors.js';
import type { VolumeRepository } from '../../repository/volume-repository.js';

const notYet = async (): Promise<never> => {
  throw new ApiError('BACKEND_UNAVAILABLE', 'Volumes are not served by the OpenStack backend yet', { upstream: 'error' });
};

/** Interim: Cinder volumes are being built (BACKLOG.md, issue 10); every call answers 502 until then. */
export const unbuiltVolumes: VolumeRepository = {
  pollIntervalMs: 1000,
  create: notYet,
  get: notYet,
  list: notYet,
  update: notYet,
  apply: notYet,
  findByIdempotencyKey: notYet,
  quotaUsage: notYet,
  tenantOwnsVolumes: async () => false,
  onSettled: () => undefined,
};
