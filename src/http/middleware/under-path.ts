import type { RequestHandler } from 'express';

/**
 * `handler` for requests under `prefix` (the prefix itself, or it followed by `/` or a query;
 * letter case ignored, as Express's own mount matches), `next()` for the rest. Same choice as
 * `app.use(prefix, handler)`, without Express cutting the prefix off `req.url` and putting it back
 * around every mounted middleware: that cost about 5% of the CPU of GET /vms/{id} on Node 24 in
 * `npm run bench`. The handlers mounted this way do not read `req.url`.
 */
export function underPath(prefix: string, handler: RequestHandler): RequestHandler {
  const lower = prefix.toLowerCase();
  const length = prefix.length;
  return (req, res, next) => {
    const url = req.url;
    const after = url.charCodeAt(length);
    // NaN: the URL is the prefix; 47 '/', 63 '?'.
    const under = (Number.isNaN(after) || after === 47 || after === 63) && url.slice(0, length).toLowerCase() === lower;
    return under ? handler(req, res, next) : next();
  };
}
