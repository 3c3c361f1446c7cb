import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from '../../vms/errors.js';
import { sendProblem } from '../problem.js';
import { requestContext } from '../request-context.js';

const digest = (key: string) => createHash('sha256').update(key).digest();

function holds(digests: Buffer[], candidate: Buffer): boolean {
  // Compare against every key, always, so the time taken says nothing about which one matched.
  let found = false;
  for (const d of digests) found = timingSafeEqual(d, candidate) || found;
  return found;
}

/**
 * Optional API keys: off when no key is configured. A key comes as `Authorization: Bearer <key>`
 * or `X-API-Key: <key>`; read-only keys may only GET.
 */
export function apiKeys(options: { keys: string[]; readonlyKeys: string[] }): RequestHandler {
  const full = options.keys.map(digest);
  const readonly = options.readonlyKeys.map(digest);
  const enabled = full.length + readonly.length > 0;
  return (req, res, next) => {
    const context = requestContext(res);
    context.canWrite = true;
    if (!enabled) {
      next();
      return;
    }
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
      context.canWrite = false;
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
