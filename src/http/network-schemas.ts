import { floatingIpStatuses } from '../domain/network.js';
import { z } from './openapi/zod.js';
import { resourceName } from './schemas.js';

/** The wire schemas of networks and floating IPs (docs/contract.md section 9); strict like the VM's. */

const exampleTime = '2026-02-25T10:30:00.000Z';
const exampleNetworkId = '5b0a7c1e-2f3d-4e5a-8b9c-0d1e2f3a4b5c';
const exampleFipId = '9e4d2c1b-0a3f-4b5e-8c7d-6f5e4d3c2b1a';

export const NetworkSchema = z
  .object({
    id: z.string().openapi({ example: exampleNetworkId }),
    name: z.string().openapi({ example: 'web-tier' }),
    cidr: z.string().openapi({ description: 'The subnet\'s IPv4 prefix.', example: '10.20.0.0/24' }),
    gateway_ip: z.string().nullable().openapi({ description: 'The router\'s address on the subnet.', example: '10.20.0.1' }),
    external: z.boolean().openapi({ description: 'Floating IPs come from an external network; VMs are not plugged into one.' }),
    shared: z.boolean().openapi({ description: 'The cloud shares it with every tenant (memory: `private`).' }),
    status: z.string().openapi({ description: 'ACTIVE, or what the cloud says (DOWN, BUILD, ERROR).', example: 'ACTIVE' }),
    tenant: z.string().nullable().openapi({ description: 'The owning tenant; null for the cloud\'s shared and external networks.', example: 'default' }),
    created_at: z.string().openapi({ example: exampleTime }),
  })
  .openapi('Network');

export const NetworkListSchema = z.object({ data: z.array(NetworkSchema) }).openapi('NetworkList');

export const FloatingIpSchema = z
  .object({
    id: z.string().openapi({ example: exampleFipId }),
    address: z.string().openapi({ example: '203.0.113.10' }),
    network: z.string().openapi({ description: 'The id of the external network it comes from.', example: exampleNetworkId }),
    vm_id: z.string().nullable().openapi({ description: 'The VM it points at, or null.' }),
    status: z.enum(floatingIpStatuses).openapi({
      description: 'Neutron\'s: ACTIVE once the cloud has plumbed an associated address, DOWN otherwise (a cloud without an L3 agent keeps it DOWN).',
      example: 'ACTIVE',
    }),
    tenant: z.string().openapi({ example: 'default' }),
    created_at: z.string().openapi({ example: exampleTime }),
  })
  .openapi('FloatingIp');

export const FloatingIpListSchema = z.object({ data: z.array(FloatingIpSchema) }).openapi('FloatingIpList');

const networkRef = z.string().min(1).max(255);

export const CreateNetworkBody = z
  .strictObject({
    name: resourceName,
    cidr: z.string().min(1).max(18).openapi({ description: 'An IPv4 prefix from /8 to /29, the network\'s own address (10.20.0.0/24, not 10.20.0.5/24).' }),
  })
  .openapi({ example: { name: 'web-tier', cidr: '10.20.0.0/24' } });

export const UpdateNetworkBody = z.strictObject({ name: resourceName }).openapi({ example: { name: 'web-tier-2' } });

export const NetworkParams = z.strictObject({
  idOrName: networkRef.openapi({ param: { name: 'idOrName', in: 'path', description: 'A network id or name' }, example: 'private' }),
});

export const AllocateFloatingIpBody = z
  .strictObject({ network: networkRef.optional().openapi({ description: 'The external network (id or name); optional when there is one.' }) })
  .openapi({ example: { network: 'public' } });

export const AssociateBody = z.strictObject({ vm: z.uuid({ error: 'must be a VM id (a UUID)' }) }).openapi({ example: { vm: '2f1c7d2e-8a43-4d0f-9a5e-6f1b0c9d7e21' } });

export const FloatingIpParams = z.strictObject({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: exampleFipId }),
});
