import type { SecurityGroup } from '../../domain/security-group.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { SecurityGroupService } from '../../service/security-group-service.js';
import type { EndpointRouter } from '../endpoint.js';
import { VmSchema, VmIdParams } from '../schemas.js';
import {
  AttachSecurityGroupBody,
  CreateRuleBody,
  CreateSecurityGroupBody,
  GroupParams,
  RuleParams,
  SecurityGroupListSchema,
  SecurityGroupRuleSchema,
  SecurityGroupSchema,
  UpdateSecurityGroupBody,
  VmGroupParams,
} from '../security-group-schemas.js';
import { vmView } from '../vm-view.js';

const backendProblems: ErrorCode[] = ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'];

/** Written out field by field, as vmView is: the wire shape is this list, not whatever a backend adds. */
const groupView = (g: SecurityGroup): SecurityGroup => ({
  id: g.id,
  name: g.name,
  description: g.description,
  rules: g.rules.map((r) => ({
    id: r.id,
    direction: r.direction,
    protocol: r.protocol,
    port_min: r.port_min,
    port_max: r.port_max,
    remote_cidr: r.remote_cidr,
    ethertype: r.ethertype,
  })),
  tenant: g.tenant,
  created_at: g.created_at,
});

/** Security groups, their rules, and attaching them to VMs (docs/contract.md section 9). */
export function securityGroupRoutes(api: EndpointRouter, service: SecurityGroupService): void {
  api.add({
    method: 'post',
    path: '/security-groups',
    operationId: 'createSecurityGroup',
    summary: 'Create a security group',
    description: 'A new group allows all egress (IPv4 and IPv6) and no ingress. Names are unique in a tenant; `default` is always taken.',
    tag: 'Security groups',
    body: CreateSecurityGroupBody,
    bodyRequired: true,
    responses: { 201: { description: 'The group', schema: SecurityGroupSchema } },
    problems: ['SECURITY_GROUP_NAME_TAKEN', 'QUOTA_EXCEEDED', ...backendProblems],
    handler: async ({ body, scope }, req, res) => {
      const group = await service.create(scope, body);
      res.location(`${req.path.replace(/\/$/, '')}/${group.id}`);
      res.status(201).json(groupView(group));
    },
  });

  api.add({
    method: 'get',
    path: '/security-groups',
    operationId: 'listSecurityGroups',
    summary: 'List the tenant\'s security groups',
    description: 'Oldest first; the tenant\'s `default` group is always there.',
    tag: 'Security groups',
    responses: { 200: { description: 'The groups', schema: SecurityGroupListSchema } },
    problems: backendProblems,
    handler: async ({ scope }, _req, res) => {
      res.json({ data: (await service.list(scope)).map(groupView) });
    },
  });

  api.add({
    method: 'get',
    path: '/security-groups/{id}',
    operationId: 'getSecurityGroup',
    summary: 'Get a security group by id or name',
    tag: 'Security groups',
    params: GroupParams,
    responses: { 200: { description: 'The group', schema: SecurityGroupSchema } },
    problems: ['SECURITY_GROUP_NOT_FOUND', ...backendProblems],
    handler: async ({ params, scope }, _req, res) => {
      res.json(groupView(await service.get(scope, params.id)));
    },
  });

  api.add({
    method: 'patch',
    path: '/security-groups/{id}',
    operationId: 'updateSecurityGroup',
    summary: 'Rename a security group or change its description',
    description: 'The `default` group keeps its name.',
    tag: 'Security groups',
    params: GroupParams,
    body: UpdateSecurityGroupBody,
    bodyRequired: true,
    responses: { 200: { description: 'The group', schema: SecurityGroupSchema } },
    problems: ['SECURITY_GROUP_NOT_FOUND', 'SECURITY_GROUP_NAME_TAKEN', 'DEFAULT_SECURITY_GROUP', ...backendProblems],
    handler: async ({ params, body, scope }, _req, res) => {
      res.json(groupView(await service.update(scope, params.id, body)));
    },
  });

  api.add({
    method: 'delete',
    path: '/security-groups/{id}',
    operationId: 'deleteSecurityGroup',
    summary: 'Delete a security group that no VM uses',
    tag: 'Security groups',
    params: GroupParams,
    responses: { 200: { description: 'The group, deleted', schema: SecurityGroupSchema } },
    problems: ['SECURITY_GROUP_NOT_FOUND', 'RESOURCE_IN_USE', 'DEFAULT_SECURITY_GROUP', ...backendProblems],
    handler: async ({ params, scope }, _req, res) => {
      res.json(groupView(await service.delete(scope, params.id)));
    },
  });

  api.add({
    method: 'post',
    path: '/security-groups/{id}/rules',
    operationId: 'createSecurityGroupRule',
    summary: 'Add a rule to a security group',
    description: 'Ports (1 to 65535, `port_min` not above `port_max`; one alone is a single port) only with tcp or udp.',
    tag: 'Security groups',
    params: GroupParams,
    body: CreateRuleBody,
    bodyRequired: true,
    responses: { 201: { description: 'The rule', schema: SecurityGroupRuleSchema } },
    problems: ['SECURITY_GROUP_NOT_FOUND', 'RULE_EXISTS', 'QUOTA_EXCEEDED', ...backendProblems],
    handler: async ({ params, body, scope }, _req, res) => {
      res.status(201).json(await service.addRule(scope, params.id, body));
    },
  });

  api.add({
    method: 'delete',
    path: '/security-groups/{id}/rules/{ruleId}',
    operationId: 'deleteSecurityGroupRule',
    summary: 'Delete a rule of a security group',
    tag: 'Security groups',
    params: RuleParams,
    responses: { 200: { description: 'The group, without the rule', schema: SecurityGroupSchema } },
    problems: ['SECURITY_GROUP_NOT_FOUND', 'RULE_NOT_FOUND', ...backendProblems],
    handler: async ({ params, scope }, _req, res) => {
      res.json(groupView(await service.deleteRule(scope, params.id, params.ruleId)));
    },
  });

  api.add({
    method: 'post',
    path: '/vms/{id}/security-groups',
    operationId: 'attachSecurityGroup',
    summary: 'Attach a security group to a VM',
    tag: 'Security groups',
    params: VmIdParams,
    body: AttachSecurityGroupBody,
    bodyRequired: true,
    responses: { 200: { description: 'The VM, with the group', schema: VmSchema } },
    problems: ['VM_NOT_FOUND', 'UNKNOWN_SECURITY_GROUP', 'ALREADY_ATTACHED', ...backendProblems],
    handler: async ({ params, body, scope }, _req, res) => {
      res.json(vmView(await service.attach(scope, params.id, body.security_group)));
    },
  });

  api.add({
    method: 'delete',
    path: '/vms/{id}/security-groups/{group}',
    operationId: 'detachSecurityGroup',
    summary: 'Detach a security group from a VM',
    description: 'A group the VM does not have is a 404.',
    tag: 'Security groups',
    params: VmGroupParams,
    responses: { 200: { description: 'The VM, without the group', schema: VmSchema } },
    problems: ['VM_NOT_FOUND', 'SECURITY_GROUP_NOT_FOUND', ...backendProblems],
    handler: async ({ params, scope }, _req, res) => {
      res.json(vmView(await service.detach(scope, params.id, params.group)));
    },
  });
}
