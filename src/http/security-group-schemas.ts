import { PORT_MAX, PORT_MIN, ethertypes, ruleDirections, ruleProtocols } from '../domain/security-group.js';
import { z } from './openapi/zod.js';
import { resourceName } from './schemas.js';

/** The wire schemas of security groups and their rules (docs/contract.md section 9). */

const exampleTime = '2026-02-25T10:30:00.000Z';
const exampleGroupId = '6a1f0e3c-2b4d-4c8e-9f7a-1d2e3f4a5b6c';
const exampleRuleId = 'c3d2e1f0-4a5b-4c6d-8e7f-0a1b2c3d4e5f';

const port = z.number().int().openapi({ example: 22 });

export const SecurityGroupRuleSchema = z
  .object({
    id: z.string().openapi({ example: exampleRuleId }),
    direction: z.enum(ruleDirections),
    protocol: z.enum(ruleProtocols).nullable().openapi({ description: 'null: any protocol.' }),
    port_min: port.nullable(),
    port_max: port.nullable(),
    remote_cidr: z.string().nullable().openapi({ description: 'The peer\'s prefix; null: anywhere.', example: '0.0.0.0/0' }),
    ethertype: z.enum(ethertypes),
  })
  .openapi('SecurityGroupRule');

export const SecurityGroupSchema = z
  .object({
    id: z.string().openapi({ example: exampleGroupId }),
    name: resourceName.openapi({ example: 'web' }),
    description: z.string().openapi({ example: 'HTTP and SSH in' }),
    rules: z.array(SecurityGroupRuleSchema),
    tenant: z.string().openapi({ description: 'The id of the tenant that owns the group.', example: 'default' }),
    created_at: z.string().openapi({ example: exampleTime }),
  })
  .openapi('SecurityGroup');

export const SecurityGroupListSchema = z.object({ data: z.array(SecurityGroupSchema) }).openapi('SecurityGroupList');

const description = z.string().max(255).openapi({ example: 'HTTP and SSH in' });

/** A name that could be read as an id would make `{id-or-name}` (and Nova, which takes either) ambiguous. */
const groupName = resourceName.refine((name) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(name), {
  error: 'must not be a UUID (ids and names would be confused)',
});

export const CreateSecurityGroupBody = z
  .strictObject({ name: groupName, description: description.optional() })
  .openapi({ example: { name: 'web', description: 'HTTP and SSH in' } });

export const UpdateSecurityGroupBody = z
  .strictObject({ name: groupName.optional(), description: description.optional() })
  .openapi({ example: { description: 'HTTP, HTTPS and SSH in' } });

/** Ranges are checked here only as numbers; the domain (ruleFromRequest) says what is wrong with them together. */
const rulePort = z.number().int().nullable().optional().openapi({ description: `${PORT_MIN} to ${PORT_MAX}; tcp and udp only.` });

export const CreateRuleBody = z
  .strictObject({
    direction: z.enum(ruleDirections),
    protocol: z.enum(ruleProtocols).nullable().optional().openapi({ description: 'Absent or null: any protocol.' }),
    port_min: rulePort,
    port_max: rulePort,
    remote_cidr: z.string().max(64).nullable().optional().openapi({ description: 'An IPv4 or IPv6 prefix; absent: anywhere.', example: '0.0.0.0/0' }),
    ethertype: z.enum(ethertypes).optional().openapi({ description: 'Absent: the family of remote_cidr, else IPv4.' }),
  })
  .openapi({ example: { direction: 'ingress', protocol: 'tcp', port_min: 22, port_max: 22, remote_cidr: '0.0.0.0/0' } });

export const AttachSecurityGroupBody = z
  .strictObject({ security_group: z.string().min(1).max(255).openapi({ description: 'A security group id or name', example: 'web' }) })
  .openapi({ example: { security_group: 'web' } });

export const securityGroupRef = z.string().min(1).max(255);

export const GroupParams = z.strictObject({
  id: securityGroupRef.openapi({ param: { name: 'id', in: 'path', description: 'A security group id or name' }, example: 'default' }),
});

export const RuleParams = z.strictObject({
  id: GroupParams.shape.id,
  ruleId: z.string().min(1).max(255).openapi({ param: { name: 'ruleId', in: 'path' }, example: exampleRuleId }),
});

export const VmGroupParams = z.strictObject({
  id: z.uuid({ error: 'must be a VM id (a UUID)' }).openapi({ param: { name: 'id', in: 'path' }, example: '2f1c7d2e-8a43-4d0f-9a5e-6f1b0c9d7e21' }),
  group: GroupParams.shape.id.openapi({ param: { name: 'group', in: 'path', description: 'A security group id or name' }, example: 'web' }),
});
