import { volumeActions, volumeStatuses, volumeTasks, type VolumeStatus } from '../domain/volume.js';
import { z } from './openapi/zod.js';
import { ListVmsQuery, resourceName, statusFilterOf, volumeSize } from './schemas.js';

/** The volume's wire schemas (docs/contract.md section 10); requests are strict, as the VM's are. */

const exampleId = '7b3e1c2a-5d4f-4e6a-9b8c-1a2b3c4d5e6f';
const exampleTime = '2026-02-25T10:30:00.000Z';

export const VolumeStatusSchema = z.enum(volumeStatuses).openapi('VolumeStatus');
export const VolumeTaskSchema = z.enum(volumeTasks).openapi('VolumeTask');

const description = z.string().max(255).openapi({ example: 'scratch space for web-1' });

export const VolumeSchema = z
  .object({
    id: z.uuid().openapi({ example: exampleId }),
    name: resourceName,
    description: z.string(),
    size_gb: z.number().int().openapi({ example: 10 }),
    status: VolumeStatusSchema,
    task: VolumeTaskSchema.nullable().openapi({ description: 'The task still in progress; null when settled.' }),
    attached_to: z
      .object({ vm_id: z.uuid(), device: z.string().nullable().openapi({ example: '/dev/vdb' }) })
      .nullable()
      .openapi({ description: 'The VM it is attached to, and the device the VM sees; null when not attached.' }),
    fault: z
      .object({ code: z.string().openapi({ example: 'STORAGE_FULL' }), message: z.string(), at: z.string() })
      .nullable()
      .openapi({ description: 'While ERROR: why.' }),
    tenant: z.string().openapi({ example: 'default' }),
    created_at: z.string().openapi({ example: exampleTime }),
    updated_at: z.string().openapi({ example: exampleTime }),
    allowed_actions: z
      .array(z.enum(volumeActions))
      .openapi({ description: 'What the volume accepts now, from its transition table; none while a task runs.', example: ['extend', 'attach', 'delete'] }),
  })
  .openapi('Volume');

export const VolumeListSchema = z
  .object({
    data: z.array(VolumeSchema),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as ?cursor= for the next page; null on the last page.' }),
  })
  .openapi('VolumeList');

export const CreateVolumeBody = z
  .strictObject({ name: resourceName, size_gb: volumeSize, description: description.default('') })
  .openapi({ example: { name: 'data-1', size_gb: 10 } });

export const UpdateVolumeBody = z
  .strictObject({ name: resourceName.optional(), description: description.optional() })
  .openapi({ example: { description: 'logs of web-1' } });

export const ExtendVolumeBody = z.strictObject({ size_gb: volumeSize }).openapi({ example: { size_gb: 20 } });

export const AttachVolumeBody = z
  .strictObject({
    volume: z.uuid({ error: 'must be a volume id (a UUID)' }),
    device: z
      .string()
      .regex(/^\/dev\/[a-z]{2,4}[a-z]$/, { error: 'a device such as /dev/vdb' })
      .optional()
      .openapi({ description: 'Where the VM sees it; the next free /dev/vdX by default.', example: '/dev/vdb' }),
  })
  .openapi({ example: { volume: exampleId } });

export const VolumeIdParams = z.strictObject({
  id: z.uuid({ error: 'must be a volume id (a UUID)' }).openapi({ param: { name: 'id', in: 'path' }, example: exampleId }),
});

export const VmVolumeParams = z.strictObject({
  id: z.uuid({ error: 'must be a VM id (a UUID)' }).openapi({ param: { name: 'id', in: 'path' }, example: '2f1c7d2e-8a43-4d0f-9a5e-6f1b0c9d7e21' }),
  volume_id: z.uuid({ error: 'must be a volume id (a UUID)' }).openapi({ param: { name: 'volume_id', in: 'path' }, example: exampleId }),
});

export const ListVolumesQuery = ListVmsQuery.extend({
  status: statusFilterOf<VolumeStatus>(volumeStatuses, ['AVAILABLE', 'IN_USE']).optional(),
});
