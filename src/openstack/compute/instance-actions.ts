import { z } from 'zod';

/** GET /servers/{id}/os-instance-actions: what was done to a server, newest first. */
export const instanceActionPaths = {
  list: (serverId: string) => `/servers/${encodeURIComponent(serverId)}/os-instance-actions`,
} as const;

export const instanceActionSchema = z
  .object({
    action: z.string(),
    request_id: z.string(),
    start_time: z.string(),
    /** "Error" when an event of the action failed; null otherwise. */
    message: z.string().nullable().optional(),
    /** From microversion 2.58: when the action last changed. */
    updated_time: z.string().nullable().optional(),
  })
  .loose();

export const instanceActionListResponseSchema = z.object({ instanceActions: z.array(instanceActionSchema) });

export type InstanceAction = z.infer<typeof instanceActionSchema>;
