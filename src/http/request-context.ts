import type { Response } from 'express';

/**
 * What the middleware learned about a request, kept on res.locals: Express 5 makes req.query a
 * getter, so parsed input never goes back onto req.
 */
export interface RequestContext {
  requestId: string;
  /** Whether the caller's key allows changes (always true when keys are off). */
  canWrite: boolean;
}

export function requestContext(res: Response): RequestContext {
  return res.locals as RequestContext;
}
