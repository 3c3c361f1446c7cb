import { randomUUID } from 'node:crypto';
import type { FakeCloud } from './fake-cloud.js';
import type { FakeOpenStack, Reply, SeenRequest } from './fake-openstack.js';

interface Group {
  id: string;
  name: string;
  description: string;
  project_id: string;
  security_group_rules: Record<string, unknown>[];
  tags: string[];
  created_at: string;
}

const NET = '/network/v2.0';

const neutronError = (status: number, type: string, message: string): Reply => ({ status, body: { NeutronError: { type, message, detail: '' } } });

/**
 * Neutron's security groups, rules, tags and ports as far as the API uses them, added to a fake
 * started with `{ cloud: true }`: what Neutron (Zed) does that the adapter relies on: the egress
 * pair on every new group, `default` refused as a name, tags set after create, 409s for a duplicate
 * rule, a group in use and the quota, and Nova naming a server's groups from its ports. Routes are
 * registered per resource as it is made, as the fake routes by exact path.
 */
export class FakeNeutronSecurityGroups {
  readonly groups = new Map<string, Group>();
  /** A server's one port: its id and group ids. */
  readonly ports = new Map<string, { id: string; deviceId: string; groups: string[] }>();
  quota = 10;
  private seq = 0;

  constructor(private readonly fake: FakeOpenStack) {
    const cloud = fake.cloud as FakeCloud;
    fake.route('GET', `${NET}/security-groups`, (req) => this.list(req));
    fake.route('POST', `${NET}/security-groups`, (req) => this.create(req));
    fake.route('POST', `${NET}/security-group-rules`, (req) => this.addRule(req));
    fake.route('GET', `${NET}/ports`, (req) => {
      const deviceId = req.query.get('device_id');
      const ports = [...this.ports.values()].filter((p) => p.deviceId === deviceId);
      return { status: 200, body: { ports: ports.map((p) => ({ id: p.id, device_id: p.deviceId, security_groups: [...p.groups] })) } };
    });
    // Nova's create, with its ports: the groups it names (by name or id, within the project) go on the server's port.
    fake.route('POST', '/compute/v2.1/servers', (req) => {
      const requested = ((req.body as { server: { security_groups?: { name: string }[] } }).server.security_groups ?? [{ name: 'default' }]).map((g) => g.name);
      const ids: string[] = [];
      for (const ref of requested) {
        const byName = [...this.groups.values()].filter((g) => g.name === ref);
        if (byName.length > 1) return { status: 409, body: { conflictingRequest: { code: 409, message: `Multiple security groups found matching '${ref}'` } } };
        const found = byName[0] ?? this.groups.get(ref);
        if (!found) return { status: 400, body: { badRequest: { code: 400, message: `Security group ${ref} not found.` } } };
        ids.push(found.id);
      }
      const reply = cloud.route('POST', new URL(`${fake.url}/compute/v2.1/servers`), req.body, fake.url) as Reply;
      const serverId = (reply.body as { server?: { id: string } }).server?.id;
      const server = serverId === undefined ? undefined : cloud.servers.get(serverId);
      if (server) {
        const port = { id: randomUUID(), deviceId: server.id, groups: ids };
        this.ports.set(port.id, port);
        this.portRoutes(port.id);
        // Deleting the server takes its port with it (Nova does, a moment later).
        fake.route('DELETE', `/compute/v2.1/servers/${server.id}`, (r) => {
          for (const [id, p] of this.ports) if (p.deviceId === server.id) this.ports.delete(id);
          return cloud.route('DELETE', new URL(`${fake.url}${r.path}`), r.body, fake.url) as Reply;
        });
        Object.defineProperty(server, 'security_groups', {
          enumerable: true,
          get: () => (server.status === 'DELETED' ? [] : port.groups.map((id) => ({ name: this.groups.get(id)?.name ?? id }))),
        });
      }
      return reply;
    });
  }

