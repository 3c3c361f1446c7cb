import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Metrics } from '../../observability/metrics.js';
import type { Backend } from '../../repository/vm-repository.js';
import { ApiError, type ErrorCode } from '../../domain/errors.js';
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

/** Routes outside /api/v1: probes, metrics, the OpenAPI document and its UI, and the error pages. */
export function operationRoutes(options: { registry: OpenAPIRegistry; backend: Backend; metrics: Metrics; version: string }): Router {
  const { registry, backend, metrics } = options;
  const router = Router();

  registry.registerPath({
    method: 'get',
    path: '/healthz',
    security: openAccess,
    summary: 'The process is alive',
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
    summary: 'The backend is reachable',
    tags: ['Operations'],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
      503: { description: 'Not ready; `checks` says which dependency failed and why', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  });
  router.get('/readyz', async (req, res, next) => {
    try {
      const readiness = await backend.checkReady();
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
    summary: 'Prometheus metrics',
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

  let document: object | undefined;
  const openApiDocument = () =>
    (document ??= new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'VM lifecycle API',
        version: options.version,
        description:
          'Create, start, stop, restart, pause, suspend, resume, resize and delete virtual machines over plain HTTP. ' +
          'Errors are RFC 9457 problem+json; see /errors/{slug} for each problem type.',
      },
      servers: [{ url: '/' }],
    }));
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
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
