import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cloudsYamlSearchPaths, connectionFromCloudsYaml, loadCloudConfig, type CloudsYamlLookup } from '../../../src/openstack/clouds-yaml.js';
import { OpenStackConfigError } from '../../../src/openstack/errors.js';
import { FakeOpenStack } from './fake-openstack.js';

let dir: string;
let lookup: CloudsYamlLookup;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clouds-yaml-'));
  await mkdir(join(dir, 'cwd'));
  await mkdir(join(dir, 'home'));
  await mkdir(join(dir, 'etc'));
  lookup = { env: {}, cwd: join(dir, 'cwd'), homeDir: join(dir, 'home'), siteConfigDir: join(dir, 'etc') };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What up.sh writes for the demo user. */
const miniClouds = `
clouds:
  mini-admin:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: admin
      password: secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  mini-demo:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: demo
      password: secret
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
`;

describe('clouds.yaml: where it is looked for', () => {
  it('follows the openstack CLI order, OS_CLIENT_CONFIG_FILE first', () => {
    const paths = cloudsYamlSearchPaths({ env: { OS_CLIENT_CONFIG_FILE: '/x/my.yaml', OS_CLIENT_SECURE_FILE: '/x/sec.yaml' }, cwd: '/w', homeDir: '/h' });
    expect(paths.clouds).toEqual([
      '/x/my.yaml',
      '/w/clouds.yaml',
      '/w/clouds.yml',
      '/w/clouds.json',
      '/h/.config/openstack/clouds.yaml',
      '/h/.config/openstack/clouds.yml',
      '/h/.config/openstack/clouds.json',
      '/etc/openstack/clouds.yaml',
      '/etc/openstack/clouds.yml',
      '/etc/openstack/clouds.json',
    ]);
    expect(paths.secure[0]).toBe('/x/sec.yaml');
    expect(paths.secure[1]).toBe('/w/secure.yaml');
  });

  it('defaults to the process environment, working directory and home directory', () => {
    const paths = cloudsYamlSearchPaths();
    expect(paths.clouds).toContain(join(process.cwd(), 'clouds.yaml'));
    expect(paths.clouds).toContain('/etc/openstack/clouds.yaml');
  });

  it('honours XDG_CONFIG_HOME for the user directory', () => {
    const paths = cloudsYamlSearchPaths({ env: { XDG_CONFIG_HOME: '/xdg' }, cwd: '/w', homeDir: '/h' });
    expect(paths.clouds[3]).toBe('/xdg/openstack/clouds.yaml');
  });

  it('reads OS_CLIENT_CONFIG_FILE before ./clouds.yaml', async () => {
    const file = join(dir, 'elsewhere.yaml');
    await writeFile(file, miniClouds);
    await writeFile(join(dir, 'cwd', 'clouds.yaml'), 'clouds: {}\n');
    const cloud = await loadCloudConfig('mini-demo', { ...lookup, env: { OS_CLIENT_CONFIG_FILE: file } });
    expect(cloud.sourceFile).toBe(file);
    expect(cloud).toMatchObject({
      auth: {
        type: 'password',
        authUrl: 'http://127.0.0.1:5000/v3',
        username: 'demo',
        password: 'secret',
        projectName: 'demo',
        userDomainName: 'Default',
        projectDomainName: 'Default',
      },
      regionName: 'RegionOne',
      interface: 'public',
    });
  });

  it('skips an OS_CLIENT_CONFIG_FILE that does not exist, as the CLI does', async () => {
    await mkdir(join(dir, 'home', '.config', 'openstack'), { recursive: true });
    await writeFile(join(dir, 'home', '.config', 'openstack', 'clouds.yaml'), miniClouds);
    const cloud = await loadCloudConfig('mini-admin', { ...lookup, env: { OS_CLIENT_CONFIG_FILE: join(dir, 'missing.yaml') } });
    expect(cloud.sourceFile).toBe(join(dir, 'home', '.config', 'openstack', 'clouds.yaml'));
    expect(cloud.auth).toMatchObject({ username: 'admin' });
  });

  it('falls back to the site directory, and reads clouds.json too', async () => {
    await writeFile(join(dir, 'etc', 'clouds.json'), JSON.stringify({ clouds: { j: { auth: { auth_url: 'http://k:5000', user_id: 'u', password: 1234, project_id: 99 } } } }));
    const cloud = await loadCloudConfig('j', lookup);
    // YAML/JSON numbers become the strings Keystone expects.
    expect(cloud.auth).toMatchObject({ type: 'password', userId: 'u', password: '1234', projectId: '99' });
    expect(cloud.regionName).toBeUndefined();
  });

  it('merges secure.yaml from the same directories over clouds.yaml', async () => {
    await writeFile(join(dir, 'cwd', 'clouds.yaml'), miniClouds.replaceAll('password: secret', 'password: placeholder'));
    await writeFile(join(dir, 'etc', 'secure.yaml'), 'clouds:\n  mini-demo:\n    auth:\n      password: from-secure\n');
    const cloud = await loadCloudConfig('mini-demo', lookup);
    expect(cloud.auth).toMatchObject({ username: 'demo', password: 'from-secure', projectName: 'demo' });
  });
});

