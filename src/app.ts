import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { EndpointRouter } from './http/endpoint.js';
import { answerJson } from './http/json-answer.js';
import { audit } from './http/middleware/audit.js';
import { AuthFailureBudget } from './http/middleware/auth-failures.js';
import { authenticate } from './http/middleware/authenticate.js';
import { rateLimiter } from './http/middleware/rate-limit.js';
import { requestLog } from './http/middleware/request-log.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { sequence } from './http/middleware/sequence.js';
import { underPath } from './http/middleware/under-path.js';
import { apiSecurity } from './http/openapi/security.js';
import { problemResponder, routeNotFound } from './http/problem.js';
import { EventHub } from './events/event-hub.js';
import { vmEventFeed, volumeEventFeed } from './events/resource-events.js';
import { sharedEventPublisher } from './events/shared-events.js';
import { eventRoutes } from './http/routes/events.js';
import { consoleRoutes } from './http/routes/console.js';
import { catalogRoutes } from './http/routes/catalog.js';
import { operationRoutes } from './http/routes/operations.js';
import { quotaRoutes } from './http/routes/quotas.js';
import { tenantRoutes } from './http/routes/tenants.js';
import { vmRoutes } from './http/routes/vms.js';
import { securityGroupRoutes } from './http/routes/security-groups.js';
import { SecurityGroupService } from './service/security-group-service.js';
import { networkRoutes } from './http/routes/networks.js';
import { NetworkService } from './service/network-service.js';
import { volumeRoutes } from './http/routes/volumes.js';
import { VolumeService } from './service/volume-service.js';
import { createMetrics } from './observability/metrics.js';
import type { Backend } from './repository/backend.js';
import { TenantService } from './service/tenant-service.js';
import { VmService } from './service/vm-service.js';
import { InProcessState } from './shared-state/in-process-state.js';
import { SharedKeyDirectory } from './shared-state/shared-key-directory.js';
import type { SharedState } from './shared-state/shared-state.js';

const API_BASE = '/api/v1';

export type AppConfig = Pick<
  Config,
  | 'AUTH_MODE'
  | 'ADMIN_API_KEY'
  | 'API_KEYS'
  | 'API_READONLY_KEYS'
  | 'RATE_LIMIT_PER_MINUTE'
  | 'AUTH_FAILURES_PER_MINUTE'
  | 'EVENTS_REPLAY_COUNT'
  | 'EVENTS_REPLAY_AGE_S'
  | 'EVENTS_HEARTBEAT_MS'
  | 'EVENTS_MAX_BUFFERED_KB'
> &
  Partial<Pick<Config, 'TRUST_PROXY'>>;

export interface AppDependencies {
  config: AppConfig;
  backend: Backend;
  logger: Logger;
  /** Aborted when the server shuts down, so waiting requests answer at once. */
  shutdownSignal?: AbortSignal;
  /** What several processes share (REDIS_URL); absent: kept in this process. */
  sharedState?: SharedState;
  version?: string;
}

/** Builds the whole Express app from its dependencies; it neither listens nor touches globals. */
export function buildApp({ config, backend, logger, shutdownSignal, sharedState = new InProcessState(), version = '0.1.0' }: AppDependencies): Express {
  const stopping = shutdownSignal ?? new AbortController().signal;
  const events = new EventHub({ replayCount: config.EVENTS_REPLAY_COUNT, replayAgeMs: config.EVENTS_REPLAY_AGE_S * 1000 });
  // With REDIS_URL, events go through the shared stream, which feeds this hub as every other process's.
  const publisher = sharedState.events ? sharedEventPublisher(sharedState.events, events, { maxLen: config.EVENTS_REPLAY_COUNT, logger }) : events;
  const service = new VmService(backend, logger, stopping, vmEventFeed(publisher), sharedState);
  const metrics = createMetrics(() => backend.vms.countByStatus());
  const volumes = new VolumeService(backend.volumes, backend.vms, logger, stopping, sharedState, volumeEventFeed(publisher));
  // With REDIS_URL, keys made on one process are known to all, and a revocation reaches all; a
  // directory every process sees already (Keystone) needs no copy of its keys on Redis.
  const directory = sharedState.keys && !backend.tenants.sharedByProcesses ? new SharedKeyDirectory(backend.tenants, sharedState.keys) : backend.tenants;
  const tenants = new TenantService(directory, backend, Date.now, sharedState.revocations);
  const keysRequired = config.AUTH_MODE === 'keys' || config.API_KEYS.length + config.API_READONLY_KEYS.length > 0;
  const registry = new OpenAPIRegistry();
  const api = new EndpointRouter(registry, API_BASE, apiSecurity(registry, keysRequired));
  vmRoutes(api, service);
  catalogRoutes(api, service);
  tenantRoutes(api, tenants);
  quotaRoutes(api, service, volumes);
  securityGroupRoutes(api, new SecurityGroupService(backend.securityGroups, backend.vms));
  networkRoutes(api, new NetworkService(backend.networks, backend.floatingIps, backend.vms));
  volumeRoutes(api, volumes);
  eventRoutes(api, events, {
    heartbeatMs: config.EVENTS_HEARTBEAT_MS,
    maxBufferedBytes: config.EVENTS_MAX_BUFFERED_KB * 1024,
    shutdownSignal: stopping,
    logger,
  });

  const app = express();
  app.disable('x-powered-by');
  // The API sets its own ETags (VM versions); Express's body hashes would only confuse If-Match.
  app.set('etag', false);
  // Every JSON answer through one writer without Express's per-answer Content-Type parsing (json-answer.ts).
  app.response.json = answerJson;
  // Who req.ip is behind a reverse proxy (the rate limit's key): off unless TRUST_PROXY names the proxies.
  app.set('trust proxy', config.TRUST_PROXY ?? false);

  // Audit first, so that refused calls (401, 403, 429) are audited too; then the key becomes the
  // request's scope, which the rate limit counts by. The limit is mounted only when configured.
  const sharedHits = sharedState.hits && { hits: sharedState.hits, logger };
  const authenticated = authenticate({
    mode: config.AUTH_MODE,
    adminKey: config.ADMIN_API_KEY,
    memberKeys: config.API_KEYS,
    readerKeys: config.API_READONLY_KEYS,
    directory,
    revoked: (keyId) => sharedState.revocations.has(keyId),
    ...(config.AUTH_FAILURES_PER_MINUTE > 0 && { failures: new AuthFailureBudget(config.AUTH_FAILURES_PER_MINUTE, sharedHits) }),
  });
  const limited = config.RATE_LIMIT_PER_MINUTE > 0 ? [rateLimiter(config.RATE_LIMIT_PER_MINUTE, sharedHits)] : [];
  // What every request passes through, as one Express layer (sequence.ts says why).
  app.use(sequence(requestLog(logger, metrics), securityHeaders(), underPath(API_BASE, sequence(audit(logger), authenticated, ...limited))));
  // The API first: it takes nearly all the traffic, and need not walk the operations' routes.
  app.use(api.router);
  app.use(consoleRoutes());
  app.use(operationRoutes({ registry, backend, metrics, version, sharedState }));
  app.use(routeNotFound);
  app.use(problemResponder(logger));
  return app;
}
