import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { HitCounter } from '../../shared-state/shared-state.js';
import { SharedRateLimitStore } from './shared-rate-store.js';
import { ApiError } from '../../domain/errors.js';
import { sendProblem } from '../problem.js';
import { requestContext } from '../request-context.js';

/**
 * A fixed window of one minute per API key (its id: keys of one tenant do not share a budget), or
 * per client address for a caller without one. Mounted after `authenticate`, which names the key.
 *
 * With `shared` (REDIS_URL) the counts live on Redis, so the limit holds across processes; when
 * Redis cannot answer, the request passes (fail open: a limit is a safeguard, not a rule whose
 * breach harms anyone) and a warn line `rate_limit.store_unavailable` says so.
 */
export function rateLimiter(perMinute: number, shared?: { hits: HitCounter; logger: Logger }): RequestHandler {
  return rateLimit({
    ...(shared && {
      store: new SharedRateLimitStore(shared.hits),
      passOnStoreError: true,
      logger: {
        warn: (error: unknown, message?: string) => shared.logger.warn({ event: 'rate_limit.store_warning', error: String(error) }, message ?? 'rate limit store'),
        error: (error: unknown) =>
          shared.logger.warn(
            { event: 'rate_limit.store_unavailable', error: error instanceof Error ? error.message : String(error) },
            'rate limit not applied: its store (Redis) cannot be reached; request allowed',
          ),
      },
    }),
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Any client can send X-Forwarded-For; without TRUST_PROXY it is ignored on purpose, and the
    // library's console.error about it would land on stderr, outside the JSON log.
    validate: { xForwardedForHeader: false },
    keyGenerator(req, res) {
      const keyId = requestContext(res).scope?.keyId;
      return keyId ? `key:${keyId}` : `address:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler(req, res) {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.setHeader('Retry-After', String(seconds));
      sendProblem(req, res, new ApiError('RATE_LIMITED', `More than ${perMinute} requests a minute; retry in ${seconds} s`));
    },
  });
}
