import { isIP } from 'node:net';
import { z } from 'zod';

/** Parses a boolean the way people write them in .env files. */
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/** -1 means unlimited, as in Nova's quota API. */
const quota = int(-1, Number.MAX_SAFE_INTEGER);

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/([1-9]|[12]\d|30)$/, {
    error: 'must be an IPv4 CIDR with a prefix from /1 to /30, e.g. 192.168.1.0/24',
    abort: true,
  })
  .refine((v) => (v.split('/')[0] ?? '').split('.').every((octet) => Number(octet) <= 255), {
    error: 'must be an IPv4 CIDR whose octets are 0 to 255, e.g. 192.168.1.0/24',
  });

/** `name:vcpus:ram_mb:disk_gb`, comma-separated, e.g. `huge:1:1000000:1`. */
const flavorList = z.string().transform((value, ctx) => {
  const flavors = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter((e) => e.length > 0)) {
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]{0,62}):(\d{1,7}):(\d{1,9}):(\d{1,7})$/.exec(entry);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not name:vcpus:ram_mb:disk_gb` });
      return z.NEVER;
    }
    const [, name = '', vcpus, ram, disk] = match;
    flavors.push({ id: name, name, vcpus: Number(vcpus), ram_mb: Number(ram), disk_gb: Number(disk) });
  }
  return flavors;
});

const PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Express's `trust proxy`, in the forms that name who the proxies are: off (the default), a number
 * of proxy hops, or proxy addresses (IPs, CIDRs, or loopback / linklocal / uniquelocal),
 * comma-separated. `true` (trust every X-Forwarded-For) is refused: any client could then pick
 * its own address, and with it its own rate-limit bucket.
 */
const trustProxy = z.string().transform((value, ctx): false | number | string[] => {
  const text = value.trim().toLowerCase();
  if (text === 'false' || text === 'no' || text === '0') return false;
  if (/^\d{1,2}$/.test(text)) return Number(text);
  if (text === 'true' || text === 'yes') {
    ctx.addIssue({
      code: 'custom',
      message: 'true would let any client choose its own address; give the number of proxies in front (e.g. 1) or their addresses (e.g. loopback,10.0.0.0/8)',
    });
    return z.NEVER;
  }
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  const bad = entries.find((e) => !PROXY_PRESETS.includes(e) && !isAddressOrCidr(e));
  if (bad !== undefined || entries.length === 0) {
    ctx.addIssue({ code: 'custom', message: `"${bad ?? value}" is not a hop count, an IP, a CIDR, loopback, linklocal or uniquelocal` });
    return z.NEVER;
  }
  return entries;
});

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const keyList = z
  .string()
  .transform((v) => v.split(',').map((k) => k.trim()).filter((k) => k.length > 0));

/**
 * Every variable the API reads, with its default. .env.example lists the same names; a test checks
 * that the two agree. Variables not named here (e.g. OS_IDENTITY_API_VERSION from an openrc) are
 * ignored on purpose.
 */
export const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  BACKEND: z.enum(['memory', 'openstack'], { error: 'must be memory or openstack' }).default('memory'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  LOG_PRETTY: flag.default(false),
  AUTH_MODE: z.enum(['none', 'keys'], { error: 'must be none or keys' }).default('none'),
  ADMIN_API_KEY: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  API_KEYS: keyList.default([]),
  API_READONLY_KEYS: keyList.default([]),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(0),
  AUTH_FAILURES_PER_MINUTE: int(0, 1_000_000).default(30),
  TRUST_PROXY: trustProxy.default(false),
  // Shared state for several API processes (docs/contract.md section 12); absent: kept in the process.
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379' }).optional(),
  SHUTDOWN_TIMEOUT_MS: int(0, 60_000).default(9_000),
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(1_000),

  EVENTS_REPLAY_COUNT: int(0, 1_000_000).default(1_000),
  EVENTS_REPLAY_AGE_S: int(1, 86_400).default(300),
  EVENTS_HEARTBEAT_MS: int(50, 600_000).default(15_000),
  EVENTS_MAX_BUFFERED_KB: int(1, 1_048_576).default(256),

  MOCK_ACTION_DELAY_MS: int(0, 600_000).default(0),
  MOCK_CAPACITY_VCPUS: int(1, 10_000_000).default(64),
  MOCK_CAPACITY_RAM_MB: int(1, 1_000_000_000).default(131_072),
  MOCK_QUOTA_INSTANCES: quota.default(100),
  MOCK_QUOTA_VCPUS: quota.default(200),
  MOCK_QUOTA_RAM_MB: quota.default(409_600),
  MOCK_IP_CIDR: cidr.default('192.168.1.0/24'),
  MOCK_FLOATING_CIDR: cidr.default('203.0.113.0/24'),
  MOCK_EXTRA_FLAVORS: flavorList.default([]),
  MOCK_DELETED_RETENTION_S: int(0, 30 * 86_400).default(3_600),
  // Count caps beside the time limits, so that churn cannot grow memory without bound (about
  // 0.4 KB a tombstone, 0.5 KB a key): oldest first out.
  MOCK_MAX_TOMBSTONES: int(0, 10_000_000).default(10_000),
  MOCK_MAX_IDEMPOTENCY_KEYS: int(1, 10_000_000).default(100_000),
  // Volumes (docs/contract.md section 10): the pool every tenant's volumes share, and each tenant's
  // quotas (Cinder's defaults).
  MOCK_STORAGE_GB: int(1, 1_000_000_000).default(10_240),
  MOCK_QUOTA_VOLUMES: quota.default(10),
  MOCK_QUOTA_GIGABYTES: quota.default(1_000),

  OS_CLOUD: z.string().min(1).optional(),
  OS_AUTH_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:5000/v3' }).optional(),
  OS_USERNAME: z.string().min(1).optional(),
  OS_PASSWORD: z.string().min(1).optional(),
  OS_PROJECT_NAME: z.string().min(1).optional(),
  OS_PROJECT_ID: z.string().min(1).optional(),
  OS_USER_DOMAIN_NAME: z.string().min(1).default('Default'),
  OS_PROJECT_DOMAIN_NAME: z.string().min(1).default('Default'),
  OS_REGION_NAME: z.string().min(1).optional(),
  OS_APPLICATION_CREDENTIAL_ID: z.string().min(1).optional(),
  OS_APPLICATION_CREDENTIAL_SECRET: z.string().min(1).optional(),
  OS_INTERFACE: z
    .enum(['public', 'internal', 'admin'], { error: 'must be public, internal or admin' })
    .default('public'),
  OS_NETWORK: z.string().min(1).default('auto'),
  OS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  OS_COMPUTE_API_VERSION: z
    .string()
    .regex(/^2\.\d+$/, { error: 'must be a Nova microversion such as 2.93' })
    .default('2.93'),
  OS_CATALOG_CACHE_S: int(0, 86_400).default(60),
  OS_TENANTS: z.enum(['keystone', 'process'], { error: 'must be keystone or process' }).default('keystone'),
  // Default and bound depend on REDIS_URL: keyRevalidateSeconds and crossFieldProblems (config.ts).
  OS_KEY_REVALIDATE_S: int(1, 3600).optional(),
});

export type Env = z.infer<typeof envSchema>;
