import { describeVolumeContract } from '../contract/volume-contract.js';
import { startApp } from '../support/memory-app.js';
import { catalogNames, demoEnv } from './mini-openstack.js';

/**
 * docs/contract.md section 10 against the local cloud: Cinder's fake volume driver behind Nova's
 * fake virt driver. Cinder's default quotas (10 volumes, 1000 GB) apply to the demo project; the
 * fake driver extends attached volumes (test/openstack/cinder.test.ts). Other helpers of the shared
 * cloud may hold volumes of the same project: GET /quotas's use is checked as a lower bound.
 */
describeVolumeContract(
  'OpenStack backend',
  async () => {
    const app = await startApp(demoEnv());
    return {
      baseUrl: app.baseUrl,
      close: () => app.close(),
      image: catalogNames.image,
      flavor: catalogNames.flavors.small,
      unplaceableFlavor: catalogNames.unplaceableFlavor,
      quotaGigabytes: 1000,
    };
  },
  { extendsInUse: true, sharedQuota: true },
);
