import { describeContract } from '../contract/vm-contract.js';
import { startApp } from '../support/memory-app.js';
import { catalogNames, demoEnv } from './mini-openstack.js';

describeContract('OpenStack backend', async () => {
  const app = await startApp(demoEnv());
  return { baseUrl: app.baseUrl, close: () => app.close(), ...catalogNames };
});
