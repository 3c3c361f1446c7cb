import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Connection, type ConnectionOptions } from '../../../src/openstack/connection.js';
import {
  OpenStackConfigError,
  OpenStackEndpointNotFoundError,
  OpenStackHttpError,
  OpenStackShapeError,
} from '../../../src/openstack/errors.js';
import type { PasswordAuth } from '../../../src/openstack/identity/tokens.js';
import { FakeOpenStack, capturingLogger, fixture } from './fake-openstack.js';

let fake: FakeOpenStack;

beforeEach(async () => {
  fake = await FakeOpenStack.start();
});

afterEach(async () => {
  await fake.close();
});

function passwordAuth(overrides: Partial<PasswordAuth> = {}): PasswordAuth {
  return {
    type: 'password',
    authUrl: fake.authUrl,
    username: 'demo',
    password: 'secret-password',
    projectName: 'demo',
    userDomainName: 'Default',
    projectDomainName: 'Default',
    ...overrides,
  };
}

function connect(options: Partial<ConnectionOptions> = {}): Connection {
  return new Connection({ auth: passwordAuth(), timeoutMs: 2_000, backoffBaseMs: 5, backoffMaxMs: 10, ...options });
}

const serverList = { status: 200, body: { servers: [] } };
const unauthorized = { status: 401, body: fixture('compute-error-401.json') };

describe('connection: authentication', () => {
  it('authenticates by password with user and project scoped by domain name', async () => {
    const connection = connect();
    await connection.authenticate();
    const [auth] = fake.tokenRequests;
    expect(auth?.body).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'demo', domain: { name: 'Default' }, password: 'secret-password' } },
        },
        scope: { project: { name: 'demo', domain: { name: 'Default' } } },
      },
    });
  });

  it('uses ids when given, and the "Default" domain when no user or project domain is given', async () => {
    await connect({ auth: passwordAuth({ userId: 'u1', projectId: 'p1' }) }).authenticate();
    await connect({ auth: passwordAuth({ userDomainName: undefined, projectDomainName: undefined, userDomainId: 'd1' }) }).authenticate();
    const [byId, byDefault] = fake.tokenRequests.map((req) => req.body);
    expect(byId).toMatchObject({
      auth: { identity: { password: { user: { id: 'u1', password: 'secret-password' } } }, scope: { project: { id: 'p1' } } },
    });
    expect(byDefault).toMatchObject({
      auth: {
        identity: { password: { user: { name: 'demo', domain: { id: 'd1' } } } },
        scope: { project: { name: 'demo', domain: { name: 'Default' } } },
      },
    });
  });

  it('authenticates by application credential id and secret, without a scope', async () => {
    const connection = connect({
      auth: { type: 'applicationCredential', authUrl: fake.authUrl, applicationCredentialId: 'abd23a0c', applicationCredentialSecret: 'shh' },
    });
    const info = await connection.authenticate();
    expect(fake.tokenRequests[0]?.body).toEqual({
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'abd23a0c', secret: 'shh' } } },
    });
    expect(info.projectId).toBe('98df57ceb1a14f3594e7eda0ae3d15df');
    expect(info).not.toHaveProperty('value');
  });

  it('adds /v3 to an auth URL given without it', async () => {
    await connect({ auth: passwordAuth({ authUrl: `${fake.url}/identity/` }) }).authenticate();
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('sends the token Keystone issued in X-Subject-Token to services', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', serverList);
    await connect().compute.listServers();
    expect(fake.requests('GET', '/compute/v2.1/servers/detail')[0]?.headers['x-auth-token']).toBe('token-1');
  });

  it('surfaces a refused password as an identity 401 without retrying it', async () => {
    fake.route('POST', '/identity/v3/auth/tokens', { status: 401, body: fixture('keystone-error-401.json') });
    const connection = connect();
    const error = await connection.compute.listServers().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({ status: 401, service: 'identity', upstreamMessage: 'The request you have made requires authentication.' });
    expect(connection.tokenRequests).toBe(1);
    expect(fake.seen).toHaveLength(1);
  });

  it('refuses a token answer without X-Subject-Token', async () => {
    fake.route('POST', '/identity/v3/auth/tokens', { status: 201, body: fixture('keystone-token-password.json') });
    await expect(connect().authenticate()).rejects.toThrow(OpenStackShapeError);
  });

  it('refuses a token body without expires_at, naming the path', async () => {
    fake.route('POST', '/identity/v3/auth/tokens', { status: 201, body: { token: { user: { id: 'u' } } }, headers: { 'X-Subject-Token': 't' } });
    const error = await connect().authenticate().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackShapeError);
    expect(error).toMatchObject({ resource: 'identity token', path: 'token.expires_at' });
  });

  it('never logs the password or the token', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', serverList);
    const { logger, lines } = capturingLogger();
    await connect({ logger }).compute.listServers();
    const all = lines().join('\n');
    expect(lines().length).toBeGreaterThanOrEqual(3);
    expect(all).toContain('openstack token issued');
    expect(all).not.toContain('secret-password');
    expect(all).not.toContain('token-1');
  });
});

