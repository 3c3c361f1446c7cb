import { describeNetworkContract } from '../contract/network-contract.js';
import { startApp } from '../support/memory-app.js';
import { catalogNames, demoEnv } from './mini-openstack.js';

/**
 * docs/contract.md section 9 against the local cloud. Nova learns of a floating IP only when it
 * refreshes a server's network cache (Neutron's notify_nova_on_port_* is off there), so a VM's
 * `floating_ip` is not checked at once; GET /floating-ips is what says.
 */
describeNetworkContract('OpenStack backend', async () => {
  const app = await startApp(demoEnv());
  return {
    baseUrl: app.baseUrl,
    close: () => app.close(),
    image: catalogNames.image,
    flavor: catalogNames.flavors.small,
    defaultNetwork: 'private',
    externalNetwork: 'public',
    vmShowsFloatingIpAtOnce: false,
    defaultNetworkRouted: false,
  };
});
