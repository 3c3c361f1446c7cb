import type { z } from 'zod';
import { OpenStackShapeError } from './errors.js';

/**
 * Parses an upstream body with a resource schema, so a changed or broken answer fails here with the
 * resource's name and the field's path rather than as an undefined somewhere in a caller.
 */
export function parseResource<S extends z.ZodType>(schema: S, data: unknown, resource: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new OpenStackShapeError(
    resource,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