describe('connection: token cache', () => {
  it('shares one token request among concurrent callers', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', serverList);
    const connection = connect();
    await Promise.all(Array.from({ length: 20 }, () => connection.compute.listServers()));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(connection.tokenRequests).toBe(1);
    expect(fake.requests('GET', '/compute/v2.1/servers/detail')).toHaveLength(20);
  });

  it('reuses the token until shortly before it expires, then fetches a new one', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', serverList);
    let now = Date.parse('2030-01-01T00:00:00Z');
    // The recorded token lives one hour (issued 17:20:19, expires 18:20:19).
    const connection = connect({ now: () => now, tokenRefreshMarginMs: 60_000 });
    await connection.compute.listServers();
    now += 3_600_000 - 61_000;
    await connection.compute.listServers();
    expect(connection.tokenRequests).toBe(1);
    now += 2_000;
    await connection.compute.listServers();
    expect(connection.tokenRequests).toBe(2);
    const tokensUsed = fake.requests('GET', '/compute/v2.1/servers/detail').map((req) => req.headers['x-auth-token']);
    expect(tokensUsed).toEqual(['token-1', 'token-1', 'token-2']);
  });

  it('counts the lifetime from Keystone issued_at, not its absolute clock', async () => {
    // Our clock is years away from Keystone's: the token must still be cached.
    let now = Date.parse('2001-01-01T00:00:00Z');
    const connection = connect({ now: () => now });
    const info = await connection.authenticate();
    expect(info.refreshAt.getTime()).toBe(now + 3_600_000 - 60_000);
    now += 10_000;
    await connection.authenticate();
    expect(connection.tokenRequests).toBe(1);
  });

  it('without issued_at, trusts expires_at against our clock', async () => {
    const body = fixture('keystone-token-password.json') as { token: Record<string, unknown> };
    delete body.token['issued_at'];
    body.token['catalog'] = fake.catalog;
    fake.route('POST', '/identity/v3/auth/tokens', { status: 201, body, headers: { 'X-Subject-Token': 't' } });
    const now = Date.parse('2026-11-23T19:46:49Z');
    const info = await connect({ now: () => now }).authenticate();
    expect(info.refreshAt.toISOString()).toBe('2026-11-23T20:05:49.000Z');
  });

  it('keeps a short-lived token for at least half its life', async () => {
    const body = fixture('keystone-token-password.json') as { token: Record<string, unknown> };
    body.token['issued_at'] = '2026-11-23T20:05:49.000000Z';
    fake.route('POST', '/identity/v3/auth/tokens', { status: 201, body, headers: { 'X-Subject-Token': 't' } });
    const now = 1_000_000;
    const info = await connect({ now: () => now, tokenRefreshMarginMs: 60_000 }).authenticate();
    expect(info.refreshAt.getTime()).toBe(now + 30_000);
  });

  it('lets every waiter see a failed authentication, and tries again on the next call', async () => {
    fake.sequence('POST', '/identity/v3/auth/tokens', [{ status: 500, body: { error: { code: 500, message: 'db down' } } }]);
    const connection = connect();
    const results = await Promise.allSettled([connection.authenticate(), connection.authenticate()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(connection.tokenRequests).toBe(1);
    fake.route('POST', '/identity/v3/auth/tokens', {
      status: 201,
      body: fixture('keystone-token-password.json'),
      headers: { 'X-Subject-Token': 'second-try' },
    });
    await connection.authenticate();
    expect(connection.tokenRequests).toBe(2);
  });

  it('authenticates again after invalidateToken', async () => {
    const connection = connect();
    await connection.authenticate();
    connection.invalidateToken();
    await connection.authenticate();
    expect(connection.tokenRequests).toBe(2);
  });
});

