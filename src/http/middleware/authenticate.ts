import { hash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { ApiError } from '../../domain/errors.js';
import { DEFAULT_TENANT, KEY_SECRET_PREFIX, type Role, type Scope } from '../../domain/tenancy.js';
import type { TenantDirectory } from '../../repository/tenant-directory.js';
import { sendProblem } from '../problem.js';
import { requestContext, type RequestContext } from '../request-context.js';
import type { AuthFailureBudget } from './auth-failures.js';

export interface AuthOptions {
  mode: 'none' | 'keys';
  /** The operator's bootstrap key, role admin of the default tenant. */
  adminKey?: string | undefined;
  /** API_KEYS and API_READONLY_KEYS: member and reader keys of the default tenant. */
  memberKeys: readonly string[];
  readerKeys: readonly string[];
  directory: TenantDirectory;
  /** Revoked key ids (shared by every process with REDIS_URL); asked locally, never waited on. */
  revoked?: (keyId: string) => boolean;
  /** Failed authentications per client address (AUTH_FAILURES_PER_MINUTE); absent: not counted. */
  failures?: AuthFailureBudget;
}

interface ConfiguredKey {
  digest: Buffer;
  prefixed: boolean;
  id: string;
  role: Role;
}

const digest = (key: string) => hash('sha256', key, 'buffer');
const configuredKey = (key: string, id: string, role: Role): ConfiguredKey => ({ digest: digest(key), prefixed: key.startsWith(KEY_SECRET_PREFIX), id, role });

/** Compares against every configured key, always, so the time taken says nothing about which one matched. */
function configuredMatch(keys: readonly ConfiguredKey[], presented: string): ConfiguredKey | undefined {
  if (keys.length === 0) return undefined;
  const candidate = digest(presented);
  let found: ConfiguredKey | undefined;
  for (const key of keys) if (timingSafeEqual(key.digest, candidate) && !found) found = key;
  return found;
}

function presentedKey(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }): string | undefined {
  const bearer = headers.authorization === undefined ? undefined : /^Bearer\s+(.+)$/i.exec(headers.authorization)?.[1];
  const key = bearer ?? headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

/** The rate limit's grouping: an IPv6 client by its /56, as it could use any address in it. */
const addressOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

function refuse(res: Response, challenge: string, detail: string): void {
  res.setHeader('WWW-Authenticate', challenge);
  sendProblem(res.req, res, new ApiError('UNAUTHENTICATED', detail));
}

/**
 * Turns the request's key into its Scope (res.locals.scope), or answers 401. Keys come from the
 * environment (ADMIN_API_KEY, API_KEYS, API_READONLY_KEYS) or the tenant directory.
 *
 * AUTH_MODE=none keeps the behaviour from before tenants: without API_KEYS / API_READONLY_KEYS no
 * key is needed and every caller is an anonymous member of the default tenant; a key that is sent
 * and known is honoured (so the operator's admin key still works), an unknown one is ignored. With
 * API_KEYS set, a key is needed as before. AUTH_MODE=keys: every call needs a known key.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  const configured: ConfiguredKey[] = [
    ...(options.adminKey ? [configuredKey(options.adminKey, 'admin', 'admin')] : []),
    ...options.memberKeys.map((k, i) => configuredKey(k, `api-keys-${i + 1}`, 'member')),
    ...options.readerKeys.map((k, i) => configuredKey(k, `api-readonly-keys-${i + 1}`, 'reader')),
  ];
  const anonymousAllowed = options.mode === 'none' && options.memberKeys.length + options.readerKeys.length === 0;
  // A directory's key (prefixed) is not compared with the configured keys when none of them has
  // the prefix: one SHA-256 less on nearly every keyed call (~2 us, a few % of GET /vms/{id} in
  // `npm run bench`), and the shortcut depends on no configured key's value, only on that fact.
  const directoryKeysSkipConfigured = !configured.some((k) => k.prefixed);

  // Synchronous when no key is sent (the AUTH_MODE=none path of nearly every call): an async
  // handler costs a promise and a microtask per request, which GET /vms/{id} in `npm run bench` feels.
  return (req, res, next) => {
    const context = requestContext(res);
    const presented = presentedKey(req.headers);
    if (presented === undefined) {
      if (anonymousAllowed) return anonymous(context, next);
      return refuse(res, 'Bearer', 'This API needs a key: Authorization: Bearer <key> or X-API-Key');
    }
    return withKey(presented, req, context, res, next);
  };

  function anonymous(context: RequestContext, next: NextFunction): void {
    context.scope = { tenant: DEFAULT_TENANT, keyId: null, role: 'member', requestId: context.requestId };
    next();
  }

  async function withKey(presented: string, req: Request, context: RequestContext, res: Response, next: NextFunction): Promise<void> {
    const fromEnv = directoryKeysSkipConfigured && presented.startsWith(KEY_SECRET_PREFIX) ? undefined : configuredMatch(configured, presented);
    const failures = fromEnv ? undefined : options.failures;
    // An address over its budget of failures is refused before the directory is asked (Keystone,
    // Redis). Its address is read only while some address is refused: req.ip is not free.
    const waitS = failures?.refusing ? failures.retryAfterS(addressOf(req)) : 0;
    if (waitS > 0) {
      res.setHeader('Retry-After', String(waitS));
      return sendProblem(req, res, new ApiError('RATE_LIMITED', `Too many failed authentications from this address; retry in ${waitS} s`));
    }
    const fromDirectory = fromEnv ? undefined : await options.directory.authenticate(presented);
    const scope: Scope | undefined = fromEnv
      ? { tenant: DEFAULT_TENANT, keyId: fromEnv.id, role: fromEnv.role, requestId: context.requestId }
      : fromDirectory && { tenant: fromDirectory.tenant, keyId: fromDirectory.id, role: fromDirectory.role, requestId: context.requestId };
    if (scope && !(scope.keyId !== null && options.revoked?.(scope.keyId))) {
      context.scope = scope;
      return next();
    }
    await failures?.fail(addressOf(req));
    if (anonymousAllowed) return anonymous(context, next);
    refuse(res, 'Bearer error="invalid_token"', 'Unknown, expired or revoked API key');
  }
}
