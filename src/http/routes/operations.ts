import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Metrics } from '../../observability/metrics.js';
import type { Backend } from '../../repository/backend.js';
import type { SharedState } from '../../shared-state/shared-state.js';
import { ApiError, type ErrorCode } from '../../domain/errors.js';
import { openApiDocument } from '../openapi/document.js';
import { openAccess } from '../openapi/security.js';
import { z } from '../openapi/zod.js';
import { codeBySlug, problemCatalog } from '../problem-catalog.js';
import { sendProblem } from '../problem.js';
import { ProblemSchema } from '../schemas.js';

const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');
const ReadinessSchema = z
  .object({
    status: z.literal('ready'),
    backend: z.string(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })),
  })
  .openapi('Readiness');

const ProblemTypeSchema = z
  .object({
    code: z.string().openapi({ example: 'INVALID_STATE_TRANSITION' }),
    status: z.number().int().openapi({ example: 409 }),
    title: z.string().openapi({ example: 'Invalid state transition' }),
    description: z.string().openapi({ example: 'The action is not allowed from the VM\'s current status; `allowed_actions` lists what is.' }),
  })
  .openapi('ProblemType');

const ProblemTypeParams = z.strictObject({
  slug: z.string().openapi({ param: { name: 'slug', in: 'path', description: 'A problem\'s `type` is /errors/{slug}' }, example: 'invalid-state-transition' }),
});

const problemJson = { 'application/problem+json': { schema: ProblemSchema } };

/** Routes outside /api/v1: probes, metrics, the OpenAPI document and its UI, and the error pages. */
export function operationRoutes(options: {
  registry: OpenAPIRegistry;
  backend: Backend;
  metrics: Metrics;
  version: string;
  /** With REDIS_URL, its check joins the backend's: a process that cannot reach Redis is not ready. */
  sharedState?: Pick<SharedState, 'check'>;
}): Router {
  const { registry, backend, metrics, sharedState } = options;
  const router = Router();

  registry.registerPath({
    method: 'get',
    path: '/healthz',
    security: openAccess,
    operationId: 'getHealth',
    summary: 'The process is alive',
    description: 'Liveness: answers as long as the process serves HTTP; it does not look at the backend.',
    tags: ['Operations'],
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: HealthSchema } } } },
  });
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  registry.registerPath({
    method: 'get',
    path: '/readyz',
    security: openAccess,
    operationId: 'getReadiness',
    summary: 'The backend is reachable',
    description: 'Readiness: asks the backend (with OpenStack: Keystone and Nova) and, with REDIS_URL, Redis, and lists each check and its result.',
    tags: ['Operations'],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
      503: { description: 'Not ready; `checks` says which dependency failed and why', content: problemJson },
    },
  });
  router.get('/readyz', async (req, res, next) => {
    try {
      const [backendReadiness, shared] = await Promise.all([backend.checkReady(), sharedState?.check()]);
      const readiness = shared
        ? { ready: backendReadiness.ready && shared.ok, checks: [...backendReadiness.checks, shared] }
        : backendReadiness;
      if (readiness.ready) {
        res.json({ status: 'ready', backend: backend.name, checks: readiness.checks });
        return;
      }
      const failing = readiness.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
      const error = new ApiError('BACKEND_UNAVAILABLE', `Not ready: ${failing.join('; ')}`, { checks: readiness.checks });
      sendProblem(req, res, error);
    } catch (error) {
      next(error);
    }
  });

  registry.registerPath({
    method: 'get',
    path: '/metrics',
    security: openAccess,
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description: 'Request durations by method, route template and status, VMs by status, and the process\'s own metrics.',
    tags: ['Operations'],
    responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
  });
  router.get('/metrics', async (_req, res, next) => {
    try {
      const text = await metrics.registry.metrics();
      res.type(metrics.registry.contentType).send(text);
    } catch (error) {
      next(error);
    }
  });

  registry.registerPath({
    method: 'get',
    path: '/errors/{slug}',
    security: openAccess,
    operationId: 'getProblemType',
    summary: 'What a problem type means',
    description: 'The page a problem\'s `type` points at: its code, status, title and when it happens.',
    tags: ['Operations'],
    request: { params: ProblemTypeParams },
    responses: {
      200: { description: 'The problem type', content: { 'application/json': { schema: ProblemTypeSchema } } },
      404: { description: '`NOT_FOUND`: no problem type with this slug', content: problemJson },
    },
  });

  // Built on first request, once every route has been registered.
  let document: object | undefined;
  router.get('/openapi.json', (_req, res) => {
    res.json((document ??= openApiDocument(registry, options.version)));
  });
  router.use('/docs', swaggerUi.serve);
  router.get('/docs', swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }));

  router.get('/errors/:slug', (req, res) => {
    const code = codeBySlug.get(req.params.slug);
    if (!code) {
      sendProblem(req, res, new ApiError('NOT_FOUND', `No problem type ${req.params.slug}`));
      return;
    }
    res.json({ code, ...problemCatalog[code as ErrorCode] });
  });

  return router;
}
