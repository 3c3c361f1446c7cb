import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { EndpointRouter } from './http/endpoint.js';
import { apiKeys } from './http/middleware/api-keys.js';
import { jsonBody } from './http/middleware/body.js';
import { rateLimiter } from './http/middleware/rate-limit.js';
import { requestIdFor } from './http/middleware/request-id.js';
import { problemResponder, routeNotFound } from './http/problem.js';
import { catalogRoutes } from './http/routes/catalog.js';
import { operationRoutes } from './http/routes/operations.js';
import { vmRoutes } from './http/routes/vms.js';
import { createMetrics } from './observability/metrics.js';
import type { Backend } from './repository/vm-repository.js';
import { VmService } from './vms/vm-service.js';

export const API_BASE = '/api/v1';

export type AppConfig = Pick<Config, 'API_KEYS' | 'API_READONLY_KEYS' | 'RATE_LIMIT_PER_MINUTE'>;

export interface AppDependencies {
  config: AppConfig;
  backend: Backend;
  logger: Logger;
  /** Aborted when the server shuts down, so waiting requests answer at once. */
  shutdownSignal?: AbortSignal;
  version?: string;
}

/** Builds the whole Express app from its dependencies; it neither listens nor touches globals. */
export function buildApp({ config, backend, logger, shutdownSignal, version = '0.1.0' }: AppDependencies): Express {
  const service = new VmService(backend, logger, shutdownSignal ?? new AbortController().signal);
  const metrics = createMetrics(() => backend.vms.countByStatus());
  const registry = new OpenAPIRegistry();
  const api = new EndpointRouter(registry, API_BASE);
  vmRoutes(api, service);
  catalogRoutes(api, service);

  const app = express();
  app.disable('x-powered-by');
  // The API sets its own ETags (VM versions); Express's body hashes would only confuse If-Match.
  app.set('etag', false);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = requestIdFor(req, res);
        (res as express.Response).locals.requestId = id;
        return id;
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      // Every line logged for a request, the completion line included, carries its id.
      quietReqLogger: true,
      customAttributeKeys: { responseTime: 'duration_ms', reqId: 'request_id' },
      customSuccessObject: (req, res, value: Record<string, unknown>) => ({ ...value, route: routeOf(req as express.Request, res as express.Response) }),
      customErrorObject: (req, res, _error, value: Record<string, unknown>) => ({ ...value, route: routeOf(req as express.Request, res as express.Response) }),
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
    }),
  );
  app.use((req, res, next) => {
    const stop = metrics.requestDuration.startTimer();
    res.once('finish', () => stop({ method: req.method, route: routeOf(req, res), status: String(res.statusCode) }));
    next();
  });

  app.use(operationRoutes({ registry, backend, metrics, version }));
  app.use(
    API_BASE,
    rateLimiter(config.RATE_LIMIT_PER_MINUTE),
    apiKeys({ keys: config.API_KEYS, readonlyKeys: config.API_READONLY_KEYS }),
    jsonBody,
    api.router,
  );
  app.use(routeNotFound);
  app.use(problemResponder);
  return app;
}

/**
 * The route template (never the raw URL, whose ids would explode the metric's cardinality). API
 * endpoints record theirs as they match, because Express has reset req.baseUrl by 'finish'.
 */
function routeOf(req: express.Request, res: express.Response): string {
  const recorded = (res.locals as { route?: string }).route;
  const route = req.route as { path?: string } | undefined;
  return recorded ?? route?.path ?? 'unmatched';
}
