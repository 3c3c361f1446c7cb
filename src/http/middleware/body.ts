import express, { type RequestHandler } from 'express';
import { requestProblem } from '../problem.js';

const BODY_LIMIT = '16kb';

const parseJson = express.json({ limit: BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] });

/**
 * A request that carries a body must say it is JSON (415 otherwise); one without a body is fine
 * (the action endpoints take none), and leaves req.body undefined.
 */
export const jsonBody: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    next(requestProblem('unsupported_media_type', `The request body must be application/json, not ${req.headers['content-type'] ?? 'unlabelled'}`));
    return;
  }
  parseJson(req, res, next);
};
