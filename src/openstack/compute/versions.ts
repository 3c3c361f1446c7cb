import { z } from 'zod';
import { OpenStackConfigError, OpenStackMicroversionError } from '../errors.js';

/**
 * GET on the compute API's versioned root (…/v2.1/). `version` is the highest microversion and
 * `min_version` the lowest; both are "" on the legacy v2.0 API, which has no microversions.
 */
export const computeVersionResponseSchema = z.object({
  version: z.looseObject({
    id: z.string(),
    status: z.string().optional(),
    version: z.string(),
    min_version: z.string(),
  }),
});

export interface MicroversionRange {
  min: string;
  max: string;
}

/** The versioned root of a compute endpoint, dropping a trailing project id some catalogs carry. */
export function computeVersionRoot(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/(\/v2(?:\.1)?)\/[^/]+$/, '$1');
}

export function microversionRange(document: z.infer<typeof computeVersionResponseSchema>): MicroversionRange {
  const { version, min_version } = document.version;
  return { min: min_version || '2.0', max: version || '2.0' };
}

/** "2.93" -> [2, 93]; rejects "latest" and anything else a pin should not be. */
export function parseMicroversion(text: string): [number, number] {
  const match = /^(\d+)\.(\d+)$/.exec(text);
  if (match === null) throw new OpenStackConfigError(`"${text}" is not a microversion such as 2.93`);
  return [Number(match[1]), Number(match[2])];
}

export function compareMicroversions(a: string, b: string): number {
  const [aMajor, aMinor] = parseMicroversion(a);
  const [bMajor, bMinor] = parseMicroversion(b);
  return aMajor === bMajor ? aMinor - bMinor : aMajor - bMajor;
}

export function assertMicroversionInRange(wanted: string, range: MicroversionRange): void {
  if (compareMicroversions(wanted, range.min) < 0 || compareMicroversions(wanted, range.max) > 0) {
    throw new OpenStackMicroversionError(wanted, range.min, range.max);
  }
}
