import { problemCatalog } from './problem-catalog.js';
import { z } from './openapi/zod.js';
import { restartTypes, vmActions, vmStatuses, vmTasks, type VmStatus } from '../domain/vm.js';
import { errorCodes } from '../domain/errors.js';
import { MAX_VOLUME_GB, MIN_VOLUME_GB } from '../domain/volume.js';
import { DEFAULT_WAIT_S, MAX_WAIT_S } from './wait.js';

/**
 * The wire schemas: the same objects validate requests and generate the OpenAPI document, so the
 * two cannot drift. Request objects are strict: an unknown field (say `flavour`) is a 400 that
 * names it, never silently ignored.
 */

const exampleId = '2f1c7d2e-8a43-4d0f-9a5e-6f1b0c9d7e21';
const exampleTime = '2026-02-25T10:30:00.000Z';

export const resourceName = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, {
    error: '1 to 63 letters, digits, "-", "_" or "."; starting and ending with a letter or digit',
  })
  .openapi({ example: 'my-vm-instance' });

export const VmStatusSchema = z.enum(vmStatuses).openapi('VmStatus');
export const VmTaskSchema = z.enum(vmTasks).openapi('VmTask');
export const VmActionSchema = z.enum(vmActions).openapi('VmAction');

export const VmFaultSchema = z
  .object({
    code: z.string().openapi({ example: 'NO_VALID_HOST' }),
    message: z.string().openapi({ example: 'No host has room for flavor m1.xlarge (8 vCPUs, 16384 MB RAM)' }),
    at: z.string().openapi({ example: exampleTime }),
  })
  .openapi('VmFault', { description: 'Why the VM is in ERROR.' });

export const VmSchema = z
  .object({
    id: z.uuid().openapi({ example: exampleId }),
    name: resourceName,
    flavor: z.string().openapi({ example: 'm1.small' }),
    image: z.string().openapi({ example: 'ubuntu-22.04' }),
    status: VmStatusSchema,
    task: VmTaskSchema.nullable().openapi({ description: 'The action still in progress; null when settled.' }),
    ip_address: z.string().nullable().openapi({ example: '192.168.1.100' }),
    fault: VmFaultSchema.nullable(),
    created_at: z.string().openapi({ example: exampleTime }),
    updated_at: z.string().openapi({ example: exampleTime }),
    tenant: z.string().openapi({ description: 'The id of the tenant that owns the VM.', example: 'default' }),
    security_groups: z.array(z.string()).openapi({ description: 'The names of its security groups.', example: ['default'] }),
    networks: z
      .array(
        z.object({
          id: z.string().openapi({ example: '5b0a7c1e-2f3d-4e5a-8b9c-0d1e2f3a4b5c' }),
          name: z.string().openapi({ example: 'private' }),
          ip_address: z.string().nullable().openapi({ example: '192.168.1.100' }),
        }),
      )
      .openapi({ description: 'Its networks and its fixed address on each (docs/contract.md section 9); `ip_address` is the first one\'s.' }),
    floating_ip: z.string().nullable().openapi({ description: 'The floating IP associated with it, or null (section 9).', example: '203.0.113.10' }),
    allowed_actions: z.array(VmActionSchema).openapi({
      description: 'The actions the VM accepts now, from the transition table (docs/contract.md): none when DELETED, only delete while a task runs.',
      example: ['start', 'resize', 'delete'],
    }),
    volumes: z
      .array(z.object({ id: z.uuid(), device: z.string().nullable().openapi({ example: '/dev/vdb' }) }))
      .openapi({ description: 'The volumes attached to the VM (docs/contract.md section 10).' }),
  })
  .openapi('Vm');

export const VmActionEntrySchema = z
  .object({
    action: z.enum(['create', ...vmActions]),
    request_id: z.string().nullable().openapi({ description: 'The request that asked for it (its X-Request-Id).' }),
    key_id: z.string().nullable().openapi({ description: 'The API key that asked for it; null for an anonymous caller, and on OpenStack.' }),
    started_at: z.string().openapi({ example: exampleTime }),
    finished_at: z.string().nullable().openapi({ description: 'Null while the task runs.', example: exampleTime }),
    outcome: z.enum(['success', 'error', 'cancelled']).nullable().openapi({ description: 'Null while the task runs; `cancelled` when a delete interrupted it.' }),
  })
  .openapi('VmActionEntry');

export const VmActionListSchema = z.object({ data: z.array(VmActionEntrySchema) }).openapi('VmActionList');

export const VmListSchema = z
  .object({
    data: z.array(VmSchema),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as ?cursor= for the next page; null on the last page.' }),
  })
  .openapi('VmList');

