import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { requestContext } from '../request-context.js';

const reads = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * One `event: "audit"` line per mutating call, written when the answer is sent, refused ones (401,
 * 403, 429) included: who (tenant, key id, role), what (method, route template, resource id), the
 * outcome (status) and the request id. The key id names a key without being one; no secret, header
 * or body is ever in it.
 */
export function audit(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (reads.has(req.method)) return next();
    res.on('finish', () => {
      const { scope, route, requestId, resourceId } = requestContext(res);
      logger.info(
        {
          event: 'audit',
          tenant: scope?.tenant ?? null,
          key_id: scope?.keyId ?? null,
          role: scope?.role ?? null,
          method: req.method,
          route: route ?? 'unmatched',
          resource: resourceId ?? createdId(res.getHeader('Location')),
          outcome: res.statusCode,
          request_id: requestId,
        },
        'audit',
      );
    });
    next();
  };
}

/** A create names no id in its path: the new resource's id is the end of its Location. */
function createdId(location: unknown): string | null {
  return typeof location === 'string' ? location.slice(location.lastIndexOf('/') + 1) || null : null;
}
