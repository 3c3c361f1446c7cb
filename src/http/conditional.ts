import type { Request, Response } from 'express';
import { ApiError } from '../domain/errors.js';
import { z } from './openapi/zod.js';
import { waitMsOf } from './wait.js';

/**
 * The HTTP pieces every versioned resource (VMs, volumes) shares: its ETag, If-Match and
 * If-None-Match, Idempotency-Key and the headers' documentation. The rules behind them (what a
 * precondition means, what a replay answers) are the services'.
 */

/** The documentation of the headers of one resource's endpoints; `noun` is how the text names it ("VM"). */
export function resourceHeaders(noun: string) {
  const etag = { ETag: { description: `The ${noun}'s version; send it back in If-Match.`, schema: { type: 'string' as const } } };
  const prefer = z.string().optional().openapi({ description: 'RFC 7240 `wait=N`: wait up to N seconds (max 120) for the task to settle.', example: 'wait=30' });
  return {
    etag,
    location: (path: string) => ({ Location: { description: `The new ${noun}, /api/v1${path}/{id}`, schema: { type: 'string' as const } } }),
    action: z.object({
      'If-Match': z.string().optional().openapi({ description: `Act only if the ${noun}'s ETag is one of these.`, example: '"3"' }),
      Prefer: prefer,
    }),
    get: z.object({
      'If-None-Match': z
        .string()
        .optional()
        .openapi({ description: `Answer 304 without a body if the ${noun}'s ETag is one of these (\`*\` matches any).`, example: '"3"' }),
    }),
    create: z.object({
      'Idempotency-Key': z
        .string()
        .optional()
        .openapi({ description: 'Replays the first result for the same key and body; kept 24 hours.', example: '3f1e2d4c-create-web-1' }),
      Prefer: prefer,
    }),
  };
}

/** The versions an If-Match header names, quotes and weakness dropped; '*' stays '*'. */
export function parseIfMatch(header: string | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))
    .filter((tag) => tag.length > 0);
}

/** Whether a precondition (If-Match or If-None-Match) names `version` or `*`. */
export function matchesVersion(tags: readonly string[], version: string): boolean {
  return tags.includes('*') || tags.includes(version);
}

export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new ApiError('VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
      errors: [{ path: 'header.Idempotency-Key', message: '1 to 255 visible ASCII characters' }],
    });
  }
  return header;
}

/** What a create takes from its request: how long to wait, and the Idempotency-Key if any. */
export function createOptionsOf(query: { wait?: boolean | number | undefined }, req: Request, res: Response): { waitMs: number; idempotencyKey?: string } {
  const idempotencyKey = idempotencyKeyOf(req.header('Idempotency-Key'));
  return { waitMs: waitMsOf(query, req, res), ...(idempotencyKey !== undefined && { idempotencyKey }) };
}

/** The headers of a create's answer: Location of the new resource, and whether it was a replay. */
export function markCreated(req: Request, res: Response, id: string, replayed: boolean): void {
  res.location(`${req.path.replace(/\/$/, '')}/${id}`);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
}

/** Answers 304 (and true) when If-None-Match names the resource's current version. */
export function answeredNotModified(req: Request, res: Response, version: string): boolean {
  const ifNoneMatch = parseIfMatch(req.header('If-None-Match'));
  if (!ifNoneMatch || !matchesVersion(ifNoneMatch, version)) return false;
  res.setHeader('ETag', `"${version}"`);
  res.status(304).end();
  return true;
}

/** A list's query as the service takes it: the parameters given, and only those. */
export function listRequestOf<S>(query: { limit: number; status?: ReadonlySet<S> | undefined; name?: string | undefined; cursor?: string | undefined; tenant?: string | undefined }) {
  return {
    limit: query.limit,
    ...(query.tenant !== undefined && { tenant: query.tenant }),
    ...(query.status !== undefined && { statuses: query.status }),
    ...(query.name !== undefined && { name: query.name }),
    ...(query.cursor !== undefined && { cursor: query.cursor }),
  };
}

/** 200 once settled (201 for a create), 202 while a task still runs. */
export const settledStatus = (task: string | null, settled = 200): number => (task === null ? settled : 202);
