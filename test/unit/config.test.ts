import { describe, expect, it } from 'vitest';
import { keyRevalidateSeconds, parseConfig, type Config, type ConfigResult } from '../../src/config/config.js';

function config(env: Record<string, string | undefined>): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.problems.join('; ')}`);
  return result.config;
}

function problems(env: Record<string, string | undefined>): string[] {
  const result: ConfigResult = parseConfig(env);
  if (result.ok) throw new Error('expected problems, got a valid config');
  return result.problems;
}

/** The variable a problem line is about: the text before the first colon. */
const named = (line: string) => line.slice(0, line.indexOf(':'));

const openstackByPassword = {
  BACKEND: 'openstack',
  OS_AUTH_URL: 'http://127.0.0.1/identity/v3',
  OS_USERNAME: 'demo',
  OS_PASSWORD: 'pw-Zq81-never-shown',
  OS_PROJECT_NAME: 'demo',
};

describe('parseConfig defaults', () => {
  it('an empty environment is valid and gets the contract\'s defaults', () => {
    const c = config({});
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      BACKEND: 'memory',
      OS_INTERFACE: 'public',
      MOCK_DELETED_RETENTION_S: 3600, // "default 1 hour" (docs/contract.md section 2)
      MOCK_IP_CIDR: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+\/\d+$/),
      API_KEYS: [],
      API_READONLY_KEYS: [],
      LOG_PRETTY: false,
    });
  });

  it('every default is itself a valid value (feeding the defaults back in changes nothing)', () => {
    const defaults = config({});
    const asEnv = Object.fromEntries(
      Object.entries(defaults)
        .filter(([, v]) => v !== undefined && !Array.isArray(v))
        .map(([k, v]) => [k, String(v)]),
    );
    expect(config(asEnv)).toEqual(defaults);
  });

  it('reads numbers, flags and lists from their text', () => {
    const c = config({
      PORT: '8080',
      MOCK_ACTION_DELAY_MS: '250',
      MOCK_QUOTA_INSTANCES: '-1',
      LOG_PRETTY: 'yes',
      API_KEYS: ' a , b,,c ',
      MOCK_EXTRA_FLAVORS: 'huge:1:1000000:1, big.one:2:4096:10',
    });
    expect(c.PORT).toBe(8080);
    expect(c.MOCK_ACTION_DELAY_MS).toBe(250);
    expect(c.MOCK_QUOTA_INSTANCES).toBe(-1);
    expect(c.LOG_PRETTY).toBe(true);
    expect(c.API_KEYS).toEqual(['a', 'b', 'c']);
    expect(c.MOCK_EXTRA_FLAVORS).toEqual([
      { id: 'huge', name: 'huge', vcpus: 1, ram_mb: 1_000_000, disk_gb: 1 },
      { id: 'big.one', name: 'big.one', vcpus: 2, ram_mb: 4096, disk_gb: 10 },
    ]);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('LOG_PRETTY=%s is %s', (text, value) => {
    expect(config({ LOG_PRETTY: text }).LOG_PRETTY).toBe(value);
  });
});

describe('parseConfig bad values', () => {
  const bad: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['BACKEND', 'aws'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_PRETTY', 'maybe'],
    ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['SHUTDOWN_TIMEOUT_MS', '60001'],
    ['MOCK_ACTION_DELAY_MS', 'soon'],
    ['MOCK_CAPACITY_VCPUS', '0'],
    ['MOCK_CAPACITY_RAM_MB', '0'],
    ['MOCK_QUOTA_INSTANCES', '-2'],
    ['MOCK_QUOTA_VCPUS', 'lots'],
    ['MOCK_QUOTA_RAM_MB', '1.5'],
    ['MOCK_IP_CIDR', '192.168.1.0'],
    ['MOCK_IP_CIDR', '192.168.1.0/31'],
    ['MOCK_IP_CIDR', '192.168.1.0/0'],
    ['MOCK_IP_CIDR', 'ten.0.0.0/8'],
    ['MOCK_EXTRA_FLAVORS', 'huge:1:2'],
    ['MOCK_EXTRA_FLAVORS', 'ok:1:512:1,-bad:1:512:1'],
    ['MOCK_DELETED_RETENTION_S', '-1'],
    ['OS_AUTH_URL', 'not a url'],
    ['OS_INTERFACE', 'private'],
    ['OS_TIMEOUT_MS', '99'],
    ['OS_COMPUTE_API_VERSION', 'latest'],
    ['OS_COMPUTE_API_VERSION', '3.1'],
    ['OS_CATALOG_CACHE_S', '86401'],
  ];

  it.each(bad)('%s=%j gives exactly one problem line, naming the variable and the value', (name, value) => {
    const lines = problems({ [name]: value });
    expect(lines).toHaveLength(1);
    expect(named(lines[0] as string)).toBe(name);
    expect(lines[0]).toContain(value);
  });

  it('several bad values give one line each, every one named', () => {
    const lines = problems({ PORT: 'x', BACKEND: 'aws', OS_INTERFACE: 'private', HOST: 'ok' });
    expect(lines.map(named).sort()).toEqual(['BACKEND', 'OS_INTERFACE', 'PORT']);
  });

  it('a problem line says what is expected, not only that the value is wrong', () => {
    expect(problems({ PORT: '65536' })[0]).toMatch(/at most 65535/);
    expect(problems({ BACKEND: 'aws' })[0]).toMatch(/memory or openstack/);
  });

  it.each(['300.1.1.0/24', '192.168.1.256/24', '999.999.999.999/8'])(
    'MOCK_IP_CIDR=%s, whose octets are not 0..255, is a problem at start-up (not a crash when the pool is built)',
    (cidr) => {
      expect(problems({ MOCK_IP_CIDR: cidr }).map(named)).toEqual(['MOCK_IP_CIDR']);
    },
  );

  it.each(['PORT', 'MOCK_QUOTA_INSTANCES', 'SHUTDOWN_TIMEOUT_MS'])(
    '%s set to spaces only is not silently read as 0 (it is unset or a problem)',
    (name) => {
      const result = parseConfig({ [name]: '   ' });
      if (result.ok) expect(result.config[name as keyof Config]).toEqual(config({})[name as keyof Config]);
      else expect(result.problems.map(named)).toEqual([name]);
    },
  );

  it('OS_AUTH_URL without an http(s) scheme is a problem', () => {
    expect(problems({ OS_AUTH_URL: 'keystone.example:5000/v3' }).map(named)).toEqual(['OS_AUTH_URL']);
  });
});

describe('parseConfig connection limits', () => {
  it('bounds what clients may take by default, and reads each limit', () => {
    expect(config({})).toMatchObject({
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
      HTTP_MAX_CONNECTIONS: 1_000,
    });
    expect(config({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '500', HTTP_MAX_CONNECTIONS: '2' })).toMatchObject({
      HTTP_HEADERS_TIMEOUT_MS: 500,
      HTTP_MAX_CONNECTIONS: 2,
    });
  });

  it('refuses a headers timeout longer than the request timeout (Node would throw at start-up)', () => {
    expect(problems({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    ]);
    expect(problems({ HTTP_MAX_CONNECTIONS: '0' }).map(named)).toEqual(['HTTP_MAX_CONNECTIONS']);
  });
});

describe('parseConfig TRUST_PROXY', () => {
  it('is off by default, and takes a hop count or the proxies\' addresses', () => {
    expect(config({}).TRUST_PROXY).toBe(false);
    expect(config({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(config({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(config({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8 ,192.0.2.1' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
  });

  it('refuses true (any client could choose its address) and anything that is not an address', () => {
    expect(problems({ TRUST_PROXY: 'true' })[0]).toMatch(/^TRUST_PROXY: true would let any client choose its own address/);
    expect(problems({ TRUST_PROXY: 'loopback,proxy.example' })[0]).toMatch(/^TRUST_PROXY: "proxy.example" is not a hop count/);
    expect(problems({ TRUST_PROXY: '10.0.0.0/33' }).map(named)).toEqual(['TRUST_PROXY']);
  });
});

describe('parseConfig secrets', () => {
  it('never shows OS_PASSWORD in a problem line', () => {
    const lines = problems({ ...openstackByPassword, OS_USERNAME: undefined });
    expect(lines.map(named)).toContain('OS_USERNAME');
    expect(lines.join('\n')).not.toContain(openstackByPassword.OS_PASSWORD);
  });

  it('never shows OS_APPLICATION_CREDENTIAL_SECRET in a problem line', () => {
    const secret = 'app-secret-Qx93';
    const lines = problems({ BACKEND: 'openstack', OS_AUTH_URL: 'http://127.0.0.1/identity/v3', OS_APPLICATION_CREDENTIAL_SECRET: secret });
    expect(lines.map(named)).toEqual(['OS_APPLICATION_CREDENTIAL_ID']);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('never shows the keys when API_READONLY_KEYS overlaps API_KEYS', () => {
    const lines = problems({ API_KEYS: 'full-key-7a1b,shared-key-5c2d', API_READONLY_KEYS: 'shared-key-5c2d' });
    expect(lines.map(named)).toEqual(['API_READONLY_KEYS']);
    expect(lines.join('\n')).not.toContain('key-');
  });

  it('a secret variable that the schema itself rejects is named without its value', () => {
    // process.env only holds strings; a non-string is the one way to make these fail the schema.
    for (const name of ['OS_PASSWORD', 'OS_APPLICATION_CREDENTIAL_SECRET', 'API_KEYS']) {
      const lines = problems({ [name]: 31337 as unknown as string });
      expect(lines.map(named)).toEqual([name]);
      expect(lines[0]).not.toContain('31337');
    }
  });
});

describe('parseConfig empty and unknown variables', () => {
  it('empty strings count as unset: defaults apply', () => {
    const c = config({ PORT: '', BACKEND: '', MOCK_IP_CIDR: '', OS_REGION_NAME: '', API_KEYS: '' });
    expect(c).toEqual(config({}));
    expect(c.OS_REGION_NAME).toBeUndefined();
  });

  it('an empty required OpenStack variable counts as missing', () => {
    expect(problems({ ...openstackByPassword, OS_PASSWORD: '' }).map(named)).toEqual(['OS_PASSWORD']);
  });

  it('variables the API does not read (as in an openrc) are ignored, not errors, and not kept', () => {
    const c = config({ ...openstackByPassword, OS_IDENTITY_API_VERSION: '3', OS_AUTH_TYPE: 'password', OS_VOLUME_API_VERSION: 'x', PATH: '/usr/bin' });
    expect(c).not.toHaveProperty('OS_IDENTITY_API_VERSION');
    expect(c).not.toHaveProperty('PATH');
  });
});

describe('parseConfig OpenStack cross-field rules', () => {
  it('the memory backend needs no OpenStack variable', () => {
    expect(config({ BACKEND: 'memory' }).BACKEND).toBe('memory');
  });

  it('BACKEND=openstack with nothing else names every missing variable', () => {
    expect(problems({ BACKEND: 'openstack' }).map(named)).toEqual(['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME']);
  });

  it('a user name, password, project and auth URL are enough', () => {
    const c = config(openstackByPassword);
    expect(c.BACKEND).toBe('openstack');
    expect(c.OS_USER_DOMAIN_NAME).toBe('Default');
    expect(c.OS_PROJECT_DOMAIN_NAME).toBe('Default');
  });

  it('OS_PROJECT_ID may stand in for OS_PROJECT_NAME', () => {
    expect(config({ ...openstackByPassword, OS_PROJECT_NAME: undefined, OS_PROJECT_ID: 'b1f2' }).OS_PROJECT_ID).toBe('b1f2');
  });

  it('a user name without a password names OS_PASSWORD; without a project names OS_PROJECT_NAME', () => {
    expect(problems({ ...openstackByPassword, OS_PASSWORD: undefined }).map(named)).toEqual(['OS_PASSWORD']);
    expect(problems({ ...openstackByPassword, OS_PROJECT_NAME: undefined }).map(named)).toEqual(['OS_PROJECT_NAME']);
  });

  it('an application credential (id and secret) needs no user name, password or project', () => {
    const c = config({
      BACKEND: 'openstack',
      OS_AUTH_URL: 'http://127.0.0.1/identity/v3',
      OS_APPLICATION_CREDENTIAL_ID: 'ac-1',
      OS_APPLICATION_CREDENTIAL_SECRET: 'ac-secret',
    });
    expect(c.OS_APPLICATION_CREDENTIAL_ID).toBe('ac-1');
  });

  it('an application credential id without its secret names OS_APPLICATION_CREDENTIAL_SECRET', () => {
    expect(
      problems({ BACKEND: 'openstack', OS_AUTH_URL: 'http://127.0.0.1/identity/v3', OS_APPLICATION_CREDENTIAL_ID: 'ac-1' }).map(named),
    ).toEqual(['OS_APPLICATION_CREDENTIAL_SECRET']);
  });

  it('an application credential still needs OS_AUTH_URL', () => {
    expect(
      problems({ BACKEND: 'openstack', OS_APPLICATION_CREDENTIAL_ID: 'ac-1', OS_APPLICATION_CREDENTIAL_SECRET: 'ac-secret' }).map(named),
    ).toEqual(['OS_AUTH_URL']);
  });

  it('OS_CLOUD alone is enough: clouds.yaml holds the rest', () => {
    expect(config({ BACKEND: 'openstack', OS_CLOUD: 'devstack' }).OS_CLOUD).toBe('devstack');
  });

  it('keys are checked in Keystone every minute without Redis, every 10 minutes with it (its channel brings revocations)', () => {
    expect(keyRevalidateSeconds(config({ ...openstackByPassword }))).toBe(60);
    expect(keyRevalidateSeconds(config({ ...openstackByPassword, REDIS_URL: 'redis://127.0.0.1:6379' }))).toBe(600);
    expect(keyRevalidateSeconds(config({ ...openstackByPassword, OS_KEY_REVALIDATE_S: '5' }))).toBe(5);
  });

  it('OS_KEY_REVALIDATE_S over 60 needs REDIS_URL: without it the check is how other processes learn of a revocation', () => {
    expect(problems({ ...openstackByPassword, OS_KEY_REVALIDATE_S: '61' }).map(named)).toEqual(['OS_KEY_REVALIDATE_S']);
    expect(keyRevalidateSeconds(config({ ...openstackByPassword, OS_KEY_REVALIDATE_S: '3600', REDIS_URL: 'redis://127.0.0.1:6379' }))).toBe(3600);
    expect(problems({ ...openstackByPassword, OS_KEY_REVALIDATE_S: '3601', REDIS_URL: 'redis://127.0.0.1:6379' }).map(named)).toEqual(['OS_KEY_REVALIDATE_S']);
  });
});

describe('parseConfig API keys', () => {
  it('a key in both API_KEYS and API_READONLY_KEYS is a problem on API_READONLY_KEYS', () => {
    expect(problems({ API_KEYS: 'a,b', API_READONLY_KEYS: 'c, b' }).map(named)).toEqual(['API_READONLY_KEYS']);
  });

  it('disjoint key lists are fine', () => {
    const c = config({ API_KEYS: 'a,b', API_READONLY_KEYS: 'c' });
    expect(c.API_KEYS).toEqual(['a', 'b']);
    expect(c.API_READONLY_KEYS).toEqual(['c']);
  });
});

describe('parseConfig AUTH_MODE and ADMIN_API_KEY', () => {
  it('defaults to AUTH_MODE=none without an admin key', () => {
    const c = config({});
    expect(c.AUTH_MODE).toBe('none');
    expect(c.ADMIN_API_KEY).toBeUndefined();
  });

  it('AUTH_MODE=keys needs ADMIN_API_KEY', () => {
    expect(problems({ AUTH_MODE: 'keys' }).map(named)).toEqual(['ADMIN_API_KEY']);
    expect(config({ AUTH_MODE: 'keys', ADMIN_API_KEY: 'k'.repeat(32) }).AUTH_MODE).toBe('keys');
  });

  it('refuses a short admin key or an unknown mode, without echoing the key', () => {
    const lines = problems({ AUTH_MODE: 'tokens', ADMIN_API_KEY: 'short-admin-key-4e1f' });
    expect(lines.map(named).sort()).toEqual(['ADMIN_API_KEY', 'AUTH_MODE']);
    expect(lines.join('\n')).not.toContain('short-admin-key-4e1f');
  });
});
