import type { Response } from 'express';
import type { VmRecord } from '../../repository/vm-repository.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { Scope } from '../../domain/tenancy.js';
import type { ActionRequest, VmService } from '../../service/vm-service.js';
import type { EndpointRouter, ResponseSpec } from '../endpoint.js';
import { answeredNotModified, createOptionsOf, listRequestOf, markCreated, parseIfMatch, resourceHeaders, settledStatus as settledStatusOf } from '../conditional.js';
import {
  CreateVmBody,
  EmptyBody,
  ListVmsQuery,
  ResizeBody,
  RestartBody,
  VmActionListSchema,
  VmIdParams,
  VmListSchema,
  VmSchema,
  WaitQuery,
} from '../schemas.js';
import { vmView } from '../vm-view.js';
import { waitMsOf } from '../wait.js';
import { actionSummary } from './action-summaries.js';

const headers = resourceHeaders('VM');
const etagHeader = headers.etag;
const locationHeader = headers.location('/vms');

/** What every action answers with, and how to wait for it (the summaries say what each one does). */
const actionDescription =
  'Answers 200 with the VM once the action has settled, or 202 with `task` set while it runs: poll GET /vms/{id}, ' +
  'or wait with `?wait` or `Prefer: wait=N`. A status that does not allow the action is a 409 listing ' +
  '`allowed_actions`; with `If-Match`, a VM changed since that ETag is a 412.';

const settledOrNot = (settled: string): Record<number, ResponseSpec> => ({
  200: { description: settled, schema: VmSchema, headers: etagHeader },
  202: { description: 'Accepted; the task is still in progress (`task` is set). Poll GET /vms/{id} or use ?wait.', schema: VmSchema, headers: etagHeader },
});

const ActionHeaders = headers.action;
const GetHeaders = headers.get;
const CreateHeaders = headers.create;

