import type { Response } from 'express';
import type { ErrorCode } from '../../domain/errors.js';
import { volumeActionsAllowedNow, type Volume, type VolumeAction } from '../../domain/volume.js';
import type { VolumeRecord } from '../../repository/volume-repository.js';
import type { VolumeService } from '../../service/volume-service.js';
import { answeredNotModified, createOptionsOf, listRequestOf, markCreated, parseIfMatch, resourceHeaders, settledStatus } from '../conditional.js';
import type { EndpointRouter, ResponseSpec } from '../endpoint.js';
import { VmIdParams, WaitQuery } from '../schemas.js';
import {
  AttachVolumeBody,
  CreateVolumeBody,
  ExtendVolumeBody,
  ListVolumesQuery,
  UpdateVolumeBody,
  VmVolumeParams,
  VolumeIdParams,
  VolumeListSchema,
  VolumeSchema,
} from '../volume-schemas.js';
import { waitMsOf } from '../wait.js';

/** A volume as the API shows it: what the backend holds, plus what it accepts now. */
export type VolumeView = Volume & { allowed_actions: VolumeAction[] };

export function volumeView({ volume }: VolumeRecord): VolumeView {
  return { ...volume, allowed_actions: volumeActionsAllowedNow(volume) };
}

const headers = resourceHeaders('volume');

const settledOrNot = (settled: string): Record<number, ResponseSpec> => ({
  200: { description: settled, schema: VolumeSchema, headers: headers.etag },
  202: { description: 'Accepted; the task is still in progress (`task` is set). Poll GET /volumes/{id} or use ?wait.', schema: VolumeSchema, headers: headers.etag },
});

