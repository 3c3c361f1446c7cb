import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEmbeddedFlavor, serverActionBody, type Server, type ServerAction } from '../../../src/openstack/compute/servers.js';
import { compareMicroversions, computeVersionRoot } from '../../../src/openstack/compute/versions.js';
import { Connection } from '../../../src/openstack/connection.js';
import { OpenStackHttpError, OpenStackMicroversionError, OpenStackShapeError } from '../../../src/openstack/errors.js';
import { FakeOpenStack, fixture, rewriteHosts } from './fake-openstack.js';

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

const serverId = '97857bdc-1cdf-4029-9ecf-4d870d28e0a2';

/** A recorded server (the bare object, as the API shows it inside { server }). */
function recordedServer(name: string): Record<string, unknown> {
  return fixture<{ server: Record<string, unknown> }>(name).server;
}

function serveServer(sample: unknown, id = serverId): void {
  fake.route('GET', `/compute/v2.1/servers/${id}`, { status: 200, body: { server: sample } });
}

describe('compute: server resource, parsed from real recordings', () => {
  /** The reference session's recordings (on demo-net; admin view unless named demo-view). */
  const referenceSamples = [
    'compute-server-ACTIVE-net.json',
    'compute-server-ACTIVE-net-demo-view.json',
    'compute-server-ACTIVE-with-network.json',
    'compute-server-ERROR-novalidhost-admin-view.json',
    'compute-server-ERROR-novalidhost-demo-view.json',
    'compute-server-PAUSED-net.json',
    'compute-server-SHUTOFF-net.json',
    'compute-server-SUSPENDED-net.json',
    'compute-server-VERIFY_RESIZE-net.json',
  ];

  it.each(referenceSamples)('parses %s', async (name) => {
    const sample = recordedServer(name);
    serveServer(sample);
    const server = await connection.compute.getServer(serverId);
    expect(server.id).toBe(sample['id']);
    expect(server.status).toBe(sample['status']);
    expect(server['OS-EXT-STS:vm_state']).toBe(sample['OS-EXT-STS:vm_state']);
  });

  it.each(['ACTIVE', 'BUILD', 'ERROR-novalidhost', 'PAUSED', 'SHUTOFF', 'SUSPENDED', 'VERIFY_RESIZE', 'task-powering-off'])(
    'parses the fresh recording compute-server-%s.json',
    async (name) => {
      const recorded = fixture(`compute-server-${name}.json`) as { server: Record<string, unknown> };
      fake.route('GET', `/compute/v2.1/servers/${serverId}`, { status: 200, body: recorded });
      const server = await connection.compute.getServer(serverId);
      expect(server.status).toBe(recorded.server['status']);
      expect(server['OS-EXT-STS:task_state']).toBe(recorded.server['OS-EXT-STS:task_state']);
    },
  );

  it('reads the fields an adapter needs from an ACTIVE server (admin view)', async () => {
    serveServer(recordedServer('compute-server-ACTIVE-net.json'));
    const server: Server = await connection.compute.getServer(serverId);
    expect(server).toMatchObject({
      name: 'life-1',
      status: 'ACTIVE',
      'OS-EXT-STS:task_state': null,
      'OS-EXT-STS:power_state': 1,
      'OS-EXT-AZ:availability_zone': 'nova',
      'OS-EXT-SRV-ATTR:host': 'mini-compute',
      image: { id: '75467ef3-b6d6-4135-a552-ae8d30bd7f45' },
      created: '2026-11-23T17:20:42Z',
      updated: '2026-11-23T17:20:43Z',
      tags: [],
      metadata: {},
    });
    expect(server.addresses['demo-net']?.[0]).toMatchObject({ addr: '10.0.0.222', version: 4, 'OS-EXT-IPS:type': 'fixed' });
    expect(isEmbeddedFlavor(server.flavor) && server.flavor).toMatchObject({ original_name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 });
    // Fields the schema does not name are kept for whoever needs them.
    expect(server['OS-DCF:diskConfig']).toBe('MANUAL');
  });

  it('reads the fault of a server that failed to schedule, and no host in the member view', async () => {
    serveServer(recordedServer('compute-server-ERROR-novalidhost-demo-view.json'));
    const server = await connection.compute.getServer(serverId);
    expect(server.fault).toEqual({ code: 500, created: '2026-11-23T17:20:29Z', message: 'No valid host was found. ' });
    expect(server['OS-EXT-SRV-ATTR:host']).toBeUndefined();
  });

  it('shows a task in progress while the status stays the old one', async () => {
    fake.route('GET', `/compute/v2.1/servers/${serverId}`, { status: 200, body: fixture('compute-server-task-powering-off.json') });
    const server = await connection.compute.getServer(serverId);
    expect(server.status).toBe('ACTIVE');
    expect(server['OS-EXT-STS:task_state']).toBe('powering-off');
  });

  it('accepts a volume-booted server (image "") and a flavor reference from before 2.47', async () => {
    const sample = recordedServer('compute-server-ACTIVE-net-demo-view.json');
    serveServer({ ...sample, image: '', flavor: { id: '1', links: [] } });
    const server = await connection.compute.getServer(serverId);
    expect(server.image).toBe('');
    expect(isEmbeddedFlavor(server.flavor)).toBe(false);
    expect(server.flavor).toMatchObject({ id: '1' });
  });

  it('turns a malformed server into a shape error naming the resource and the field', async () => {
    const sample = recordedServer('compute-server-ACTIVE-net.json');
    serveServer({ ...sample, 'OS-EXT-STS:power_state': 'on' });
    const error = await connection.compute.getServer(serverId).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackShapeError);
    expect(error).toMatchObject({ resource: 'compute server', path: 'server.OS-EXT-STS:power_state' });
    expect((error as Error).message).toContain('unexpected compute server from OpenStack at "server.OS-EXT-STS:power_state"');
  });

  it('reports how many fields were wrong', async () => {
    serveServer({ id: serverId });
    const error = (await connection.compute.getServer(serverId).catch((err: unknown) => err)) as OpenStackShapeError;
    expect(error.issues.length).toBeGreaterThan(5);
    expect(error.message).toMatch(/\(and \d+ more\)$/);
  });
});

