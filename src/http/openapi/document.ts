import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/**
 * Every tag an operation may use, in the order Swagger UI shows them; an endpoint's `tag` is one
 * of these names (the type says so), so none goes undeclared.
 */
const tags = [
  { name: 'VMs', description: 'Create, list, get and delete virtual machines.' },
  { name: 'VM actions', description: 'Change a VM\'s state. Each answers 200 once settled, or 202 while its task runs.' },
  { name: 'Catalog', description: 'The flavors (sizes) and images a VM is created from.' },
  { name: 'Events', description: 'A Server-Sent Events stream of VM creates, settles and deletes.' },
  { name: 'Tenants and keys', description: 'Tenants, their API keys, and who the caller is.' },
  { name: 'Security groups', description: 'A tenant\'s security groups, their rules, and which VMs have them.' },
  { name: 'Networks', description: 'A tenant\'s networks (one IPv4 subnet each) and floating IPs from the external network.' },
  { name: 'Volumes', description: 'Block storage volumes: create, extend, attach to and detach from VMs.' },
  { name: 'Operations', description: 'Probes, metrics and the problem types: outside /api/v1, and never behind a key.' },
] as const;

export type ApiTag = (typeof tags)[number]['name'];

/** The OpenAPI 3.1 document of everything registered: the endpoints, the operations' routes, security. */
export function openApiDocument(registry: OpenAPIRegistry, version: string): object {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'VM lifecycle API',
      version,
      description:
        'Create, start, stop, restart, pause, suspend, resume, resize and delete virtual machines over plain HTTP. ' +
        'Errors are RFC 9457 problem+json; see /errors/{slug} for each problem type.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: [...tags],
  });
}