describe('clouds.yaml: what it may contain', () => {
  it('reads an application credential', async () => {
    await writeFile(
      join(dir, 'cwd', 'clouds.yaml'),
      'clouds:\n  ac:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://k:5000/v3\n      application_credential_id: abd23a0c\n      application_credential_secret: shh\n    interface: internalURL\n    compute_api_version: "2.79"\n',
    );
    const cloud = await loadCloudConfig('ac', lookup);
    expect(cloud).toMatchObject({
      auth: { type: 'applicationCredential', authUrl: 'http://k:5000/v3', applicationCredentialId: 'abd23a0c', applicationCredentialSecret: 'shh' },
      interface: 'internal',
      computeMicroversion: '2.79',
    });
  });

  it('names the file and the clouds it has when the cloud is not there', async () => {
    await writeFile(join(dir, 'cwd', 'clouds.yaml'), miniClouds);
    const error = await loadCloudConfig('mini-nope', lookup).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackConfigError);
    expect((error as Error).message).toBe(`cloud "mini-nope" not found in ${join(dir, 'cwd', 'clouds.yaml')} (it has: mini-admin, mini-demo)`);
  });

  it('says which files it looked for when there is no clouds.yaml at all', async () => {
    await expect(loadCloudConfig('mini-demo', lookup)).rejects.toThrow(
      new RegExp(`^cloud "mini-demo" not found: no clouds.yaml in ${join(dir, 'cwd', 'clouds.yaml')}, `),
    );
  });

  it.each([
    ['clouds: [\n', 'is not valid YAML'],
    ['clouds: 3\n', 'has no "clouds" mapping'],
    ['clouds: {}\n', '(it has: no clouds)'],
    ['', '(it has: no clouds)'],
    ['clouds:\n  c:\n    auth:\n      username: u\n', 'cloud "c" in '],
    ['clouds:\n  c:\n    auth:\n      auth_url: http://k\n      username: [1]\n', 'auth.username'],
    ['clouds:\n  c:\n    auth:\n      auth_url: http://k\n    interface: sideways\n', 'interface "sideways" is not public, internal or admin'],
  ])('refuses a bad file with a clear error (%#)', async (content, message) => {
    await writeFile(join(dir, 'cwd', 'clouds.yaml'), content);
    const error = await loadCloudConfig('c', lookup).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackConfigError);
    expect((error as Error).message).toContain(message);
  });

  it('leaves an incomplete credential for the Connection to refuse by name', async () => {
    await writeFile(
      join(dir, 'cwd', 'clouds.yaml'),
      'clouds:\n  ac:\n    auth:\n      auth_url: http://k/v3\n      application_credential_id: i\n  pw:\n    auth:\n      auth_url: http://k/v3\n      username: u\n      project_name: p\n',
    );
    await expect(connectionFromCloudsYaml('ac', {}, lookup)).rejects.toThrow('application credential auth needs an id and a secret');
    await expect(connectionFromCloudsYaml('pw', {}, lookup)).rejects.toThrow('password auth needs a password');
  });

  it('names a cloud without auth_url', async () => {
    await writeFile(join(dir, 'cwd', 'clouds.yaml'), 'clouds:\n  c:\n    region_name: R\n');
    await expect(loadCloudConfig('c', lookup)).rejects.toThrow(/cloud "c" in .* has no auth.auth_url/);
  });

  it('reports a clouds.yaml it cannot read, rather than skipping it', async () => {
    const file = join(dir, 'cwd', 'clouds.yaml');
    await mkdir(file);
    await expect(loadCloudConfig('c', lookup)).rejects.toThrow(`cannot read ${file}`);
  });
});

describe('clouds.yaml: a Connection from OS_CLOUD', () => {
  let fake: FakeOpenStack;

  beforeEach(async () => {
    fake = await FakeOpenStack.start();
  });

  afterEach(async () => {
    await fake.close();
  });

  it('authenticates with the cloud from the file and lets explicit options win', async () => {
    await writeFile(
      join(dir, 'cwd', 'clouds.yaml'),
      miniClouds.replaceAll('http://127.0.0.1:5000/v3', fake.authUrl).replace('region_name: RegionOne', 'region_name: RegionNowhere'),
    );
    fake.route('GET', '/compute/v2.1/servers/detail', { status: 200, body: { servers: [] } });
    const connection = await connectionFromCloudsYaml('mini-admin', { regionName: 'RegionOne', interface: undefined, timeoutMs: 1_000 }, lookup);
    await connection.compute.listServers();
    expect(connection.regionName).toBe('RegionOne');
    expect(connection.interface).toBe('public');
    expect(fake.tokenRequests[0]?.body).toMatchObject({ auth: { identity: { password: { user: { name: 'admin', password: 'secret' } } } } });
  });
});
