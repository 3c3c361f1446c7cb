import { describe, expect, it } from 'vitest';
import * as openstack from '../../../src/openstack/index.js';

describe('openstack client: public surface', () => {
  it('exports the connection, the proxies, the loaders and every error class', () => {
    for (const name of [
      'Connection',
      'ComputeProxy',
      'ImageProxy',
      'NetworkProxy',
      'Transport',
      'connectionFromCloudsYaml',
      'loadCloudConfig',
      'cloudsYamlSearchPaths',
      'OpenStackError',
      'OpenStackHttpError',
      'OpenStackTimeoutError',
      'OpenStackConnectionError',
      'OpenStackShapeError',
      'OpenStackEndpointNotFoundError',
      'OpenStackMicroversionError',
      'OpenStackConfigError',
    ]) {
      expect(openstack, name).toHaveProperty(name);
    }
    expect(openstack.defaultComputeMicroversion).toBe('2.93');
  });

  it('roots every error in OpenStackError, so one instanceof catches them all', () => {
    const site = { service: 'compute', method: 'GET', path: '/servers', requestId: 'req-x' };
    const errors = [
      new openstack.OpenStackHttpError(site, 500, { kind: undefined, message: 'm' }, undefined),
      new openstack.OpenStackTimeoutError(site, 10),
      new openstack.OpenStackConnectionError(site, 'ECONNRESET', new Error('reset')),
      new openstack.OpenStackShapeError('r', []),
      new openstack.OpenStackEndpointNotFoundError('compute', 'public', undefined, []),
      new openstack.OpenStackMicroversionError('2.93', '2.1', '2.60'),
      new openstack.OpenStackConfigError('c'),
    ];
    for (const error of errors) expect(error).toBeInstanceOf(openstack.OpenStackError);
    expect(new Set(errors.map((e) => e.name)).size).toBe(errors.length);
  });
});