const actionProblems: ErrorCode[] = ['VOLUME_NOT_FOUND', 'INVALID_STATE_TRANSITION', 'TASK_IN_PROGRESS', 'PRECONDITION_FAILED', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'];

function sendVolume(res: Response, status: number, record: VolumeRecord): void {
  res.setHeader('ETag', `"${record.version}"`);
  res.status(status).json(volumeView(record));
}

const optionsOf = (query: { wait?: boolean | number | undefined }, req: Parameters<typeof waitMsOf>[1], res: Response) => {
  const ifMatch = parseIfMatch(req.header('If-Match'));
  return { waitMs: waitMsOf(query, req, res), ...(ifMatch !== undefined && { ifMatch }) };
};

/** /volumes and a VM's /vms/{id}/volumes (docs/contract.md section 10). */
export function volumeRoutes(api: EndpointRouter, service: VolumeService): void {
  api.add({
    method: 'post',
    path: '/volumes',
    operationId: 'createVolume',
    summary: 'Create a volume',
    description: 'Settles AVAILABLE; a volume the storage cannot hold is created and goes to ERROR with a `fault`.',
    tag: 'Volumes',
    body: CreateVolumeBody,
    bodyRequired: true,
    query: WaitQuery,
    headers: headers.create,
    responses: {
      201: { description: 'Created and settled', schema: VolumeSchema, headers: { ...headers.etag, ...headers.location('/volumes') } },
      202: { description: 'Accepted; still creating', schema: VolumeSchema, headers: { ...headers.etag, ...headers.location('/volumes') } },
    },
    problems: ['QUOTA_EXCEEDED', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_FLIGHT', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ body, query, scope }, req, res) => {
      const { record, replayed } = await service.create(scope, body, createOptionsOf(query, req, res));
      markCreated(req, res, record.volume.id, replayed);
      sendVolume(res, settledStatus(record.volume.task, 201), record);
    },
  });

  api.add({
    method: 'get',
    path: '/volumes',
    operationId: 'listVolumes',
    summary: 'List volumes, a page at a time',
    description: 'Oldest first. Deleted volumes are left out unless `status` asks for DELETED.',
    tag: 'Volumes',
    query: ListVolumesQuery,
    responses: { 200: { description: 'A page of volumes', schema: VolumeListSchema } },
    problems: ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ query, scope }, _req, res) => {
      const page = await service.list(scope, listRequestOf(query));
      res.json({ data: page.items.map(volumeView), next_cursor: page.nextCursor });
    },
  });

  api.add({
    method: 'get',
    path: '/volumes/{id}',
    operationId: 'getVolume',
    summary: 'Get a volume',
    tag: 'Volumes',
    params: VolumeIdParams,
    headers: headers.get,
    responses: {
      200: { description: 'The volume', schema: VolumeSchema, headers: headers.etag },
      304: { description: 'Unchanged since the ETag given in If-None-Match', headers: headers.etag },
    },
    problems: ['VOLUME_NOT_FOUND', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ params, scope }, req, res) => {
      const record = await service.get(scope, params.id);
      if (answeredNotModified(req, res, record.version)) return;
      sendVolume(res, 200, record);
    },
  });

  api.add({
    method: 'patch',
    path: '/volumes/{id}',
    operationId: 'updateVolume',
    summary: 'Rename a volume or change its description',
    tag: 'Volumes',
    params: VolumeIdParams,
    headers: headers.action,
    body: UpdateVolumeBody,
    bodyRequired: true,
    responses: { 200: { description: 'The volume, changed', schema: VolumeSchema, headers: headers.etag } },
    problems: ['VOLUME_NOT_FOUND', 'INVALID_STATE_TRANSITION', 'PRECONDITION_FAILED', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ params, body, scope }, req, res) => {
      const ifMatch = parseIfMatch(req.header('If-Match'));
      const record = await service.update(
        scope,
        params.id,
        { ...(body.name !== undefined && { name: body.name }), ...(body.description !== undefined && { description: body.description }) },
        { ...(ifMatch !== undefined && { ifMatch }) },
      );
      sendVolume(res, 200, record);
    },
  });

  api.add({
    method: 'post',
    path: '/volumes/{id}/extend',
    operationId: 'extendVolume',
    summary: 'Grow a volume',
    description: 'Only to a larger size (400 otherwise). From AVAILABLE, and from IN_USE where the cloud can.',
    tag: 'Volumes',
    params: VolumeIdParams,
    query: WaitQuery,
    headers: headers.action,
    body: ExtendVolumeBody,
    bodyRequired: true,
    responses: settledOrNot('Extended'),
    problems: [...actionProblems, 'QUOTA_EXCEEDED', 'INSUFFICIENT_CAPACITY'],
    handler: async ({ params, query, body, scope }, req, res) => {
      const record = await service.act(scope, params.id, { action: 'extend', sizeGb: body.size_gb }, optionsOf(query, req, res));
      sendVolume(res, settledStatus(record.volume.task), record);
    },
  });

  api.add({
    method: 'delete',
    path: '/volumes/{id}',
    operationId: 'deleteVolume',
    summary: 'Delete a volume',
    description: 'An attached volume is a 409 `RESOURCE_IN_USE`: detach it first. The body is the volume.',
    tag: 'Volumes',
    params: VolumeIdParams,
    query: WaitQuery,
    headers: headers.action,
    responses: settledOrNot('Deleted: DELETED'),
    problems: [...actionProblems, 'RESOURCE_IN_USE'],
    handler: async ({ params, query, scope }, req, res) => {
      const record = await service.act(scope, params.id, { action: 'delete' }, optionsOf(query, req, res));
      sendVolume(res, settledStatus(record.volume.task), record);
    },
  });

  api.add({
    method: 'post',
    path: '/vms/{id}/volumes',
    operationId: 'attachVolume',
    summary: 'Attach a volume to the VM',
    description:
      'The VM may be in any settled state but ERROR or DELETED; a volume attaches to one VM at a time (409 `RESOURCE_IN_USE`). The body is the volume.',
    tag: 'Volumes',
    params: VmIdParams,
    query: WaitQuery,
    headers: headers.action,
    body: AttachVolumeBody,
    bodyRequired: true,
    responses: settledOrNot('Attached: IN_USE'),
    problems: [...actionProblems, 'VM_NOT_FOUND', 'RESOURCE_IN_USE'],
    handler: async ({ params, query, body, scope }, req, res) => {
      const record = await service.attach(scope, params.id, body.volume, body.device ?? null, optionsOf(query, req, res));
      sendVolume(res, settledStatus(record.volume.task), record);
    },
  });

  api.add({
    method: 'delete',
    path: '/vms/{id}/volumes/{volume_id}',
    operationId: 'detachVolume',
    summary: 'Detach a volume from the VM',
    description: 'A volume not attached to this VM is a 404. The body is the volume.',
    tag: 'Volumes',
    params: VmVolumeParams,
    query: WaitQuery,
    headers: headers.action,
    responses: settledOrNot('Detached: AVAILABLE'),
    problems: [...actionProblems, 'VM_NOT_FOUND'],
    handler: async ({ params, query, scope }, req, res) => {
      const record = await service.detach(scope, params.id, params.volume_id, optionsOf(query, req, res));
      sendVolume(res, settledStatus(record.volume.task), record);
    },
  });
}
