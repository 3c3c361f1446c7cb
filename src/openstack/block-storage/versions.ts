import { z } from 'zod';
import { compareMicroversions as cmp } from '../compute/versions.js';

/**
 * GET on Cinder's root: `{versions: [{id: "v3.0", version: "3.70", min_version: "3.0"}]}`. The v3
 * entry's `version` is the highest microversion, `min_version` the lowest.
 */
export const blockStorageVersionsSchema = z.object({
  versions: z.array(z.looseObject({ id: z.string(), version: z.string(), min_version: z.string() })),
});

/**
 * The versioned root of a block-storage endpoint (…/v3/<project_id> -> …/v3), where the version
 * document is answered with 200 (Cinder's bare root answers 300 Multiple Choices).
 */
export function blockStorageRoot(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/\/v3(?:\/[^/]+)?$/, '/v3');
}

/**
 * The microversion to speak: the preferred one when the cloud offers it, else the cloud's highest
 * if that still has what this API needs (`minimum`); undefined when the cloud is too old.
 */
export function negotiateMicroversion(range: { min: string; max: string }, preferred: string, minimum: string): string | undefined {
  if (cmp(preferred, range.min) >= 0 && cmp(preferred, range.max) <= 0) return preferred;
  if (cmp(range.max, minimum) >= 0 && cmp(range.max, preferred) < 0) return range.max;
  return undefined;
}
