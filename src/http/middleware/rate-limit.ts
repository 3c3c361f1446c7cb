import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ApiError } from '../../domain/errors.js';
import { sendProblem } from '../problem.js';

/** Per-client-address fixed window of one minute. */
export function rateLimiter(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Any client can send X-Forwarded-For; without TRUST_PROXY it is ignored on purpose, and the
    // library's console.error about it would land on stderr, outside the JSON log.
    validate: { xForwardedForHeader: false },
    handler(req, res) {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.setHeader('Retry-After', String(seconds));
      sendProblem(req, res, new ApiError('RATE_LIMITED', `More than ${perMinute} requests a minute; retry in ${seconds} s`));
    },
  });
}
