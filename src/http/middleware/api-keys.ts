import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from '../../domain/errors.js';
import { sendProblem } from '../problem.js';

const digest = (key: string) => createHash('sha256').update(key).digest();

function holds(digests: Buffer[], candidate: Buffer): boolean {
  // Compare against every key, always, so the time taken says nothing about which one matched.
  let found = false;
  for (const d of digests) found = timingSafeEqual(d, candidate) || found;
  return found;
}

/**
 * API keys, as `Authorization: Bearer <key>` or `X-API-Key: <key>`; read-only keys may only GET.
 * The app mounts this only when keys are configured.
 */
export function apiKeys(options: { keys: string[]; readonlyKeys: string[] }): RequestHandler {
  const full = options.keys.map(digest);
  const readonly = options.readonlyKeys.map(digest);
  return (req, res, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const presented = bearer ?? req.headers['x-api-key'];
    if (typeof presented !== 'string' || presented.length === 0) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendProblem(req, res, new ApiError('UNAUTHENTICATED', 'This API needs a key: Authorization: Bearer <key> or X-API-Key'));
      return;
    }
    const candidate = digest(presented);
    if (holds(full, candidate)) {
      next();
      return;
    }
    if (holds(readonly, candidate)) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        next();
        return;
      }
      sendProblem(req, res, new ApiError('FORBIDDEN', 'This API key is read-only'));
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    sendProblem(req, res, new ApiError('UNAUTHENTICATED', 'Unknown API key'));
  };
}