  private now(): string {
    return new Date(Date.parse('2026-11-23T19:00:00Z') + ++this.seq * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private list(req: SeenRequest): Reply {
    const id = req.query.get('id');
    const name = req.query.get('name');
    const tags = req.query.get('tags');
    const groups = [...this.groups.values()].filter(
      (g) => (id === null || g.id === id) && (name === null || g.name === name) && (tags === null || tags.split(',').every((t) => g.tags.includes(t))),
    );
    return { status: 200, body: { security_groups: groups } };
  }

  private create(req: SeenRequest): Reply {
    const input = (req.body as { security_group: { name: string; description?: string } }).security_group;
    if (input.name.toLowerCase() === 'default') return neutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    if (this.groups.size >= this.quota) return neutronError(409, 'OverQuota', "Quota exceeded for resources: ['security_group'].");
    const id = randomUUID();
    const group: Group = {
      id,
      name: input.name,
      description: input.description ?? '',
      project_id: 'demo',
      security_group_rules: ['IPv4', 'IPv6'].map((ethertype) => this.rule(id, { direction: 'egress', ethertype })),
      tags: [],
      created_at: this.now(),
    };
    this.groups.set(id, group);
    const path = `${NET}/security-groups/${id}`;
    this.fake.route('GET', path, () => (this.groups.has(id) ? { status: 200, body: { security_group: this.groups.get(id) } } : this.gone(id)));
    this.fake.route('PUT', path, (r) => {
      const g = this.groups.get(id);
      if (!g) return this.gone(id);
      Object.assign(g, (r.body as { security_group: Partial<Group> }).security_group);
      return { status: 200, body: { security_group: g } };
    });
    this.fake.route('DELETE', path, () => {
      if (!this.groups.has(id)) return this.gone(id);
      if ([...this.ports.values()].some((p) => p.groups.includes(id))) {
        return neutronError(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);
      }
      this.groups.delete(id);
      return { status: 204 };
    });
    this.fake.route('PUT', `${path}/tags`, (r) => {
      const g = this.groups.get(id);
      if (!g) return this.gone(id);
      g.tags = [...(r.body as { tags: string[] }).tags];
      return { status: 200, body: { tags: g.tags } };
    });
    return { status: 201, body: { security_group: group } };
  }

  private rule(groupId: string, fields: Record<string, unknown>): Record<string, unknown> {
    return {
      id: randomUUID(),
      security_group_id: groupId,
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: null,
      remote_group_id: null,
      ...fields,
    };
  }

  private addRule(req: SeenRequest): Reply {
    const input = (req.body as { security_group_rule: Record<string, unknown> }).security_group_rule;
    const group = this.groups.get(String(input['security_group_id']));
    if (!group) return neutronError(404, 'SecurityGroupNotFound', 'Security group could not be found.');
    const rule = this.rule(group.id, input);
    const keys = ['direction', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'ethertype'];
    const same = group.security_group_rules.find((r) => keys.every((k) => r[k] === rule[k]));
    if (same) return neutronError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${String(same['id'])}.`);
    const total = [...this.groups.values()].reduce((n, g) => n + g.security_group_rules.length, 0);
    if (total >= 100) return neutronError(409, 'OverQuota', "Quota exceeded for resources: ['security_group_rule'].");
    group.security_group_rules.push(rule);
    const id = String(rule['id']);
    this.fake.route('DELETE', `${NET}/security-group-rules/${id}`, () => {
      const owner = [...this.groups.values()].find((g) => g.security_group_rules.some((r) => r['id'] === id));
      if (!owner) return neutronError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
      owner.security_group_rules = owner.security_group_rules.filter((r) => r['id'] !== id);
      return { status: 204 };
    });
    return { status: 201, body: { security_group_rule: rule } };
  }

  private portRoutes(id: string): void {
    this.fake.route('PUT', `${NET}/ports/${id}`, (req) => {
      const port = this.ports.get(id);
      if (!port) return neutronError(404, 'PortNotFound', `Port ${id} could not be found.`);
      port.groups = [...(req.body as { port: { security_groups: string[] } }).port.security_groups];
      return { status: 200, body: { port: { id, security_groups: port.groups } } };
    });
  }

  private gone(id: string): Reply {
    return neutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
  }
}