describe('connection: 401 from a service', () => {
  it('re-authenticates once and repeats the call once with the new token', async () => {
    fake.sequence('GET', '/compute/v2.1/servers/detail', [unauthorized, serverList]);
    const connection = connect();
    await connection.compute.listServers();
    expect(connection.tokenRequests).toBe(2);
    const tokensUsed = fake.requests('GET', '/compute/v2.1/servers/detail').map((req) => req.headers['x-auth-token']);
    expect(tokensUsed).toEqual(['token-1', 'token-2']);
  });

  it('repeats even a POST after a 401, as Keystone middleware refused it before Nova saw it', async () => {
    fake.sequence('POST', '/compute/v2.1/servers', [unauthorized, { status: 202, body: fixture('compute-server-create-202.json') }]);
    const created = await connect().compute.createServer({ name: 'a', flavorRef: '1', imageRef: 'i', networks: 'auto' });
    expect(created).toEqual({ id: 'ce287d1e-0ae2-4119-9835-885729fc4433' });
    expect(fake.requests('POST', '/compute/v2.1/servers')).toHaveLength(2);
  });

  it('surfaces a second 401 as an error, after exactly one re-authentication', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', unauthorized);
    const connection = connect();
    const error = await connection.compute.listServers().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({ status: 401, service: 'compute' });
    expect(connection.tokenRequests).toBe(2);
    expect(fake.requests('GET', '/compute/v2.1/servers/detail')).toHaveLength(2);
  });

  it('re-authenticates once for many callers refused with the same token, even late ones', async () => {
    let refusals = 0;
    fake.route('GET', '/compute/v2.1/servers/detail', async (req) => {
      if (req.headers['x-auth-token'] !== 'token-1') return serverList;
      // Spread the refusals out, so most arrive after the new token is already cached.
      await new Promise((resolve) => setTimeout(resolve, 15 * ++refusals));
      return unauthorized;
    });
    const connection = connect();
    await connection.authenticate();
    await Promise.all(Array.from({ length: 6 }, () => connection.compute.listServers()));
    expect(connection.tokenRequests).toBe(2);
    expect(fake.requests('GET', '/compute/v2.1/servers/detail').filter((req) => req.headers['x-auth-token'] === 'token-2')).toHaveLength(6);
  });

  it('does not treat other errors as a reason to re-authenticate', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', { status: 403, body: { forbidden: { code: 403, message: 'Policy does not allow' } } });
    const connection = connect();
    await expect(connection.compute.listServers()).rejects.toMatchObject({ status: 403, upstreamKind: 'forbidden' });
    expect(connection.tokenRequests).toBe(1);
  });
});

