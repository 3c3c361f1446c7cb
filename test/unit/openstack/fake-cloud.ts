/**
 * The stateful part of the fake OpenStack (fake-openstack.ts): Nova servers made from the recorded
 * BUILD/ERROR servers that move the way the real Nova does (NOTES.md's matrix: an accepted action
 * sets task_state at once, and the server settles on the next read), plus the recorded flavors,
 * images and networks. The OpenStack backend's unit tests run against it; the client's tests use
 * explicit routes instead.
 */
import { fixture } from './fixtures.js';
import type { Reply } from './fake-openstack.js';

export type NovaServer = Record<string, unknown> & {
  id: string;
  name: string;
  status: string;
  'OS-EXT-STS:task_state': string | null;
  'OS-EXT-STS:vm_state': string;
  'OS-EXT-STS:power_state': number;
  tags: string[];
  metadata: Record<string, string>;
  flavor: Record<string, unknown>;
};

interface Settled {
  status: string;
  vm: string;
  power: number;
}

const states: Record<string, Settled> = {
  ACTIVE: { status: 'ACTIVE', vm: 'active', power: 1 },
  SHUTOFF: { status: 'SHUTOFF', vm: 'stopped', power: 4 },
  PAUSED: { status: 'PAUSED', vm: 'paused', power: 3 },
  SUSPENDED: { status: 'SUSPENDED', vm: 'suspended', power: 7 },
};

/** action -> [allowed from, task_state, settles in, status shown meanwhile (default: unchanged)]. */
const actions: Record<string, [string[], string, string, string?]> = {
  'os-stop': [['ACTIVE'], 'powering-off', 'SHUTOFF'],
  'os-start': [['SHUTOFF'], 'powering-on', 'ACTIVE'],
  pause: [['ACTIVE'], 'pausing', 'PAUSED'],
  unpause: [['PAUSED'], 'unpausing', 'ACTIVE'],
  suspend: [['ACTIVE'], 'suspending', 'SUSPENDED'],
  resume: [['SUSPENDED'], 'resuming', 'ACTIVE'],
  reboot: [['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'], 'rebooting', 'ACTIVE', 'REBOOT'],
  resize: [['ACTIVE', 'SHUTOFF'], 'resize_prep', 'VERIFY_RESIZE', 'RESIZE'],
};

export class FakeCloud {
  readonly servers = new Map<string, NovaServer>();
  private readonly pending = new Map<string, { to: string; flavor?: Record<string, unknown>; reads?: number }>();
  private clock = Date.parse('2026-11-23T19:00:00Z');
  private seq = 0;

  /** Puts a server in the fake directly, e.g. from a recorded fixture. */
  add(server: NovaServer): void {
    this.servers.set(server.id, server);
  }