export const FlavorSchema = z
  .object({
    id: z.string().openapi({ example: '2' }),
    name: z.string().openapi({ example: 'm1.small' }),
    vcpus: z.number().int().openapi({ example: 1 }),
    ram_mb: z.number().int().openapi({ example: 2048 }),
    disk_gb: z.number().int().openapi({ example: 20 }),
  })
  .openapi('Flavor');

export const ImageSchema = z
  .object({
    id: z.string().openapi({ example: '8c2e4a51-3b9f-4f7e-9d1a-0a6b1c2d3e41' }),
    name: z.string().openapi({ example: 'ubuntu-22.04' }),
    min_disk_gb: z.number().int().openapi({ example: 3 }),
    min_ram_mb: z.number().int().openapi({ example: 512 }),
  })
  .openapi('Image');

export const FlavorListSchema = z.object({ data: z.array(FlavorSchema) }).openapi('FlavorList');
export const ImageListSchema = z.object({ data: z.array(ImageSchema) }).openapi('ImageList');

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/errors/invalid-state-transition' }),
    title: z.string().openapi({ example: 'Invalid state transition' }),
    status: z.number().int().openapi({ example: 409 }),
    detail: z.string().openapi({ example: 'Cannot pause a VM that is STOPPED' }),
    instance: z.string().openapi({ example: `/api/v1/vms/${exampleId}/pause` }),
    code: z.enum(errorCodes).openapi({ example: 'INVALID_STATE_TRANSITION' }),
    request_id: z.string().openapi({ example: '6d0f8a3e-51c2-4a8e-b1c4-2f9e7d3a1b20' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    current_status: VmStatusSchema.optional(),
    allowed_actions: z.array(VmActionSchema).optional(),
    task: z.string().optional(),
    upstream: z.enum(['unreachable', 'error']).optional(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })).optional(),
  })
  .openapi('Problem', {
    description: `RFC 9457 problem details. Codes: ${Object.keys(problemCatalog).join(', ')}.`,
  });

/** A volume's size: whole gigabytes, 1 to 16384. */
export const volumeSize = z
  .number({ error: `must be a whole number of GB from ${MIN_VOLUME_GB} to ${MAX_VOLUME_GB}` })
  .int({ error: `must be a whole number of GB from ${MIN_VOLUME_GB} to ${MAX_VOLUME_GB}` })
  .min(MIN_VOLUME_GB, { error: `must be a whole number of GB from ${MIN_VOLUME_GB} to ${MAX_VOLUME_GB}` })
  .max(MAX_VOLUME_GB, { error: `must be a whole number of GB from ${MIN_VOLUME_GB} to ${MAX_VOLUME_GB}` })
  .openapi({ example: 10 });

const flavorRef = z.string().min(1).max(255).openapi({ description: 'A flavor name or id', example: 'm1.small' });
const imageRef = z.string().min(1).max(255).openapi({ description: 'An image name or id', example: 'ubuntu-22.04' });

/*
 * Request bodies are left out of components/schemas on purpose: described inline, they read as
 * input, so a field with a default (`start`, `type`) is optional in a generated client too.
 * openapi-typescript (with its defaults) makes every field with a default required in a
 * component, since a component may also describe a response, where the server always fills it in.
 */
export const CreateVmBody = z
  .strictObject({
    name: resourceName,
    flavor: flavorRef,
    image: imageRef,
    start: z.boolean().default(false).openapi({ description: 'Settle in RUNNING instead of STOPPED.' }),
    security_groups: z
      .array(z.string().min(1).max(255))
      .max(10)
      .default(['default'])
      .openapi({ description: 'Security groups by id or name; an unknown one is a 400 and no VM is made.', example: ['default'] }),
    networks: z
      .array(z.string().min(1).max(255).openapi({ description: 'A network id or name' }))
      .min(1)
      .max(8)
      .refine((refs) => new Set(refs).size === refs.length, { error: 'names each network once' })
      .optional()
      .openapi({ description: 'The networks to plug the VM into, in order (section 9); the default is the backend\'s (`private`, or OS_NETWORK).', example: ['private'] }),
    data_disks: z
      .array(
        z.strictObject({
          size_gb: volumeSize,
          delete_on_termination: z.boolean().default(false).openapi({ description: 'Delete the volume with the VM (otherwise it is detached and stays).' }),
        }),
      )
      .max(8)
      .optional()
      .openapi({ description: 'New volumes made and attached as the VM is created (at most 8).' }),
  })
  .openapi({ example: { name: 'web-1', flavor: 'm1.small', image: 'ubuntu-22.04', start: true } });

export const ResizeBody = z.strictObject({ flavor: flavorRef }).openapi({ example: { flavor: 'm1.medium' } });

