import type { RequestHandler } from 'express';

/**
 * Several middleware as one: each runs when the one before calls `next()`; an error given to
 * `next`, thrown, or a rejected promise goes to the error handlers, as Express does for its own
 * layers. Every layer costs Express a pass through its router's `next` (the layer's path match,
 * the error and promise checks) on each request, so the middleware every request passes through
 * is mounted as one layer (src/app.ts): a measurable share of GET /vms/{id} on Node 24
 * (BACKLOG.md).
 */
export function sequence(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let at = 0;
    const step = (error?: unknown): void => {
      if (error) return next(error);
      const handler = handlers[at++];
      if (!handler) return next();
      try {
        const result: unknown = handler(req, res, step);
        if (result instanceof Promise) result.catch((rejected: unknown) => next(rejected ?? new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