  /** Answers a request the cloud knows, or undefined. */
  route(method: string, url: URL, body: unknown, baseUrl: string): Reply | undefined {
    const path = url.pathname;
    if (method === 'GET' && path === '/compute/v2.1/') return { status: 200, body: fixture('compute-version-v2.1.json') };
    if (method === 'GET' && path === '/compute/v2.1/flavors/detail') return { status: 200, body: fixture('compute-flavors-detail.json') };
    if (method === 'GET' && path === '/image/v2/images') return { status: 200, body: fixture('image-images.json') };
    if (method === 'GET' && path === '/network/v2.0/networks') {
      const name = url.searchParams.get('name');
      const { networks } = fixture<{ networks: { name: string }[] }>('network-networks.json');
      return { status: 200, body: { networks: networks.filter((n) => n.name === name) } };
    }
    if (method === 'POST' && path === '/compute/v2.1/servers') return this.create(body as { server: Record<string, unknown> });
    if (method === 'GET' && path === '/compute/v2.1/servers/detail') return this.list(url.searchParams, baseUrl);
    const match = /^\/compute\/v2\.1\/servers\/([^/]+)(?:\/(action|tags|metadata)(?:\/([^/]+))?)?$/.exec(path);
    if (!match) return undefined;
    const server = this.servers.get(match[1] ?? '');
    if (!server || server.status === 'DELETED') {
      return { status: 404, body: fixture('compute-error-404-itemnotfound.json') };
    }
    const [, , sub, item = ''] = match;
    if (sub === undefined && method === 'GET') return { status: 200, body: { server: this.settle(server) } };
    if (sub === undefined && method === 'DELETE') return this.delete(server);
    if (sub === 'action' && method === 'POST') return this.action(server, body as Record<string, unknown>);
    const key = decodeURIComponent(item);
    if (sub === 'tags' && method === 'PUT') {
      if (!server.tags.includes(key)) server.tags.push(key);
      return { status: 201 };
    }
    if (sub === 'tags' && method === 'DELETE') {
      if (!server.tags.includes(key)) return { status: 404, body: { itemNotFound: { code: 404, message: 'tag not found' } } };
      server.tags = server.tags.filter((t) => t !== key);
      return { status: 204 };
    }
    if (sub === 'metadata' && method === 'PUT') {
      if (server['OS-EXT-STS:task_state'] !== null) return this.conflict(server, 'update metadata');
      server.metadata[key] = (body as { meta: Record<string, string> }).meta[key] ?? '';
      return { status: 200, body };
    }
    return { status: 405, body: { error: { message: 'not in the fake' } } };
  }

