import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Backend } from '../repository/backend.js';
import { DAY_MS, createMemoryBackend } from './memory/memory-backend.js';
import { createOpenStackBackend } from './openstack/openstack-backend.js';

/** The one place that reads BACKEND and builds the matching adapter. */
export async function createBackend(config: Config, logger: Logger): Promise<Backend> {
  switch (config.BACKEND) {
    case 'memory':
      return createMemoryBackend({
        actionDelayMs: config.MOCK_ACTION_DELAY_MS,
        capacityVcpus: config.MOCK_CAPACITY_VCPUS,
        capacityRamMb: config.MOCK_CAPACITY_RAM_MB,
        quotaInstances: config.MOCK_QUOTA_INSTANCES,
        quotaVcpus: config.MOCK_QUOTA_VCPUS,
        quotaRamMb: config.MOCK_QUOTA_RAM_MB,
        ipCidr: config.MOCK_IP_CIDR,
        deletedRetentionMs: config.MOCK_DELETED_RETENTION_S * 1000,
        maxTombstones: config.MOCK_MAX_TOMBSTONES,
        idempotencyTtlMs: DAY_MS,
        maxIdempotencyKeys: config.MOCK_MAX_IDEMPOTENCY_KEYS,
        floatingCidr: config.MOCK_FLOATING_CIDR,
        storageGb: config.MOCK_STORAGE_GB,
        quotaVolumes: config.MOCK_QUOTA_VOLUMES,
        quotaGigabytes: config.MOCK_QUOTA_GIGABYTES,
      }, { extraFlavors: config.MOCK_EXTRA_FLAVORS });
    case 'openstack':
      return createOpenStackBackend(config, logger);
  }
}
