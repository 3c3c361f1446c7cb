import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stateful Keystone v3 for the unit tests of the Keystone tenant directory: projects (with
 * tags and extra properties), users with passwords, roles and project role assignments, application
 * credentials (owner-only create, as Keystone's policy), tokens by password or application
 * credential. Only the admin user may manage; what the real Keystone does is checked against the
 * local cloud by test/openstack/keystone-tenancy.test.ts.
 */
interface Credential {
  id: string;
  name: string;
  description: string;
  secret: string;
  userId: string;
  projectId: string;
  roles: string[];
  expiresAt: string | null;
}

type Body = Record<string, unknown>;

export class FakeKeystone {
  readonly projects = new Map<string, Body & { id: string; name: string; tags: string[] }>();
  readonly users = new Map<string, { id: string; name: string; password: string }>();
  readonly roles = new Map<string, string>([
    ['r-admin', 'admin'],
    ['r-member', 'member'],
    ['r-reader', 'reader'],
  ]);
  /** "project user" -> role ids. */
  readonly grants = new Map<string, Set<string>>();
  readonly credentials = new Map<string, Credential>();
  /** token -> whose. */
  private readonly tokens = new Map<string, { userId: string; projectId: string; roles: string[]; credentialId?: string }>();
  /** Every request, as "METHOD /path". */
  readonly seen: string[] = [];
  /** Whether tokens name their user, as Keystone's do (false: only the user's id). */
  tokenUserNames = true;
  /** Answers every request whose line matches with this status, while set. */
  failWith: { pattern: RegExp; status: number } | undefined;
  url = '';
  private server: Server | undefined;

  constructor() {
    this.projects.set('p-operator', { id: 'p-operator', name: 'operator', tags: [] });
    this.users.set('u-admin', { id: 'u-admin', name: 'admin', password: 'secret' });
    this.grants.set('p-operator u-admin', new Set(['r-admin']));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const line = `${req.method} ${url.pathname}`;
        this.seen.push(line);
        const text = Buffer.concat(chunks).toString();
        const answer = this.failWith?.pattern.test(line)
          ? { status: this.failWith.status, body: { error: { code: this.failWith.status, message: 'injected' } } }
          : this.answer(req.method ?? 'GET', url, text ? (JSON.parse(text) as Body) : {}, String(req.headers['x-auth-token'] ?? ''));
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v3`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  count(pattern: RegExp): number {
    return this.seen.filter((line) => pattern.test(line)).length;
  }

  private answer(method: string, url: URL, body: Body, token: string): { status: number; body?: unknown; headers?: Record<string, string> } {
    const path = url.pathname.replace(/^\/v3/, '');
    if (method === 'POST' && path === '/auth/tokens') return this.issue(body);
    const caller = this.tokens.get(token);
    if (!caller) return { status: 401, body: { error: { code: 401, message: 'The request you have made requires authentication.' } } };
    const admin = caller.roles.includes('admin');
    const parts = path.split('/').filter(Boolean);
    const notFound = { status: 404, body: { error: { code: 404, message: 'Could not find it.' } } };
    const forbidden = { status: 403, body: { error: { code: 403, message: 'You are not authorized.' } } };

    if (parts[0] === 'users' && parts[2] === 'application_credentials') {
      const userId = parts[1]!;
      if (method === 'POST') {
        if (caller.userId !== userId || caller.credentialId) return forbidden;
        const input = body['application_credential'] as { name: string; description: string; secret: string; roles: { name: string }[]; expires_at: string | null };
        const held = [...(this.grants.get(`${caller.projectId} ${userId}`) ?? [])].map((id) => this.roles.get(id));
        if (!input.roles.every((r) => held.includes(r.name))) return { status: 400, body: { error: { code: 400, message: 'unassigned role' } } };
        const credential: Credential = {
          id: randomBytes(16).toString('hex'),
          name: input.name,
          description: input.description,
          secret: input.secret,
          userId,
          projectId: caller.projectId,
          roles: input.roles.map((r) => r.name),
          expiresAt: input.expires_at === null ? null : input.expires_at.replace('Z', ''),
        };
        this.credentials.set(credential.id, credential);
        return { status: 201, body: { application_credential: { ...view(credential), secret: credential.secret } } };
      }
      if (!admin && caller.userId !== userId) return forbidden;
      if (parts[3] === undefined) return { status: 200, body: { application_credentials: [...this.credentials.values()].filter((c) => c.userId === userId).map(view) } };
      const credential = this.credentials.get(parts[3]);
      if (!credential || credential.userId !== userId) return notFound;
      if (method === 'DELETE') {
        this.credentials.delete(credential.id);
        return { status: 204 };
      }
      return { status: 200, body: { application_credential: view(credential) } };
    }
    if (!admin) return forbidden;

    if (parts[0] === 'projects' && parts.length === 1) {
      if (method === 'GET') {
        const tags = url.searchParams.get('tags')?.split(',') ?? [];
        const name = url.searchParams.get('name');
        const projects = [...this.projects.values()].filter((p) => tags.every((t) => p.tags.includes(t)) && (name === null || p.name === name));
        return { status: 200, body: { projects } };
      }
      const input = body['project'] as Body & { name: string; tags: string[] };
      if ([...this.projects.values()].some((p) => p.name === input.name)) return { status: 409, body: { error: { code: 409, message: 'Conflict' } } };
      const project = { ...input, id: randomBytes(16).toString('hex') };
      this.projects.set(project.id, project);
      return { status: 201, body: { project } };
    }
    if (parts[0] === 'projects' && parts.length === 2) {
      const project = this.projects.get(parts[1]!);
      if (!project) return notFound;
      if (method === 'DELETE') {
        this.projects.delete(project.id);
        return { status: 204 };
      }
      return { status: 200, body: { project } };
    }
    if (parts[0] === 'projects' && parts[2] === 'users' && parts[4] === 'roles' && method === 'PUT') {
      const key = `${parts[1]} ${parts[3]}`;
      this.grants.set(key, new Set([...(this.grants.get(key) ?? []), parts[5]!]));
      return { status: 204 };
    }
    if (parts[0] === 'users' && parts.length === 1) {
      if (method === 'GET') {
        const name = url.searchParams.get('name');
        return { status: 200, body: { users: [...this.users.values()].filter((u) => u.name === name).map(({ id, name: n }) => ({ id, name: n })) } };
      }
      const input = body['user'] as { name: string; password: string };
      if ([...this.users.values()].some((u) => u.name === input.name)) return { status: 409, body: { error: { code: 409, message: 'Conflict' } } };
      const user = { id: randomBytes(16).toString('hex'), name: input.name, password: input.password };
      this.users.set(user.id, user);
      return { status: 201, body: { user: { id: user.id, name: user.name } } };
    }
    if (parts[0] === 'users' && parts.length === 2) {
      const user = this.users.get(parts[1]!);
      if (!user) return notFound;
      if (method === 'DELETE') {
        this.users.delete(user.id);
        for (const c of [...this.credentials.values()]) if (c.userId === user.id) this.credentials.delete(c.id);
        return { status: 204 };
      }
      user.password = (body['user'] as { password: string }).password;
      return { status: 200, body: { user: { id: user.id, name: user.name } } };
    }
    if (parts[0] === 'roles') {
      if (method === 'GET') {
        const name = url.searchParams.get('name');
        return { status: 200, body: { roles: [...this.roles].filter(([, n]) => n === name).map(([id, n]) => ({ id, name: n })) } };
      }
      const name = (body['role'] as { name: string }).name;
      const id = `r-${name}`;
      this.roles.set(id, name);
      return { status: 201, body: { role: { id, name } } };
    }
    return notFound;
  }

  private issue(body: Body): { status: number; body?: unknown; headers?: Record<string, string> } {
    const auth = body['auth'] as { identity: { methods: string[]; password?: { user: { id?: string; name?: string; password: string } }; application_credential?: { id: string; secret: string } }; scope?: { project: { id?: string; name?: string } } };
    let whose: { userId: string; projectId: string; roles: string[]; credentialId?: string };
    let expiresAt = new Date(Date.now() + 3_600_000);
    if (auth.identity.application_credential) {
      const credential = this.credentials.get(auth.identity.application_credential.id);
      if (!credential) return { status: 404, body: { error: { code: 404, message: 'Could not find Application Credential' } } };
      if (credential.secret !== auth.identity.application_credential.secret) return { status: 401, body: { error: { code: 401, message: 'Invalid' } } };
      if (credential.expiresAt !== null) {
        const end = new Date(`${credential.expiresAt}Z`);
        if (end.getTime() <= Date.now()) return { status: 401, body: { error: { code: 401, message: 'expired' } } };
        if (end < expiresAt) expiresAt = end;
      }
      whose = { userId: credential.userId, projectId: credential.projectId, roles: credential.roles, credentialId: credential.id };
    } else {
      const given = auth.identity.password!.user;
      const user = [...this.users.values()].find((u) => u.id === given.id || u.name === given.name);
      if (!user || user.password !== given.password) return { status: 401, body: { error: { code: 401, message: 'Invalid' } } };
      const scope = auth.scope!.project;
      const project = [...this.projects.values()].find((p) => p.id === scope.id || p.name === scope.name);
      if (!project) return { status: 401, body: { error: { code: 401, message: 'no project' } } };
      whose = { userId: user.id, projectId: project.id, roles: [...(this.grants.get(`${project.id} ${user.id}`) ?? [])].map((id) => this.roles.get(id)!) };
    }
    const token = randomBytes(8).toString('hex');
    this.tokens.set(token, whose);
    const issuedAt = new Date();
    return {
      status: 201,
      headers: { 'x-subject-token': token },
      body: {
        token: {
          issued_at: issuedAt.toISOString(),
          expires_at: expiresAt.toISOString(),
          // As Keystone: the user's name and domain (every user here is in the default domain).
          user: { id: whose.userId, ...(this.tokenUserNames && { name: this.users.get(whose.userId)?.name, domain: { id: 'default', name: 'Default' } }) },
          project: { id: whose.projectId },
          roles: whose.roles.map((name) => ({ name })),
          ...(whose.credentialId && { application_credential: { id: whose.credentialId } }),
          catalog: [{ type: 'identity', endpoints: [{ interface: 'public', url: this.url }] }],
        },
      },
    };
  }
}

function view(c: Credential): Body {
  return { id: c.id, name: c.name, description: c.description, project_id: c.projectId, roles: c.roles.map((name) => ({ name })), expires_at: c.expiresAt, unrestricted: false };
}
