import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z, type ZodType } from 'zod';
import { ApiError, type ErrorCode, type FieldError } from '../domain/errors.js';
import { roleAllows, type Role, type Scope } from '../domain/tenancy.js';
import { jsonBody } from './middleware/body.js';
import type { ApiTag } from './openapi/document.js';
import type { SecurityRequirement } from './openapi/security.js';
import { descriptionOf, statusesOf } from './problem-catalog.js';
import { scopeOf } from './request-context.js';
import { ProblemSchema } from './schemas.js';

type Method = 'get' | 'post' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  /** The schema's media type; application/json unless said (text/event-stream for the stream). */
  mediaType?: string;
  headers?: Record<string, { description: string; schema: { type: 'string' | 'integer' } }>;
}

export interface Endpoint<P extends ZodType, Q extends ZodType, B extends ZodType> {
  method: Method;
  /** OpenAPI style, e.g. /vms/{id}/start. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: ApiTag;
  params?: P;
  query?: Q;
  /** A schema for the JSON body; an absent body is read as `{}`, unless `bodyRequired`. */
  body?: B;
  bodyRequired?: boolean;
  /** Request headers, for the document only (they are read by the handler). */
  headers?: z.ZodObject;
  responses: Record<number, ResponseSpec>;
  /** The problems this endpoint can answer with; the document lists each by status. */
  problems: ErrorCode[];
  /** The weakest role that may call it: `reader` for a GET, `member` otherwise, unless said. */
  role?: Role;
  handler: (
    input: { params: z.output<P>; query: z.output<Q>; body: z.output<B>; scope: Scope },
    req: Request,
    res: Response,
  ) => Promise<void>;
}

/** The query of an endpoint that takes none: any parameter is a typo worth a 400. */
const NoQuery = z.strictObject({});