describe('compute: server calls', () => {
  it('sends the pinned microversion and the caller request id on every call', async () => {
    serveServer(recordedServer('compute-server-ACTIVE-net.json'));
    await connection.compute.getServer(serverId, { requestId: 'req-6f9619ff-8b86-4011-b42d-00c04fc964ff' });
    const [seen] = fake.requests('GET', `/compute/v2.1/servers/${serverId}`);
    expect(seen?.headers['openstack-api-version']).toBe('compute 2.93');
    expect(seen?.headers['x-openstack-nova-api-version']).toBe('2.93');
    expect(seen?.headers['x-openstack-request-id']).toBe('req-6f9619ff-8b86-4011-b42d-00c04fc964ff');
    // Keystone gets the same id, so its log line joins the others.
    expect(fake.tokenRequests[0]?.headers['x-openstack-request-id']).toBe('req-6f9619ff-8b86-4011-b42d-00c04fc964ff');
  });

  it('creates a server with networks, tags and metadata, and returns only its id', async () => {
    fake.route('POST', '/compute/v2.1/servers', { status: 202, body: fixture('compute-server-create-202.json') });
    const created = await connection.compute.createServer({
      name: 'web-1',
      flavorRef: '1',
      imageRef: '75467ef3-b6d6-4135-a552-ae8d30bd7f45',
      networks: [{ uuid: 'net-1' }],
      tags: ['idem-abc'],
      metadata: { owner: 'me' },
      availabilityZone: 'nova',
    });
    expect(created).toEqual({ id: 'ce287d1e-0ae2-4119-9835-885729fc4433' });
    expect(created).not.toHaveProperty('adminPass');
    expect(fake.requests('POST', '/compute/v2.1/servers')[0]?.body).toEqual({
      server: {
        name: 'web-1',
        flavorRef: '1',
        imageRef: '75467ef3-b6d6-4135-a552-ae8d30bd7f45',
        networks: [{ uuid: 'net-1' }],
        tags: ['idem-abc'],
        metadata: { owner: 'me' },
        availability_zone: 'nova',
      },
    });
  });

  it('sends networks "auto" or "none" as a string and leaves out what was not given', async () => {
    fake.route('POST', '/compute/v2.1/servers', { status: 202, body: fixture('compute-server-create-202.json') });
    await connection.compute.createServer({ name: 'a', flavorRef: '1', imageRef: 'i', networks: 'none' });
    expect(fake.requests('POST', '/compute/v2.1/servers')[0]?.body).toEqual({
      server: { name: 'a', flavorRef: '1', imageRef: 'i', networks: 'none' },
    });
  });

  it.each([
    ['compute-error-403-quota-ram.json', 403, 'forbidden', /^Quota exceeded for ram/],
    ['compute-error-400-reboot-type.json', 400, 'badRequest', /^Invalid input for field/],
  ])('raises %s from a create as an HTTP error with the upstream message', async (name, status, kind, message) => {
    fake.route('POST', '/compute/v2.1/servers', { status, body: fixture(name) });
    const error = await connection.compute
      .createServer({ name: 'a', flavorRef: 'huge', imageRef: 'i', networks: 'auto' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({ status, upstreamKind: kind });
    expect((error as OpenStackHttpError).upstreamMessage).toMatch(message);
  });

  it('raises a 404 for a server that is gone', async () => {
    fake.route('GET', '/compute/v2.1/servers/gone', { status: 404, body: fixture('compute-error-404-itemnotfound.json') });
    await expect(connection.compute.getServer('gone')).rejects.toMatchObject({ status: 404, upstreamKind: 'itemNotFound' });
  });

  it('lists servers with the query Nova understands, and reads the next marker', async () => {
    const page = fixture('compute-servers-detail.json') as { servers: unknown[] };
    fake.route('GET', '/compute/v2.1/servers/detail', {
      status: 200,
      body: { ...page, servers_links: [{ rel: 'next', href: 'http://127.0.0.1:8774/v2.1/servers/detail?limit=1&marker=47667a79' }] },
    });
    const result = await connection.compute.listServers({
      limit: 1,
      marker: 'm0',
      changesSince: new Date('2026-11-23T17:00:00Z'),
      tags: ['a', 'b'],
      tagsAny: ['c'],
      name: '^web-',
      status: 'ACTIVE',
    });
    expect(result.servers.map((s) => s.name)).toEqual(['tagged-1']);
    expect(result.servers[0]?.tags).toEqual(['a', 'b', 'env-test']);
    expect(result.nextMarker).toBe('47667a79');
    const query = Object.fromEntries(fake.requests('GET', '/compute/v2.1/servers/detail')[0]?.query ?? []);
    expect(query).toEqual({
      limit: '1',
      marker: 'm0',
      'changes-since': '2026-11-23T17:00:00.000Z',
      tags: 'a,b',
      'tags-any': 'c',
      name: '^web-',
      status: 'ACTIVE',
    });
  });

  it('reads no next marker from a next link without one', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', { status: 200, body: { servers: [], servers_links: [{ rel: 'next', href: 'http://x/v2.1/servers/detail?limit=5' }] } });
    expect((await connection.compute.listServers()).nextMarker).toBeUndefined();
  });

  it('lists deleted servers from changes-since with status DELETED', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', { status: 200, body: fixture('compute-servers-changes-since-deleted.json') });
    const { servers, nextMarker } = await connection.compute.listServers({ changesSince: '2026-11-23T17:00:00Z' });
    expect(servers.find((s) => s.name === 'fixture-deleted')?.status).toBe('DELETED');
    expect(nextMarker).toBeUndefined();
  });

  it('follows markers across pages, and stops if a marker comes back', async () => {
    const [first] = (fixture('compute-servers-detail.json') as { servers: Record<string, unknown>[] }).servers;
    const link = (marker: string) => [{ rel: 'next', href: `http://x/v2.1/servers/detail?marker=${marker}` }];
    fake.route('GET', '/compute/v2.1/servers/detail', (req) => {
      const marker = req.query.get('marker');
      if (marker === null) return { status: 200, body: { servers: [{ ...first, id: 'a' }], servers_links: link('a') } };
      if (marker === 'a') return { status: 200, body: { servers: [{ ...first, id: 'b' }], servers_links: link('b') } };
      return { status: 200, body: { servers: [{ ...first, id: 'c' }], servers_links: link('a') } };
    });
    const servers = await connection.compute.listAllServers({ tags: ['t'] });
    expect(servers.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(fake.requests('GET', '/compute/v2.1/servers/detail').every((req) => req.query.get('tags') === 't')).toBe(true);
  });

  it('deletes a server', async () => {
    fake.route('DELETE', `/compute/v2.1/servers/${serverId}`, { status: 204 });
    await connection.compute.deleteServer(serverId);
    expect(fake.requests('DELETE', `/compute/v2.1/servers/${serverId}`)).toHaveLength(1);
  });

  const actions: [ServerAction, Record<string, unknown>][] = [
    [{ type: 'start' }, { 'os-start': null }],
    [{ type: 'stop' }, { 'os-stop': null }],
    [{ type: 'reboot', rebootType: 'SOFT' }, { reboot: { type: 'SOFT' } }],
    [{ type: 'reboot', rebootType: 'HARD' }, { reboot: { type: 'HARD' } }],
    [{ type: 'pause' }, { pause: null }],
    [{ type: 'unpause' }, { unpause: null }],
    [{ type: 'suspend' }, { suspend: null }],
    [{ type: 'resume' }, { resume: null }],
    [{ type: 'resize', flavorRef: '2' }, { resize: { flavorRef: '2' } }],
    [{ type: 'confirmResize' }, { confirmResize: null }],
    [{ type: 'revertResize' }, { revertResize: null }],
  ];

  it.each(actions)('posts action %j as %j', async (action, body) => {
    expect(serverActionBody(action)).toEqual(body);
    fake.route('POST', `/compute/v2.1/servers/${serverId}/action`, { status: action.type === 'confirmResize' ? 204 : 202 });
    await connection.compute.serverAction(serverId, action);
    expect(fake.requests('POST', `/compute/v2.1/servers/${serverId}/action`)[0]?.body).toEqual(body);
  });

  it('raises Nova 409 for an action the state does not allow, keeping the upstream text', async () => {
    fake.route('POST', `/compute/v2.1/servers/${serverId}/action`, { status: 409, body: fixture('compute-error-409-task-state.json') });
    const error = await connection.compute.serverAction(serverId, { type: 'stop' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({ status: 409, upstreamKind: 'conflictingRequest' });
    expect((error as OpenStackHttpError).upstreamMessage).toContain('while it is in task_state powering-off');
  });

  it('adds one tag (escaped in the path) and replaces all tags', async () => {
    fake.route('PUT', `/compute/v2.1/servers/${serverId}/tags/idem%2Fkey`, { status: 201 });
    fake.route('PUT', `/compute/v2.1/servers/${serverId}/tags`, { status: 200, body: { tags: ['a', 'b'] } });
    await connection.compute.addServerTag(serverId, 'idem/key');
    expect(await connection.compute.replaceServerTags(serverId, ['a', 'b'])).toEqual(['a', 'b']);
    expect(fake.requests('PUT', `/compute/v2.1/servers/${serverId}/tags`)[0]?.body).toEqual({ tags: ['a', 'b'] });
    expect(fake.requests('PUT', `/compute/v2.1/servers/${serverId}/tags/idem%2Fkey`)).toHaveLength(1);
  });
});

describe('compute: flavors', () => {
  it('lists the recorded flavors', async () => {
    fake.route('GET', '/compute/v2.1/flavors/detail', { status: 200, body: fixture('compute-flavors-detail.json') });
    const flavors = await connection.compute.listFlavors();
    expect(flavors.find((f) => f.name === 'm1.small')).toMatchObject({ id: '2', vcpus: 1, ram: 2048, disk: 20, swap: 0 });
  });

  it('follows flavor pages and reads the "" swap of old microversions as 0', async () => {
    const [tiny] = (fixture('compute-flavors-detail.json') as { flavors: Record<string, unknown>[] }).flavors;
    fake.route('GET', '/compute/v2.1/flavors/detail', (req) =>
      req.query.get('marker') === null
        ? { status: 200, body: { flavors: [tiny], flavors_links: [{ rel: 'next', href: 'http://x/v2.1/flavors/detail?marker=1' }] } }
        : { status: 200, body: { flavors: [{ ...tiny, id: '9', swap: '' }], flavors_links: [{ rel: 'next', href: 'http://x/v2.1/flavors/detail?marker=1' }] } },
    );
    const flavors = await connection.compute.listFlavors();
    expect(flavors.map((f) => [f.id, f.swap])).toEqual([
      ['1', 0],
      ['9', 0],
    ]);
  });

  it('gets one flavor', async () => {
    const [tiny] = (fixture('compute-flavors-detail.json') as { flavors: unknown[] }).flavors;
    fake.route('GET', '/compute/v2.1/flavors/1', { status: 200, body: { flavor: tiny } });
    expect(await connection.compute.getFlavor('1')).toMatchObject({ id: '1', name: 'm1.tiny', ram: 512 });
  });

  it('turns a flavor without ram into a shape error', async () => {
    fake.route('GET', '/compute/v2.1/flavors/1', { status: 200, body: { flavor: { id: '1', name: 'x', vcpus: 1, disk: 1, swap: 0 } } });
    await expect(connection.compute.getFlavor('1')).rejects.toMatchObject({ resource: 'compute flavor', path: 'flavor.ram' });
  });
});

describe('compute: microversions', () => {
  const versionDocument = () => rewriteHosts(fixture('compute-version-v2.1.json'), fake.url);

  it('reads the range from the version document of the real Nova', async () => {
    fake.route('GET', '/compute/v2.1/', { status: 200, body: versionDocument() });
    expect(await connection.compute.getMicroversionRange()).toEqual({ min: '2.1', max: '2.93' });
    await expect(connection.compute.assertMicroversionSupported()).resolves.toEqual({ min: '2.1', max: '2.93' });
  });

  it('refuses a cloud whose Nova is older than the pin, with a clear message', async () => {
    const document = versionDocument() as { version: Record<string, unknown> };
    document.version['version'] = '2.60';
    fake.route('GET', '/compute/v2.1/', { status: 200, body: document });
    const error = await connection.compute.assertMicroversionSupported().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackMicroversionError);
    expect((error as Error).message).toBe('compute microversion 2.93 is not offered by this cloud (it offers 2.1 to 2.60)');
  });

  it('refuses a pin below the minimum, and reads the legacy v2.0 API as offering 2.0 only', async () => {
    const document = versionDocument() as { version: Record<string, unknown> };
    fake.route('GET', '/compute/v2.1/', { status: 200, body: { version: { ...document.version, version: '', min_version: '' } } });
    await expect(connection.compute.assertMicroversionSupported()).rejects.toThrow('(it offers 2.0 to 2.0)');
    const pinnedLow = new Connection({
      auth: { type: 'password', authUrl: fake.authUrl, username: 'demo', password: 'secret', projectName: 'demo' },
      computeMicroversion: '2.0',
    });
    fake.route('GET', '/compute/v2.1/', { status: 200, body: { version: { ...document.version, min_version: '2.10' } } });
    await expect(pinnedLow.compute.assertMicroversionSupported()).rejects.toThrow('compute microversion 2.0 is not offered by this cloud (it offers 2.10 to 2.93)');
  });

  it('compares microversions numerically, not as text', () => {
    expect(compareMicroversions('2.9', '2.10')).toBeLessThan(0);
    expect(compareMicroversions('2.93', '2.93')).toBe(0);
    expect(compareMicroversions('3.0', '2.93')).toBeGreaterThan(0);
  });

  it('finds the version document above a project id in the endpoint', () => {
    expect(computeVersionRoot('http://nova:8774/v2.1/0543abad93f94025aac161ef6b99bbdd')).toBe('http://nova:8774/v2.1');
    expect(computeVersionRoot('http://nova:8774/v2.1/')).toBe('http://nova:8774/v2.1');
    expect(computeVersionRoot('https://cloud.example/compute/v2.1')).toBe('https://cloud.example/compute/v2.1');
  });

  it('returns the Nova 406 for an unsupported microversion as an HTTP error', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', { status: 406, body: fixture('compute-error-406-microversion.json') });
    await expect(connection.compute.listServers()).rejects.toMatchObject({
      status: 406,
      upstreamKind: 'computeFault',
      upstreamMessage: 'Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.93.',
    });
  });
});