describe('connection: service catalog', () => {
  function endpoint(iface: string, region: string | null, path: string) {
    return { id: `${iface}-${region}`, interface: iface, region, region_id: region, url: `${fake.url}${path}` };
  }

  beforeEach(() => {
    fake.catalog = [
      {
        type: 'compute',
        name: 'nova',
        endpoints: [
          endpoint('public', 'RegionOne', '/compute/v2.1'),
          endpoint('internal', 'RegionOne', '/compute-internal/v2.1/'),
          endpoint('public', 'RegionTwo', '/compute-two/v2.1'),
        ],
      },
      { type: 'image', endpoints: [endpoint('admin', null, '/image-admin')] },
    ];
  });

  it('picks the endpoint of the configured interface and region', async () => {
    expect(await connect().endpoint('compute')).toBe(`${fake.url}/compute/v2.1`);
    expect(await connect({ interface: 'internal' }).endpoint('compute')).toBe(`${fake.url}/compute-internal/v2.1`);
    expect(await connect({ regionName: 'RegionTwo' }).endpoint('compute')).toBe(`${fake.url}/compute-two/v2.1`);
    expect(await connect({ interface: 'admin' }).endpoint('image')).toBe(`${fake.url}/image-admin`);
  });

  it('calls the service at the endpoint it picked', async () => {
    fake.route('GET', '/compute-two/v2.1/servers/detail', serverList);
    await connect({ regionName: 'RegionTwo' }).compute.listServers();
    expect(fake.requests('GET', '/compute-two/v2.1/servers/detail')).toHaveLength(1);
  });

  it('names the service, interface and region it could not find, and what the catalog has', async () => {
    const error = await connect({ regionName: 'RegionThree' }).endpoint('compute').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackEndpointNotFoundError);
    expect(error).toMatchObject({ serviceType: 'compute', interface: 'public', region: 'RegionThree' });
    expect((error as Error).message).toBe(
      'no public endpoint for compute in region RegionThree in the service catalog (it has: compute public RegionOne, compute internal RegionOne, compute public RegionTwo, image admin (no region))',
    );
    await expect(connect().image.listImages()).rejects.toThrow('no public endpoint for image in the service catalog');
  });

  it('explains an unscoped token without a catalog', async () => {
    const body = fixture('keystone-token-password.json') as { token: Record<string, unknown> };
    delete body.token['catalog'];
    fake.route('POST', '/identity/v3/auth/tokens', { status: 201, body, headers: { 'X-Subject-Token': 't' } });
    await expect(connect().endpoint('compute')).rejects.toThrow('(it has: nothing)');
  });
});

describe('connection: options', () => {
  it.each([
    [{ ...{ type: 'password' as const }, authUrl: 'not a url', username: 'u', password: 'p', projectName: 'x' }, 'is not a URL'],
    [{ type: 'password' as const, authUrl: 'http://k/v3', password: 'p', projectName: 'x' }, 'needs a username or a user id'],
    [{ type: 'password' as const, authUrl: 'http://k/v3', username: 'u', password: '', projectName: 'x' }, 'needs a password'],
    [{ type: 'password' as const, authUrl: 'http://k/v3', username: 'u', password: 'p' }, 'needs a project name or a project id'],
    [{ type: 'applicationCredential' as const, authUrl: 'http://k/v3', applicationCredentialId: 'i', applicationCredentialSecret: '' }, 'needs an id and a secret'],
  ])('refuses incomplete auth options (%#)', (auth, message) => {
    expect(() => new Connection({ auth })).toThrow(OpenStackConfigError);
    expect(() => new Connection({ auth })).toThrow(message);
  });

  it('refuses a microversion pin that is not MAJOR.MINOR', () => {
    expect(() => connect({ computeMicroversion: 'latest' })).toThrow('"latest" is not a microversion such as 2.93');
  });

  it('pins compute microversion 2.93 unless told otherwise', () => {
    expect(connect().compute.microversion).toBe('2.93');
    expect(connect({ computeMicroversion: '2.60' }).compute.microversion).toBe('2.60');
  });
});