export const RestartBody = z.strictObject({ type: z.enum(restartTypes).default('soft') }).openapi({ example: { type: 'soft' } });

/** Actions without a body accept none, or an empty object. */
export const EmptyBody = z.strictObject({});

export const VmIdParams = z.strictObject({
  id: z.uuid({ error: 'must be a VM id (a UUID)' }).openapi({ param: { name: 'id', in: 'path' }, example: exampleId }),
});

const nameOrId = (example: string) =>
  z.string().min(1).max(255).openapi({ param: { name: 'nameOrId', in: 'path', description: 'A name or an id' }, example });

/** Examples are entries of the memory backend's catalog, so that "Try it out" finds them. */
export const FlavorParams = z.strictObject({ nameOrId: nameOrId('m1.small') });
export const ImageParams = z.strictObject({ nameOrId: nameOrId('ubuntu-22.04') });

/** A status filter names each status at most once; more values than there are statuses is a 400. */
export const MAX_STATUS_VALUES = vmStatuses.length;

/**
 * `?status=` as a set: a comma-separated list, or the parameter repeated (what generated clients
 * send for an array), merged and de-duplicated. Bounded before any work, so a 2,000-value filter
 * costs a 400, not a scan per value.
 */
export const statusFilterOf = <S extends string>(known: readonly [S, ...S[]], example: S[]) => {
  const max = known.length;
  const statusError = `one or more of ${known.join(', ')}`;
  return z
    .preprocess(
      (value, ctx) => {
        const given: unknown[] = Array.isArray(value) ? value : [value];
        // split's limit keeps the work bounded whatever the URL holds.
        const parts = given.length > max ? given : given.flatMap((v) => String(v).split(',', max + 1));
        if (parts.length > max) {
          ctx.addIssue({ code: 'custom', message: `at most ${max} statuses; ${statusError}, comma-separated` });
          return z.NEVER;
        }
        const statuses = parts.map((p) => String(p).trim().toUpperCase());
        const bad = statuses.filter((p) => !(known as readonly string[]).includes(p));
        if (bad.length > 0) {
          ctx.addIssue({ code: 'custom', message: `unknown status ${bad.map((b) => JSON.stringify(b)).join(', ')}; ${statusError}` });
          return z.NEVER;
        }
        return statuses;
      },
      z
        .array(z.enum(known))
        .min(1)
        .max(max)
        .transform((statuses): ReadonlySet<S> => new Set(statuses)),
    )
    .openapi({
      param: { name: 'status', in: 'query', style: 'form', explode: false },
      description: 'One status or a comma-separated list (case-insensitive); the parameter may also be repeated. Without it, every status but DELETED.',
      example,
    });
};

const statusFilter = statusFilterOf<VmStatus>(vmStatuses, ['RUNNING', 'STOPPED']);

export const ListVmsQuery = z.strictObject({
  status: statusFilter.optional(),
  name: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: 'Exact name, or a prefix ending in `*` (e.g. `web-*`).', example: 'web-*' }),
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int({ error: 'must be a whole number from 1 to 1000' })
    .min(1, { error: 'must be a whole number from 1 to 1000' })
    .max(1000, { error: 'must be a whole number from 1 to 1000' })
    .default(50)
    .openapi({ example: 50 }),
  cursor: z.string().min(1).max(200).optional().openapi({ description: 'The next_cursor of the previous page.' }),
  tenant: z.string().min(1).max(64).optional().openapi({ description: 'Admin: only this tenant\'s VMs (other keys list their own tenant\'s).', example: 'default' }),
});

const waitError = `must be true, false or a number of seconds from 0 to ${MAX_WAIT_S}`;

/**
 * `?wait=` on every mutating call: `true` (the default wait), `false`, or a number of seconds. The
 * text is read here, with one message for any bad value; the document shows the typed forms.
 */
export const WaitQuery = z.strictObject({
  wait: z
    .preprocess(
      (value, ctx) => {
        if (typeof value !== 'string') return value; // e.g. given twice: the generic message says so
        if (value === 'true' || value === 'false') return value === 'true';
        if (/^\d{1,9}$/.test(value) && Number(value) <= MAX_WAIT_S) return Number(value);
        ctx.addIssue({ code: 'custom', message: waitError });
        return z.NEVER;
      },
      z.union([z.boolean(), z.number().int().min(0).max(MAX_WAIT_S)]),
    )
    .optional()
    .openapi({
      description: `Wait for the task to settle: \`true\` (${DEFAULT_WAIT_S} s) or seconds, up to ${MAX_WAIT_S}. \`Prefer: wait=N\` does the same.`,
      example: true,
    }),
});
