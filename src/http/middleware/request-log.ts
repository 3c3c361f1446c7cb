import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import { requestIdFor } from './request-id.js';

/**
 * One JSON line per request (method, url, route template, status, duration, request id) and its
 * duration in the metrics, both from one 'finish' listener. Written here rather than with
 * pino-http: that one builds two child loggers per request, which cost 27-29% of the throughput of
 * GET /vms/{id} in `npm run bench` (see ARCHITECTURE.md), for features this API does not use.
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const requestId = requestIdFor(req, res);
    res.locals.requestId = requestId;
    res.once('close', () => {
      const durationMs = performance.now() - started;
      const route = routeOf(req, res);
      const finished = res.writableFinished;
      const status = finished ? res.statusCode : 499;
      metrics.observeRequest(req.method, route, status, durationMs / 1000);
      const level = !finished || status >= 400 ? (status >= 500 ? 'error' : 'warn') : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          request_id: requestId,
          req: { method: req.method, url: req.originalUrl },
          res: { status },
          route,
          duration_ms: Math.round(durationMs * 1000) / 1000,
        },
        finished ? 'request completed' : 'request aborted by the client',
      );
    });
    next();
  };
}

/**
 * The route template (never the raw URL, whose ids would explode the metric's cardinality): API
 * endpoints record their OpenAPI path as they match (`/api/v1/vms/{id}`), other routes give Express's.
 */
function routeOf(req: Request, res: Response): string {
  const recorded = (res.locals as { route?: string }).route;
  const route = req.route as { path?: string } | undefined;
  return recorded ?? route?.path ?? 'unmatched';
}
