import { ApiError } from '../../domain/errors.js';

const CURSOR_PREFIX = 'o1:';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The cursor is Nova's marker (the last server's id) and the listing's phase (live servers, then
 * deleted ones), wrapped so that clients treat it as opaque.
 */
export function encodeCursor(phase: 'live' | 'deleted', markerId?: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${phase === 'live' ? 'l' : 'd'}:${markerId ?? ''}`).toString('base64url');
}

export function decodeCursor(cursor: string): { phase: 'live' | 'deleted'; marker: string | undefined } {
  const match = /^o1:([ld]):(.*)$/.exec(Buffer.from(cursor, 'base64url').toString());
  const marker = match?.[2] ?? '';
  if (!match || (marker !== '' && !uuidPattern.test(marker)) || (marker === '' && match[1] === 'l')) {
    throw new ApiError('VALIDATION_ERROR', 'The cursor is not one this API returned', {
      errors: [{ path: 'cursor', message: 'not a cursor returned by this API' }],
    });
  }
  return { phase: match[1] === 'l' ? 'live' : 'deleted', marker: marker === '' ? undefined : marker };
}

/**
 * Nova's `name` filter is a regular expression (matched anywhere in the name), so the name is
 * escaped and anchored: `^name$` for an exact match, `^prefix` for a prefix.
 */
export function novaNameFilter(filter: { value: string; prefix: boolean }): string {
  const escaped = filter.value.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  return filter.prefix ? `^${escaped}` : `^${escaped}$`;
}

/** The same filter, applied exactly to what Nova returned (its regex dialect depends on the database). */
export function matchesName(name: string, filter: { value: string; prefix: boolean }): boolean {
  return filter.prefix ? name.startsWith(filter.value) : name === filter.value;
}
