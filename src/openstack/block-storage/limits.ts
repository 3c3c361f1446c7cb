import { z } from 'zod';

/** GET /limits: the project's volume quotas and what it uses of them (-1 unlimited). */
export const limitsResponseSchema = z.object({
  limits: z.looseObject({
    absolute: z.looseObject({
      maxTotalVolumes: z.number(),
      totalVolumesUsed: z.number(),
      maxTotalVolumeGigabytes: z.number(),
      totalGigabytesUsed: z.number(),
    }),
  }),
});

export type CinderLimits = z.infer<typeof limitsResponseSchema>['limits']['absolute'];