const actionProblems: ErrorCode[] = ['VM_NOT_FOUND', 'INVALID_STATE_TRANSITION', 'TASK_IN_PROGRESS', 'PRECONDITION_FAILED', 'FORBIDDEN', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'];

const simpleActions = [
  { action: 'start', summary: actionSummary('start'), settled: 'Started: RUNNING' },
  { action: 'stop', summary: actionSummary('stop'), settled: 'Stopped: STOPPED' },
  { action: 'pause', summary: actionSummary('pause'), settled: 'Paused: PAUSED' },
  { action: 'resume', summary: actionSummary('resume'), settled: 'Resumed: RUNNING' },
  { action: 'suspend', summary: actionSummary('suspend'), settled: 'Suspended: SUSPENDED' },
] as const;

function sendVm(res: Response, status: number, record: VmRecord): void {
  res.setHeader('ETag', `"${record.version}"`);
  res.status(status).json(vmView(record));
}

const settledStatus = (record: VmRecord, settled = 200) => settledStatusOf(record.vm.task, settled);

export function vmRoutes(api: EndpointRouter, service: VmService): void {
  api.add({
    method: 'post',
    path: '/vms',
    operationId: 'createVm',
    summary: 'Create a VM',
    description: 'Settles in STOPPED, or RUNNING with `"start": true`. A VM that no host can hold is created and goes to ERROR with a `fault`.',
    tag: 'VMs',
    body: CreateVmBody,
    bodyRequired: true,
    query: WaitQuery,
    headers: CreateHeaders,
    responses: {
      201: { description: 'Created and settled', schema: VmSchema, headers: { ...etagHeader, ...locationHeader } },
      202: { description: 'Accepted; still creating (`task: "creating"`)', schema: VmSchema, headers: { ...etagHeader, ...locationHeader } },
    },
    problems: ['UNKNOWN_FLAVOR', 'UNKNOWN_IMAGE', 'UNKNOWN_NETWORK', 'QUOTA_EXCEEDED', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_FLIGHT', 'FORBIDDEN', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ body, query, scope }, req, res) => {
      const { record, replayed } = await service.create(scope, body, createOptionsOf(query, req, res));
      markCreated(req, res, record.vm.id, replayed);
      sendVm(res, settledStatus(record, 201), record);
    },
  });

  api.add({
    method: 'get',
    path: '/vms',
    operationId: 'listVms',
    summary: 'List VMs, a page at a time',
    description: 'Oldest first. Deleted VMs are left out unless `status` asks for DELETED.',
    tag: 'VMs',
    query: ListVmsQuery,
    responses: { 200: { description: 'A page of VMs', schema: VmListSchema } },
    problems: ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ query, scope }, _req, res) => {
      const page = await service.list(scope, listRequestOf(query));
      res.json({ data: page.items.map(vmView), next_cursor: page.nextCursor });
    },
  });

  api.add({
    method: 'get',
    path: '/vms/{id}',
    operationId: 'getVm',
    summary: 'Get a VM',
    description: 'A deleted VM answers with `status: "DELETED"` while the backend remembers it, then 404.',
    tag: 'VMs',
    params: VmIdParams,
    headers: GetHeaders,
    responses: {
      200: { description: 'The VM', schema: VmSchema, headers: etagHeader },
      304: { description: 'Unchanged since the ETag given in If-None-Match', headers: etagHeader },
    },
    problems: ['VM_NOT_FOUND', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ params, scope }, req, res) => {
      const record = await service.get(scope, params.id);
      if (answeredNotModified(req, res, record.version)) return;
      sendVm(res, 200, record);
    },
  });

  api.add({
    method: 'get',
    path: '/vms/{id}/actions',
    operationId: 'listVmActions',
    summary: 'The VM\'s action history, newest first',
    description: 'Memory: every create and action this API accepted. OpenStack: Nova\'s instance actions (`openstack server event list`), with Nova\'s request ids.',
    tag: 'VMs',
    params: VmIdParams,
    responses: { 200: { description: 'The actions, newest first', schema: VmActionListSchema } },
    problems: ['VM_NOT_FOUND', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'],
    handler: async ({ params, scope }, _req, res) => {
      res.json({ data: await service.listActions(scope, params.id) });
    },
  });

  const act = async (
    scope: Scope,
    id: string,
    request: ActionRequest,
    query: { wait?: boolean | number | undefined },
    req: Parameters<typeof waitMsOf>[1],
    res: Response,
  ) => {
    const ifMatch = parseIfMatch(req.header('If-Match'));
    const record = await service.act(scope, id, request, {
      waitMs: waitMsOf(query, req, res),
      ...(ifMatch !== undefined && { ifMatch }),
    });
    sendVm(res, settledStatus(record), record);
  };

  api.add({
    method: 'delete',
    path: '/vms/{id}',
    operationId: 'deleteVm',
    summary: actionSummary('delete'),
    description: 'Accepted even while another task runs. The body is the VM.',
    tag: 'VMs',
    params: VmIdParams,
    query: WaitQuery,
    headers: ActionHeaders,
    responses: settledOrNot('Deleted: DELETED'),
    problems: actionProblems,
    handler: ({ params, query, scope }, req, res) => act(scope, params.id, { action: 'delete' }, query, req, res),
  });

  for (const { action, summary, settled } of simpleActions) {
    api.add({
      method: 'post',
      path: `/vms/{id}/${action}`,
      operationId: `${action}Vm`,
      summary,
      description: actionDescription,
      tag: 'VM actions',
      params: VmIdParams,
      query: WaitQuery,
      headers: ActionHeaders,
      body: EmptyBody,
      responses: settledOrNot(settled),
      problems: actionProblems,
      handler: ({ params, query, scope }, req, res) => act(scope, params.id, { action }, query, req, res),
    });
  }

  api.add({
    method: 'post',
    path: '/vms/{id}/restart',
    operationId: 'restartVm',
    summary: actionSummary('restart'),
    description: `${actionDescription} The body may be left out: a soft restart.`,
    tag: 'VM actions',
    params: VmIdParams,
    query: WaitQuery,
    headers: ActionHeaders,
    body: RestartBody,
    responses: settledOrNot('Restarted: RUNNING'),
    problems: actionProblems,
    handler: ({ params, query, body, scope }, req, res) => act(scope, params.id, { action: 'restart', type: body.type }, query, req, res),
  });

  api.add({
    method: 'post',
    path: '/vms/{id}/resize',
    operationId: 'resizeVm',
    summary: actionSummary('resize', ' to another flavor'),
    description: 'The VM keeps its status; the resize is confirmed automatically.',
    tag: 'VM actions',
    params: VmIdParams,
    query: WaitQuery,
    headers: ActionHeaders,
    body: ResizeBody,
    bodyRequired: true,
    responses: settledOrNot('Resized'),
    problems: [...actionProblems, 'UNKNOWN_FLAVOR', 'QUOTA_EXCEEDED', 'INSUFFICIENT_CAPACITY'],
    handler: ({ params, query, body, scope }, req, res) => act(scope, params.id, { action: 'resize', flavor: body.flavor }, query, req, res),
  });
}
