import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, isApiError, type ErrorVariant } from '../domain/errors.js';
import { problemCatalog, slugOf, statusOf } from './problem-catalog.js';
import { requestContext } from './request-context.js';

/** A request HTTP itself refuses (too large, not JSON): a VALIDATION_ERROR of that narrower case. */
export function requestProblem(variant: ErrorVariant, detail: string): ApiError {
  return new ApiError('VALIDATION_ERROR', detail, { errors: [{ path: '', message: detail }] }, { variant });
}

export function sendProblem(req: Request, res: Response, error: ApiError): void {
  const status = statusOf(error);
  const entry = problemCatalog[error.code];
  const body = {
    type: `/errors/${slugOf(error.code)}`,
    title: entry.title,
    status,
    detail: error.detail,
    instance: req.originalUrl.split('?')[0],
    code: error.code,
    request_id: requestContext(res).requestId,
    ...error.extras,
  };
  res.status(status).type('application/problem+json').json(body);
}

/**
 * Express's router and body-parser raise http-errors with a 4xx `status` for what the client sent
 * wrong (a malformed %-escape in the path, unparsable JSON, a body too large, another charset).
 */
function fromClientError(error: { status?: unknown; type?: string; message?: string }): ApiError | undefined {
  const status = error.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 413) return requestProblem('body_too_large', 'The request body is larger than 16 KiB');
  if (status === 415) return requestProblem('unsupported_media_type', 'The request body must be UTF-8 JSON');
  if (error instanceof URIError) {
    return new ApiError('VALIDATION_ERROR', 'The URL has a malformed percent-escape', {
      errors: [{ path: 'path', message: 'malformed percent-escape' }],
    });
  }
  if (error.type === 'entity.parse.failed') {
    return new ApiError('VALIDATION_ERROR', 'The request body is not valid JSON', {
      errors: [{ path: 'body', message: `malformed JSON: ${error.message ?? 'parse error'}` }],
    });
  }
  return new ApiError('VALIDATION_ERROR', 'The request could not be read', {
    errors: [{ path: '', message: error.type ?? 'malformed request' }],
  });
}

/**
 * The single place where every error, known or not, becomes an answer. Nothing upstream or
 * internal (stacks, Nova's messages) reaches the body; the log has it, under the request id.
 */
export function problemResponder(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const requestId = requestContext(res).requestId;
    const known = isApiError(error) ? error : fromClientError(error as { status?: unknown; type?: string });
    if (known) {
      if (statusOf(known) >= 500) logger.error({ err: error, request_id: requestId }, known.detail);
      sendProblem(req, res, known);
      return;
    }
    logger.error({ err: error, request_id: requestId }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(req, res, new ApiError('INTERNAL_ERROR', 'An unexpected error occurred; the request id finds it in the logs'));
  };
}

export const routeNotFound: RequestHandler = (req, res) => {
  sendProblem(req, res, new ApiError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
};
