import { z } from 'zod';

/** GET /limits: the project's absolute compute limits and what it uses (-1 unlimited). */
export const limitsPaths = { all: '/limits' } as const;

export const limitsResponseSchema = z.object({
  limits: z.object({
    absolute: z
      .object({
        maxTotalInstances: z.number(),
        totalInstancesUsed: z.number(),
        maxTotalCores: z.number(),
        totalCoresUsed: z.number(),
        maxTotalRAMSize: z.number(),
        totalRAMUsed: z.number(),
      })
      .loose(),
  }),
});

export type AbsoluteLimits = z.infer<typeof limitsResponseSchema>['limits']['absolute'];
