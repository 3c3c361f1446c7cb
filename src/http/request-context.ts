import type { Response } from 'express';

/**
 * What the middleware learned about a request, kept on res.locals: Express 5 makes req.query a
 * getter, so parsed input never goes back onto req.
 */
export interface RequestContext {
  requestId: string;
}

export function requestContext(res: Response): RequestContext {
  return res.locals as RequestContext;
}
