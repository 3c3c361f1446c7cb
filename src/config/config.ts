import { envSchema, type Env } from './env-schema.js';

export type Config = Env;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/**
 * Validates the environment once, at start-up. Blank values count as unset, as a blank line in
 * .env (`OS_REGION_NAME=`) means "no value" to people (and zod would coerce "  " to the number 0).
 */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && !(typeof v === 'string' && v.trim() === '')));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = present[name];
        const shown = value === undefined || /PASSWORD|SECRET|KEY/.test(name) ? '' : ` (got "${value}")`;
        return `${name}: ${issue.message}${shown}`;
      }),
    };
  }
  const problems = crossFieldProblems(parsed.data);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: parsed.data };
}

/** Rules that involve more than one variable. */
function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.BACKEND === 'openstack' && !config.OS_CLOUD) {
    if (!config.OS_AUTH_URL) problems.push('OS_AUTH_URL: required with BACKEND=openstack unless OS_CLOUD is set');
    const appCredential = config.OS_APPLICATION_CREDENTIAL_ID || config.OS_APPLICATION_CREDENTIAL_SECRET;
    if (appCredential) {
      if (!config.OS_APPLICATION_CREDENTIAL_ID) problems.push('OS_APPLICATION_CREDENTIAL_ID: required with OS_APPLICATION_CREDENTIAL_SECRET');
      if (!config.OS_APPLICATION_CREDENTIAL_SECRET) problems.push('OS_APPLICATION_CREDENTIAL_SECRET: required with OS_APPLICATION_CREDENTIAL_ID');
    } else {
      if (!config.OS_USERNAME) problems.push('OS_USERNAME: required with BACKEND=openstack (or set OS_APPLICATION_CREDENTIAL_ID/SECRET or OS_CLOUD)');
      if (!config.OS_PASSWORD) problems.push('OS_PASSWORD: required with OS_USERNAME');
      if (!config.OS_PROJECT_NAME && !config.OS_PROJECT_ID) problems.push('OS_PROJECT_NAME: required with OS_USERNAME (or OS_PROJECT_ID)');
    }
  }
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (config.AUTH_MODE === 'keys' && !config.ADMIN_API_KEY) {
    problems.push('ADMIN_API_KEY: required with AUTH_MODE=keys (the operator\'s key, at least 32 characters: openssl rand -base64 32)');
  }
  if (!config.REDIS_URL && config.OS_KEY_REVALIDATE_S !== undefined && config.OS_KEY_REVALIDATE_S > MAX_REVALIDATE_WITHOUT_REDIS_S) {
    problems.push(`OS_KEY_REVALIDATE_S: at most ${MAX_REVALIDATE_WITHOUT_REDIS_S} without REDIS_URL (then only this check carries a key revoked through one process to the others)`);
  }
  const readonlyAndFull = config.API_READONLY_KEYS.filter((k) => config.API_KEYS.includes(k));
  if (readonlyAndFull.length > 0) problems.push('API_READONLY_KEYS: a key cannot be in API_KEYS too');
  return problems;
}

/** docs/contract.md section 8: a key revoked through one process is refused by the others within 60 s. */
const MAX_REVALIDATE_WITHOUT_REDIS_S = 60;

/**
 * How often a key proven by Keystone is checked again (OS_TENANTS=keystone). Without Redis that
 * check is how a revocation made through another process arrives, so it runs every minute. With
 * REDIS_URL the revocation channel brings those at once, and the check only catches credentials
 * deleted outside the API (the openstack CLI): every 10 minutes, which keeps Keystone at one token
 * per key per token lifetime under steady use (docs/contract.md section 8).
 */
export function keyRevalidateSeconds(config: Pick<Config, 'OS_KEY_REVALIDATE_S' | 'REDIS_URL'>): number {
  return config.OS_KEY_REVALIDATE_S ?? (config.REDIS_URL ? 600 : MAX_REVALIDATE_WITHOUT_REDIS_S);
}