/** Headers some problem answers carry, by status (middleware/rate-limit.ts, middleware/api-keys.ts). */
const problemHeaders: Record<number, ResponseSpec['headers']> = {
  401: { 'WWW-Authenticate': { description: '`Bearer`, with `error="invalid_token"` for an unknown key.', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds until the rate-limit window resets.', schema: { type: 'integer' } } },
};

/** Problems any endpoint under /api/v1 can answer with, whatever it does. */
const everywhere: ErrorCode[] = ['VALIDATION_ERROR', 'UNAUTHENTICATED', 'RATE_LIMITED', 'INTERNAL_ERROR'];

/** The role an endpoint needs when it does not say: reading is for every key, changing for members. */
export function roleNeeded(endpoint: { method: Method; role?: Role }): Role {
  return endpoint.role ?? (endpoint.method === 'get' ? 'reader' : 'member');
}

/**
 * Declares an endpoint once: the same definition mounts the Express route, validates its input
 * with zod (keeping what zod returns: coerced, defaulted), and documents it in the OpenAPI registry.
 */
export class EndpointRouter {
  readonly router = Router();

  constructor(
    private readonly registry: OpenAPIRegistry,
    private readonly basePath: string,
    /** The security requirement of every endpoint here (openapi/security.ts). */
    private readonly security: SecurityRequirement[],
  ) {}

  add<P extends ZodType, Q extends ZodType, B extends ZodType>(endpoint: Endpoint<P, Q, B>): void {
    this.document(endpoint);
    const template = `${this.basePath}${endpoint.path}`;
    const expressPath = template.replace(/\{(\w+)\}/g, ':$1');
    // Full paths on one router (no mounted sub-router to strip a prefix on every request), and
    // the JSON parser only where a body is expected.
    const handlers: RequestHandler[] = endpoint.body ? [jsonBody] : [];
    const needed = roleNeeded(endpoint);
    this.router[endpoint.method](expressPath, ...handlers, async (req: Request, res: Response, next: NextFunction) => {
      res.locals.route = template;
      if (typeof req.params.id === 'string') res.locals.resourceId = req.params.id;
      try {
        const scope = scopeOf(res);
        if (!roleAllows(scope.role, needed)) throw new ApiError('FORBIDDEN', `This needs the role ${needed}; the key has ${scope.role}`);
        const input = {
          scope,
          params: parse(endpoint.params, req.params, 'path'),
          query: endpoint.query ? parse(endpoint.query, req.query, 'query') : req.url.includes('?') && parse(NoQuery, req.query, 'query'),
          body: endpoint.body ? parseBody(endpoint.body, req, endpoint.bodyRequired === true) : undefined,
        } as { params: z.output<P>; query: z.output<Q>; body: z.output<B>; scope: Scope };
        await endpoint.handler(input, req, res);
      } catch (error) {
        next(error);
      }
    });
  }

  private document(endpoint: Endpoint<ZodType, ZodType, ZodType>): void {
    const responses: RouteConfig['responses'] = {};
    for (const [status, spec] of Object.entries(endpoint.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.headers && { headers: spec.headers }),
        ...(spec.schema && { content: { [spec.mediaType ?? 'application/json']: { schema: spec.schema } } }),
      };
    }
    const byStatus = new Map<number, ErrorCode[]>();
    const forbidden: ErrorCode[] = roleNeeded(endpoint) === 'reader' ? [] : ['FORBIDDEN'];
    for (const code of [...endpoint.problems, ...everywhere, ...forbidden]) {
      for (const status of statusesOf(code, endpoint.body !== undefined)) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    for (const [status, codes] of byStatus) {
      const headers = problemHeaders[status];
      responses[String(status)] = {
        description: [...new Set(codes)].map((c) => `\`${c}\`: ${descriptionOf(c, status)}`).join('\n\n'),
        ...(headers && { headers }),
        content: { 'application/problem+json': { schema: ProblemSchema } },
      };
    }
    this.registry.registerPath({
      method: endpoint.method,
      path: `${this.basePath}${endpoint.path}`,
      operationId: endpoint.operationId,
      summary: endpoint.summary,
      description: [endpoint.description, `Role: ${roleNeeded(endpoint)} or above.`].filter(Boolean).join('\n\n'),
      tags: [endpoint.tag],
      security: this.security,
      request: {
        ...(endpoint.params && { params: endpoint.params as z.ZodObject }),
        ...(endpoint.query && { query: endpoint.query as z.ZodObject }),
        ...(endpoint.headers && { headers: endpoint.headers }),
        ...(endpoint.body && {
          body: { required: endpoint.bodyRequired === true, content: { 'application/json': { schema: endpoint.body } } },
        }),
      },
      responses,
    });
  }
}

function parse<T extends ZodType>(schema: T | undefined, value: unknown, where: 'path' | 'query' | 'body'): z.output<T> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue): FieldError[] => {
    const base = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: `${base}.${key}`, message: `unknown ${where === 'query' ? 'parameter' : 'field'}` }));
    }
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    // A query parameter given several times arrives as an array; unless its schema reads lists
    // (and then says what is wrong itself, in a custom issue), that is the whole problem.
    const given = where === 'query' && issue.path.length === 1 ? (value as Record<string, unknown>)[String(issue.path[0])] : undefined;
    if (Array.isArray(given) && issue.code !== 'custom') return [{ path: base, message: `given ${given.length} times; give it once` }];
    return [{ path: base, message: missing ? 'required' : issue.message }];
  });
  throw new ApiError('VALIDATION_ERROR', `Invalid ${where}: ${errors.map((e) => `${e.path} (${e.message})`).join('; ')}`, { errors });
}

function parseBody<T extends ZodType>(schema: T, req: Request, required: boolean): z.output<T> | undefined {
  if (req.body === undefined) {
    if (required) {
      throw new ApiError('VALIDATION_ERROR', 'This request needs a JSON body', {
        errors: [{ path: 'body', message: 'required' }],
      });
    }
    return parse(schema, {}, 'body');
  }
  return parse(schema, req.body, 'body');
}
