import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import { requestIdFor } from './request-id.js';

/** Requests the server itself answered outside Express (408 to a client too slow to send its body). */
const cutOff = new WeakMap<ServerResponse, number>();

/** Says that Node answered this request with `status` itself (src/server.ts), so the log says so too. */
export function answeredOutsideExpress(res: ServerResponse, status: number): void {
  cutOff.set(res, status);
}

/** When the request came in (performance.now()), kept on the response for its 'close' listener. */
const startedAt = Symbol('startedAt');
type Timed = Response & { [startedAt]: number };

/**
 * One JSON line per request (method, url with secrets redacted, route template, status, duration,
 * request id) and its duration in the metrics, both from one 'close' listener. Written here rather than with
 * pino-http: that one builds two child loggers per request, which cost 27-29% of the throughput of
 * GET /vms/{id} in `npm run bench` (see ARCHITECTURE.md), for features this API does not use. The
 * listener is one function for all requests (`this` is the response), not a closure per request.
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  const onClose = (res: Timed): void => {
    const req = res.req;
    const durationMs = performance.now() - res[startedAt];
    const route = routeOf(req, res);
    // A client that hung up before its request was fully received (mid-body) gets no answer,
    // whatever the body parser then made of the stump: 499, as for one that left while waiting.
    const finished = res.writableFinished && !(req.destroyed && !req.complete);
    const byServer = cutOff.get(res);
    const status = byServer ?? (finished ? res.statusCode : 499);
    metrics.observeRequest(req.method, route, status, durationMs / 1000);
    const level = status >= 400 ? (status >= 500 ? 'error' : 'warn') : 'info';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        request_id: (res.locals as { requestId: string }).requestId,
        req: { method: req.method, url: loggedUrl(req.originalUrl) },
        res: { status },
        route,
        duration_ms: Math.round(durationMs * 1000) / 1000,
      },
      byServer ? 'request cut off by the server' : finished ? 'request completed' : 'request aborted by the client',
    );
  };
  function onCloseOf(this: Timed): void {
    onClose(this);
  }
  return (req, res, next) => {
    (res as Timed)[startedAt] = performance.now();
    res.locals.requestId = requestIdFor(req, res);
    // 'close' comes once per response, so `on` (once's wrapper would be one more object a request).
    res.on('close', onCloseOf);
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

/** Query parameters whose values are credentials by their name (`api_key`, `access_token`, `client_secret`, ...). */
const SECRET_PARAMETER = /pass|secret|token|key|auth|sig|credential|session|cookie/i;
/** Longer URLs are cut: a 16 KB query string is not worth 16 KB of log per request. */
const MAX_LOGGED_URL = 512;

/**
 * The URL for the log: the path as sent, and the query with the value of every parameter whose
 * name looks like a credential replaced. Clients put API keys in query strings whatever the docs
 * say, and the log must never hold one.
 */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  let logged = url;
  if (q >= 0) {
    const query = url
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const name = eq >= 0 ? pair.slice(0, eq) : pair;
        return SECRET_PARAMETER.test(safeDecode(name)) ? `${name}=[REDACTED]` : pair;
      })
      .join('&');
    logged = `${url.slice(0, q)}?${query}`;
  }
  return logged.length > MAX_LOGGED_URL ? `${logged.slice(0, MAX_LOGGED_URL)}...` : logged;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
