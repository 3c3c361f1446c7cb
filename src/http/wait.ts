import type { Request, Response } from 'express';

export const DEFAULT_WAIT_S = 30;
export const MAX_WAIT_S = 120;

/**
 * How long a mutating call should wait for its task to settle: `?wait=true|N` first, then
 * `Prefer: wait=N` (RFC 7240), which is clamped to the maximum and acknowledged with
 * Preference-Applied, as the RFC suggests.
 */
export function waitMsOf(query: { wait?: boolean | number | undefined }, req: Request, res: Response): number {
  if (query.wait !== undefined) {
    if (typeof query.wait === 'boolean') return query.wait ? DEFAULT_WAIT_S * 1000 : 0;
    return query.wait * 1000;
  }
  const preferred = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,9})"?/i.exec(req.header('Prefer') ?? '')?.[1];
  if (preferred === undefined) return 0;
  const seconds = Math.min(Number(preferred), MAX_WAIT_S);
  res.setHeader('Preference-Applied', `wait=${seconds}`);
  return seconds * 1000;
}