  private now(): string {
    // One second a step, so that `updated` moves as Nova's does (whole seconds).
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private create(body: { server: Record<string, unknown> }): Reply {
    const request = body.server;
    const flavors = fixture<{ flavors: Record<string, unknown>[] }>('compute-flavors-detail.json').flavors;
    const flavor = flavors.find((f) => f['id'] === request['flavorRef']);
    if (!flavor) return { status: 400, body: fixture('compute-error-400-badrequest.json') };
    if (flavor['id'] === 'quota-buster') return { status: 403, body: fixture('compute-error-403-quota.json') };
    const unplaceable = flavor['id'] === 'huge';
    const base = fixture<{ server: NovaServer }>(unplaceable ? 'compute-server-ERROR-novalidhost.json' : 'compute-server-BUILD.json').server;
    const id = `00000000-0000-4000-8000-${String(++this.seq).padStart(12, '0')}`;
    const server: NovaServer = {
      ...base,
      id,
      name: String(request['name']),
      tags: [...((request['tags'] as string[] | undefined) ?? [])],
      metadata: { ...((request['metadata'] as Record<string, string> | undefined) ?? {}) },
      flavor: { vcpus: flavor['vcpus'], ram: flavor['ram'], disk: flavor['disk'], ephemeral: 0, swap: 0, original_name: flavor['name'] },
      image: { id: request['imageRef'] },
      created: this.now(),
      updated: this.now(),
    };
    this.servers.set(id, server);
    if (!unplaceable) this.pending.set(id, { to: 'ACTIVE' });
    return { status: 202, body: { server: { id, links: [], adminPass: '<adminPass>' } } };
  }

  /** A server's pending change lands when it is read, as if Nova had finished in the meantime. */
  private settle(server: NovaServer): NovaServer {
    const pending = this.pending.get(server.id);
    // The first read after an action still shows the task, as Nova's does.
    if (pending && (pending.reads ?? 0) > 0) pending.reads = (pending.reads ?? 0) - 1;
    else if (pending) {
      this.pending.delete(server.id);
      if (pending.to === 'GONE') {
        server.status = 'DELETED';
        server['OS-EXT-STS:vm_state'] = 'deleted';
      } else if (pending.to === 'VERIFY_RESIZE') {
        server.status = 'VERIFY_RESIZE';
        server['OS-EXT-STS:vm_state'] = 'resized';
        if (pending.flavor) server.flavor = pending.flavor;
      } else {
        const to = states[pending.to] as Settled;
        server.status = to.status;
        server['OS-EXT-STS:vm_state'] = to.vm;
        server['OS-EXT-STS:power_state'] = to.power;
        if (pending.to === 'ACTIVE' && server['hostId'] === '') {
          Object.assign(server, { hostId: 'a1b2', 'OS-EXT-AZ:availability_zone': 'nova' });
          server['addresses'] = fixture<{ server: NovaServer }>('compute-server-ACTIVE.json').server['addresses'];
        }
      }
      server['OS-EXT-STS:task_state'] = null;
      server['updated'] = this.now();
    }
    return structuredClone(server);
  }

  private list(query: URLSearchParams, baseUrl: string): Reply {
    const tags = query.get('tags');
    const name = query.get('name');
    const since = query.get('changes-since');
    const limit = Number(query.get('limit') ?? '1000');
    const marker = query.get('marker');
    let all = [...this.servers.values()].map((s) => this.settle(s));
    if (since === null) all = all.filter((s) => s.status !== 'DELETED');
    if (tags !== null) all = all.filter((s) => tags.split(',').every((t) => s.tags.includes(t)));
    if (name !== null) all = all.filter((s) => new RegExp(name).test(s.name));
    let start = 0;
    if (marker !== null) {
      start = all.findIndex((s) => s.id === marker) + 1;
      if (start === 0) return { status: 400, body: { badRequest: { code: 400, message: `marker [${marker}] not found` } } };
    }
    const page = all.slice(start, start + limit);
    const links = page.length === limit ? [{ rel: 'next', href: `${baseUrl}/compute/v2.1/servers/detail?limit=${limit}&marker=${page[page.length - 1]?.id}` }] : [];
    return { status: 200, body: { servers: page, servers_links: links } };
  }

  private delete(server: NovaServer): Reply {
    if (server['hostId'] === '') {
      server.status = 'DELETED';
      server['OS-EXT-STS:vm_state'] = 'deleted';
      server['updated'] = this.now();
    } else {
      server['OS-EXT-STS:task_state'] = 'deleting';
      this.pending.set(server.id, { to: 'GONE', reads: 1 });
    }
    return { status: 204 };
  }

  private action(server: NovaServer, body: Record<string, unknown>): Reply {
    const [name] = Object.keys(body);
    if (name === 'confirmResize') {
      if (server.status !== 'VERIFY_RESIZE') return { status: 400, body: { badRequest: { code: 400, message: 'Instance has not been resized.' } } };
      const power = server['OS-EXT-STS:power_state'];
      this.pending.set(server.id, { to: power === 4 ? 'SHUTOFF' : 'ACTIVE' });
      return { status: 204 };
    }
    const rule = actions[name ?? ''];
    if (!rule) return { status: 400, body: { badRequest: { code: 400, message: 'unknown action' } } };
    const [from, taskState, to, shown] = rule;
    if (server['OS-EXT-STS:task_state'] !== null) return this.conflict(server, name ?? '', true);
    if (!from.includes(server.status)) return this.conflict(server, name ?? '');
    server['OS-EXT-STS:task_state'] = taskState;
    if (shown) server.status = shown;
    server['updated'] = this.now();
    let flavor: Record<string, unknown> | undefined;
    if (name === 'resize') {
      const ref = (body['resize'] as { flavorRef: string }).flavorRef;
      const f = fixture<{ flavors: Record<string, unknown>[] }>('compute-flavors-detail.json').flavors.find((x) => x['id'] === ref);
      flavor = { vcpus: f?.['vcpus'], ram: f?.['ram'], disk: f?.['disk'], ephemeral: 0, swap: 0, original_name: f?.['name'] };
    }
    this.pending.set(server.id, { to, reads: 1, ...(flavor && { flavor }) });
    return { status: 202 };
  }

  private conflict(server: NovaServer, verb: string, task = false): Reply {
    const message = task
      ? `Cannot '${verb}' instance ${server.id} while it is in task_state ${server['OS-EXT-STS:task_state']}`
      : `Cannot '${verb}' instance ${server.id} while it is in vm_state ${server['OS-EXT-STS:vm_state']}`;
    return { status: 409, body: { conflictingRequest: { code: 409, message } } };
  }
}
