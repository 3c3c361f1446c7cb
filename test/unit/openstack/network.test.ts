import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Connection } from '../../../src/openstack/connection.js';
import { OpenStackHttpError, OpenStackShapeError } from '../../../src/openstack/errors.js';
import { FakeOpenStack, fixture } from './fake-openstack.js';

let fake: FakeOpenStack;
let connection: Connection;

beforeEach(async () => {
  fake = await FakeOpenStack.start();
  connection = new Connection({
    auth: { type: 'password', authUrl: fake.authUrl, username: 'demo', password: 'secret', projectName: 'demo' },
    timeoutMs: 2_000,
    backoffBaseMs: 5,
  });
});

afterEach(async () => {
  await fake.close();
});

type NetworkList = { networks: Record<string, unknown>[] };

describe('network: Neutron v2.0 networks', () => {
  it('lists networks by name at the catalog endpoint, with no microversion header', async () => {
    fake.route('GET', '/network/v2.0/networks', { status: 200, body: fixture('network-networks.json') });
    const networks = await connection.network.listNetworks({ name: 'private' });
    expect(networks).toHaveLength(1);
    expect(networks[0]).toMatchObject({ id: '194c1421-e3d5-4e38-a239-2a76272164bf', name: 'private', status: 'ACTIVE', shared: false });
    // Fields the schema does not name pass through for later resources.
    expect(networks[0]?.['mtu']).toBe(1450);
    const [request] = fake.requests('GET', '/network/v2.0/networks');
    expect(request?.url).toBe('/network/v2.0/networks?name=private');
    expect(request?.headers['x-auth-token']).toBe('token-1');
    expect(request?.headers['openstack-api-version']).toBeUndefined();
  });

  it('sends boolean filters as Neutron reads them and follows next links to the last page', async () => {
    const [net] = fixture<NetworkList>('network-networks.json').networks;
    fake.route('GET', '/network/v2.0/networks', (req) => {
      if (req.query.get('marker') === null) {
        return {
          status: 200,
          body: { networks: [{ ...net, id: 'a' }], networks_links: [{ rel: 'next', href: `${fake.url}/network/v2.0/networks?limit=1&shared=true&marker=a` }] },
        };
      }
      return { status: 200, body: { networks: [{ ...net, id: 'b' }], networks_links: [{ rel: 'previous', href: 'x' }] } };
    });
    const networks = await connection.network.listNetworks({ shared: true, limit: 1 });
    expect(networks.map((n) => n.id)).toEqual(['a', 'b']);
    expect(fake.requests('GET', '/network/v2.0/networks').map((r) => r.url)).toEqual([
      '/network/v2.0/networks?shared=true&limit=1',
      '/network/v2.0/networks?shared=true&limit=1&marker=a',
    ]);
  });

  it("lists one project's security groups by name (an admin's filter)", async () => {
    fake.route('GET', '/network/v2.0/security-groups', { status: 200, body: { security_groups: [] } });
    expect(await connection.network.listSecurityGroups({ projectId: 'p-1', name: 'default' })).toEqual([]);
    const [request] = fake.requests('GET', '/network/v2.0/security-groups');
    expect(request?.url).toBe('/network/v2.0/security-groups?name=default&project_id=p-1');
  });

  it('stops when a next link comes back', async () => {
    const [net] = fixture<NetworkList>('network-networks.json').networks;
    fake.route('GET', '/network/v2.0/networks', { status: 200, body: { networks: [net], networks_links: [{ rel: 'next', href: '/v2.0/networks?marker=x' }] } });
    expect(await connection.network.listNetworks()).toHaveLength(2);
  });

  it('gets one network from its wrapper object', async () => {
    const [net] = fixture<NetworkList>('network-networks.json').networks;
    fake.route('GET', '/network/v2.0/networks/194c1421-e3d5-4e38-a239-2a76272164bf', { status: 200, body: { network: net } });
    await expect(connection.network.getNetwork('194c1421-e3d5-4e38-a239-2a76272164bf')).resolves.toMatchObject({ name: 'private' });
  });

  it('turns a network without a name into a shape error naming the field', async () => {
    fake.route('GET', '/network/v2.0/networks', { status: 200, body: { networks: [{ id: 'x' }] } });
    const error = await connection.network.listNetworks().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackShapeError);
    expect(error).toMatchObject({ resource: 'network list', path: 'networks.0.name' });
  });

  it("reads Neutron's error body", async () => {
    fake.route('GET', '/network/v2.0/networks/nope', {
      status: 404,
      body: { NeutronError: { type: 'NetworkNotFound', message: 'Network nope could not be found.', detail: '' } },
    });
    const error = await connection.network.getNetwork('nope').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({ status: 404, service: 'network', upstreamMessage: 'Network nope could not be found.' });
  });
});
