import type { Response } from 'express';
import type { Scope } from '../domain/tenancy.js';

/**
 * What the middleware learned about a request, kept on res.locals: Express 5 makes req.query a
 * getter, so parsed input never goes back onto req.
 */
export interface RequestContext {
  requestId: string;
  /** Who calls, for which tenant: set by `authenticate` on every /api/v1 request. */
  scope?: Scope;
  /** The route template, set by the endpoint that serves the request. */
  route?: string;
  /** The id in the endpoint's path, if any (for the audit line). */
  resourceId?: string;
}

export function requestContext(res: Response): RequestContext {
  return res.locals as RequestContext;
}

/** The request's scope; only endpoints under /api/v1 (behind `authenticate`) have one. */
export function scopeOf(res: Response): Scope {
  const { scope } = requestContext(res);
  if (!scope) throw new Error('no scope: the endpoint is not behind authenticate');
  return scope;
}
