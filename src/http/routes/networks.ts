import type { ErrorCode } from '../../domain/errors.js';
import type { NetworkService } from '../../service/network-service.js';
import type { EndpointRouter } from '../endpoint.js';
import {
  AllocateFloatingIpBody,
  AssociateBody,
  CreateNetworkBody,
  FloatingIpListSchema,
  FloatingIpParams,
  FloatingIpSchema,
  NetworkListSchema,
  NetworkParams,
  NetworkSchema,
  UpdateNetworkBody,
} from '../network-schemas.js';
import { EmptyBody } from '../schemas.js';

const upstream: ErrorCode[] = ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT'];

/** /networks and /floating-ips (docs/contract.md section 9). */
export function networkRoutes(api: EndpointRouter, service: NetworkService): void {
  api.add({
    method: 'post',
    path: '/networks',
    operationId: 'createNetwork',
    summary: 'Create a network with one IPv4 subnet',
    description: 'The network is routed to the external network, so floating IPs work for its VMs.',
    tag: 'Networks',
    body: CreateNetworkBody,
    bodyRequired: true,
    responses: { 201: { description: 'Created', schema: NetworkSchema } },
    problems: ['NETWORK_NAME_TAKEN', 'QUOTA_EXCEEDED', ...upstream],
    handler: async ({ body, scope }, req, res) => {
      const network = await service.create(scope, body);
      res.location(`${req.path.replace(/\/$/, '')}/${network.id}`);
      res.status(201).json(network);
    },
  });

  api.add({
    method: 'get',
    path: '/networks',
    operationId: 'listNetworks',
    summary: 'List networks: the tenant\'s own, and the shared and external ones',
    tag: 'Networks',
    responses: { 200: { description: 'The networks', schema: NetworkListSchema } },
    problems: upstream,
    handler: async ({ scope }, _req, res) => {
      res.json({ data: await service.list(scope) });
    },
  });

  api.add({
    method: 'get',
    path: '/networks/{idOrName}',
    operationId: 'getNetwork',
    summary: 'Get a network by id or name',
    tag: 'Networks',
    params: NetworkParams,
    responses: { 200: { description: 'The network', schema: NetworkSchema } },
    problems: ['NETWORK_NOT_FOUND', ...upstream],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.get(scope, params.idOrName));
    },
  });

  api.add({
    method: 'patch',
    path: '/networks/{idOrName}',
    operationId: 'updateNetwork',
    summary: 'Rename a network',
    description: 'Only a tenant\'s own networks; the cloud\'s shared and external ones answer 403.',
    tag: 'Networks',
    params: NetworkParams,
    body: UpdateNetworkBody,
    bodyRequired: true,
    responses: { 200: { description: 'Renamed', schema: NetworkSchema } },
    problems: ['NETWORK_NOT_FOUND', 'NETWORK_NAME_TAKEN', ...upstream],
    handler: async ({ params, body, scope }, _req, res) => {
      res.json(await service.rename(scope, params.idOrName, body.name));
    },
  });

  api.add({
    method: 'delete',
    path: '/networks/{idOrName}',
    operationId: 'deleteNetwork',
    summary: 'Delete a network',
    description: 'Refused with 409 `RESOURCE_IN_USE`, naming the VM, while a VM is on it. The body is the network as it was.',
    tag: 'Networks',
    params: NetworkParams,
    responses: { 200: { description: 'Deleted', schema: NetworkSchema } },
    problems: ['NETWORK_NOT_FOUND', 'RESOURCE_IN_USE', ...upstream],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.delete(scope, params.idOrName));
    },
  });

  api.add({
    method: 'post',
    path: '/floating-ips',
    operationId: 'allocateFloatingIp',
    summary: 'Take a floating IP from the external network',
    tag: 'Networks',
    body: AllocateFloatingIpBody,
    responses: { 201: { description: 'Allocated, associated with no VM', schema: FloatingIpSchema } },
    problems: ['UNKNOWN_NETWORK', 'POOL_EXHAUSTED', 'QUOTA_EXCEEDED', ...upstream],
    handler: async ({ body, scope }, req, res) => {
      const fip = await service.allocateFloatingIp(scope, body.network);
      res.location(`${req.path.replace(/\/$/, '')}/${fip.id}`);
      res.status(201).json(fip);
    },
  });

  api.add({
    method: 'get',
    path: '/floating-ips',
    operationId: 'listFloatingIps',
    summary: 'List the tenant\'s floating IPs',
    tag: 'Networks',
    responses: { 200: { description: 'The floating IPs', schema: FloatingIpListSchema } },
    problems: upstream,
    handler: async ({ scope }, _req, res) => {
      res.json({ data: await service.listFloatingIps(scope) });
    },
  });

  api.add({
    method: 'get',
    path: '/floating-ips/{id}',
    operationId: 'getFloatingIp',
    summary: 'Get a floating IP',
    tag: 'Networks',
    params: FloatingIpParams,
    responses: { 200: { description: 'The floating IP', schema: FloatingIpSchema } },
    problems: ['FLOATING_IP_NOT_FOUND', ...upstream],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.getFloatingIp(scope, params.id));
    },
  });

  api.add({
    method: 'post',
    path: '/floating-ips/{id}/associate',
    operationId: 'associateFloatingIp',
    summary: 'Point a floating IP at a VM',
    description: 'At the VM\'s first port. A VM has at most one floating IP; associating the same pair again changes nothing.',
    tag: 'Networks',
    params: FloatingIpParams,
    body: AssociateBody,
    bodyRequired: true,
    responses: { 200: { description: 'Associated', schema: FloatingIpSchema } },
    problems: ['FLOATING_IP_NOT_FOUND', 'VM_NOT_FOUND', 'VM_HAS_FLOATING_IP', 'RESOURCE_IN_USE', 'VM_UNREACHABLE', ...upstream],
    handler: async ({ params, body, scope }, _req, res) => {
      res.json(await service.associate(scope, params.id, body.vm));
    },
  });

  api.add({
    method: 'post',
    path: '/floating-ips/{id}/disassociate',
    operationId: 'disassociateFloatingIp',
    summary: 'Point a floating IP at no VM',
    tag: 'Networks',
    params: FloatingIpParams,
    body: EmptyBody,
    responses: { 200: { description: 'Disassociated (or already was)', schema: FloatingIpSchema } },
    problems: ['FLOATING_IP_NOT_FOUND', ...upstream],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.disassociate(scope, params.id));
    },
  });

  api.add({
    method: 'delete',
    path: '/floating-ips/{id}',
    operationId: 'releaseFloatingIp',
    summary: 'Release a floating IP to the pool',
    description: 'Disassociates it first if need be. The body is the floating IP as it was.',
    tag: 'Networks',
    params: FloatingIpParams,
    responses: { 200: { description: 'Released', schema: FloatingIpSchema } },
    problems: ['FLOATING_IP_NOT_FOUND', ...upstream],
    handler: async ({ params, scope }, _req, res) => {
      res.json(await service.release(scope, params.id));
    },
  });
}
