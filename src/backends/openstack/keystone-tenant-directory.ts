import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../../domain/errors.js';
import { DEFAULT_TENANT, KEY_SECRET_PREFIX, roles, type ApiKey, type Role, type Tenant } from '../../domain/tenancy.js';
import type { KeyIdentity, NewKey, TenantDirectory } from '../../repository/tenant-directory.js';
import { OpenStackHttpError, type ApplicationCredential, type Connection, type Project, type TokenInfo } from '../../openstack/index.js';
import { upstream } from './upstream-call.js';

/**
 * Tenants and API keys kept in Keystone (docs/contract.md section 8; the design and why are in
 * ARCHITECTURE.md, "Tenants in Keystone"): a tenant is a project, a key an application credential
 * of the tenant's service user, and the API stores no secret and no key table.
 *
 * - The operator (the API's configured credentials, a Keystone admin) makes projects, users and
 *   role assignments. Keystone lets only a credential's owner make it, so for each new key the
 *   operator sets the tenant's service user a fresh random password, logs in as that user, makes the
 *   credential and sets another random password that no one keeps.
 * - A key's role is a Keystone role of the credential: `reader`, `member`, or `vmapi-admin` (a role
 *   of our own that Nova and Neutron know nothing of: never Keystone's `admin`, which the legacy
 *   policies make global).
 * - A presented key is proven once by a Keystone token made from it; then its hash is trusted
 *   until that token expires, and Keystone is asked every `revalidateMs` whether the credential
 *   still exists, so a key revoked by another process is refused within that time here.
 */
export interface KeystoneTenantsOptions {
  operator: Connection;
  log: Logger;
  /** How long a proven key is trusted before Keystone is asked again whether it exists. Default 60 s. */
  revalidateMs?: number;
  now?: () => number;
  /** Waits this long (tests pass a shorter one). */
  pause?: (ms: number) => Promise<void>;
}

/** What marks a project as one of this API's tenants. */
const TENANT_TAG = 'vmapi-tenant';
/** The domain tenants' projects and users are made in. */
const DOMAIN_ID = 'default';
/** API role -> the Keystone role an application credential carries for it. */
const keystoneRoleOf: Record<Role, string> = { reader: 'reader', member: 'member', admin: 'vmapi-admin' };

/** Project names are unique in a domain: a hash of the tenant's name makes Keystone refuse a second tenant of that name, atomically, whatever its length. */
const projectNameOf = (tenantName: string) => `vmapi-${createHash('sha256').update(tenantName).digest('base64url').slice(0, 32)}`;
const serviceUserNameOf = (tenant: string) => `vmapi-svc-${tenant}`;
const digest = (text: string) => createHash('sha256').update(text).digest();
const newSecret = () => randomBytes(32).toString('base64url');

/** A key proven by a Keystone token; only the hash of what was presented is kept, and the connection its token serves. */
interface ProvenKey {
  identity: KeyIdentity;
  userId: string;
  hash: Buffer;
  /** The connection that holds the token which proved the key: the tenant's own calls go out with it. */
  connection: Connection;
  /** When the token that proved it needs renewing (Keystone caps it at the credential's expiry). */
  provenUntil: number;
  checkedAt: number;
}

export class KeystoneTenantDirectory implements TenantDirectory {
  readonly sharedByProcesses = true;
  private readonly operator: Connection;
  private readonly log: Logger;
  private readonly revalidateMs: number;
  private readonly now: () => number;
  private readonly pause: (ms: number) => Promise<void>;
  private readonly startedAt: string;
  private readonly proven = new Map<string, ProvenKey>();
  /** Service user id -> the list of its credentials in flight (stillExists). */
  private readonly checks = new Map<string, Promise<Set<string>>>();
  /** Tenant id -> its service user's id; ids never change, so this only fills. */
  private readonly serviceUsers = new Map<string, string>();
  private roleIds: Promise<Record<Role, string>> | undefined;

  constructor(options: KeystoneTenantsOptions) {
    this.operator = options.operator;
    this.log = options.log;
    this.revalidateMs = options.revalidateMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.pause = options.pause ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.startedAt = new Date(this.now()).toISOString();
  }

  async createTenant(input: { name: string; description: string }): Promise<Tenant> {
    if (input.name === DEFAULT_TENANT) throw new ApiError('TENANT_NAME_TAKEN', `A tenant named "${input.name}" exists already`);
    const createdAt = new Date(this.now()).toISOString();
    const project = await this.keystone('create tenant', () =>
      this.operator.identity.createProject({
        name: projectNameOf(input.name),
        description: input.description,
        domainId: DOMAIN_ID,
        tags: [TENANT_TAG],
        extra: { vmapi_name: input.name, vmapi_created_at: createdAt },
      }),
    ).catch((err: unknown) => {
      if (isApiError409(err)) throw new ApiError('TENANT_NAME_TAKEN', `A tenant named "${input.name}" exists already`);
      throw err;
    });
    try {
      await this.serviceUserOf(project.id);
    } catch (err) {
      // Nothing half-made: a tenant without its user could never have a key.
      await this.keystone('undo tenant', () => this.operator.identity.deleteProject(project.id)).catch(() => undefined);
      throw err;
    }
    return tenantOf(project);
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    if (id === DEFAULT_TENANT) return this.defaultTenant();
    const project = await this.findProject(id);
    return project && tenantOf(project);
  }

  async listTenants(): Promise<Tenant[]> {
    const projects = await this.keystone('list tenants', () => this.operator.identity.listProjects({ tags: [TENANT_TAG] }));
    return [this.defaultTenant(), ...projects.map(tenantOf)];
  }

  async deleteTenant(id: string): Promise<void> {
    const project = await this.findProject(id);
    if (!project) return;
    await this.deleteDefaultGroups(project.id);
    const userId = await this.findServiceUser(project.id);
    // Deleting the user deletes its application credentials: every key of the tenant.
    if (userId !== undefined) await this.keystone('delete tenant user', () => this.operator.identity.deleteUser(userId)).catch(ignoreNotFound);
    await this.keystone('delete tenant', () => this.operator.identity.deleteProject(project.id)).catch(ignoreNotFound);
    this.serviceUsers.delete(id);
    for (const [keyId, proven] of this.proven) if (proven.identity.tenant === id) this.proven.delete(keyId);
  }

  /**
   * The security groups no one deletes through the API, which would outlive the project: Neutron's
   * own `default` (made in a project on its first call) and the tenant's `default` (`vmapi-default`,
   * made on first use). The API refuses to delete a tenant that still holds groups of its own, so
   * these two are all that is left. A failure is logged and does not keep the tenant.
   */
  private async deleteDefaultGroups(projectId: string): Promise<void> {
    try {
      const operation = { operation: 'delete tenant default groups' };
      const groups = await upstream(this.log, operation, () => this.operator.network.listSecurityGroups({ projectId }));
      for (const group of groups) await upstream(this.log, operation, () => this.operator.network.deleteSecurityGroup(group.id)).catch(ignoreNotFound);
    } catch (err) {
      this.log.warn({ event: 'openstack.cleanup_failed', project_id: projectId, error: String(err) }, "could not delete the default security groups of a tenant's project");
    }
  }

  async createKey(input: NewKey): Promise<{ key: ApiKey; secret: string }> {
    const projectId = await this.projectIdOf(input.tenant);
    const userId = await this.serviceUserOf(input.tenant, projectId);
    const password = newSecret();
    await this.keystone('create key', () => this.operator.identity.setUserPassword(userId, password));
    // A password change revokes the user's tokens issued up to that second, and Keystone's token
    // times have one-second precision: a token got in the same second is refused (401) at its
    // first use. So the login waits until Keystone's clock, whatever it reads, is a second on.
    await this.pause(1_000);
    const secret = newSecret();
    const createdAt = new Date(this.now()).toISOString();
    try {
      const asUser = this.operator.as({ userId, password, projectId });
      const credential = await this.keystone('create key', () =>
        asUser.identity.createApplicationCredential(userId, {
          name: `vmk-${randomBytes(8).toString('hex')}`,
          description: JSON.stringify({ name: input.name, created_at: createdAt }),
          secret,
          roles: [keystoneRoleOf[input.role]],
          expiresAt: input.expiresAt ?? null,
        }),
      );
      return { key: keyOf(credential, input.tenant), secret: `${KEY_SECRET_PREFIX}${credential.id}.${secret}` };
    } finally {
      // The password served once; no one keeps the next one.
      await this.keystone('create key', () => this.operator.identity.setUserPassword(userId, newSecret())).catch((err: unknown) =>
        this.log.error({ event: 'keystone.password_reset_failed', user_id: userId, error: String(err) }, 'could not reset a service user password'),
      );
    }
  }

  async getKey(id: string): Promise<ApiKey | undefined> {
    const found = await this.findKey(id);
    return found?.key;
  }

  async listKeys(tenant?: string): Promise<ApiKey[]> {
    const tenants = tenant === undefined ? (await this.listTenants()).map((t) => t.id) : [tenant];
    const lists = await Promise.all(tenants.map((t) => this.keysOf(t)));
    return lists.flat().map(({ key }) => key);
  }

  async revokeKey(id: string): Promise<void> {
    const found = await this.findKey(id);
    this.proven.delete(id);
    if (!found) return;
    await this.keystone('revoke key', () => this.operator.identity.deleteApplicationCredential(found.userId, id)).catch(ignoreNotFound);
  }

  async authenticate(secret: string): Promise<KeyIdentity | undefined> {
    const parsed = parseSecret(secret);
    if (!parsed) return undefined;
    const hash = digest(secret);
    const known = this.proven.get(parsed.id);
    const now = this.now();
    if (known && timingSafeEqual(known.hash, hash) && now < known.provenUntil) {
      if (now - known.checkedAt < this.revalidateMs) return known.identity;
      return (await this.stillExists(known)) ? known.identity : undefined;
    }
    return this.prove(parsed.id, parsed.secret, hash);
  }

  /** A Keystone token made from the key proves it, and names its project, user and roles. */
  private async prove(id: string, secret: string, hash: Buffer): Promise<KeyIdentity | undefined> {
    const asKey = this.operator.as({ applicationCredentialId: id, secret });
    let token;
    try {
      token = await this.keystone('authenticate key', () => asKey.authenticate());
    } catch (err) {
      // 401: a wrong secret, an expired credential or a role taken away; 404: no such credential.
      if (isApiErrorFrom(err, [401, 404])) {
        // Forget the key only when this was its secret: a wrong guess must not evict a good key.
        const known = this.proven.get(id);
        if (known && timingSafeEqual(known.hash, hash)) this.proven.delete(id);
        return undefined;
      }
      throw err;
    }
    const tenant = await this.tenantOfKey(token);
    if (tenant === undefined) return undefined;
    const identity: KeyIdentity = { id, tenant, role: apiRoleOf(token.roles) };
    this.proven.set(id, { identity, userId: token.userId, hash, connection: asKey, provenUntil: token.refreshAt.getTime(), checkedAt: this.now() });
    return identity;
  }

  /**
   * The connection of a key this process proved and still trusts: its token is scoped to the key's
   * project and carries the key's role, so a tenant's calls meet Nova's, Neutron's and Cinder's own
   * isolation (tenant-placement.ts). One token per key per token lifetime: the one that proved it.
   */
  connectionOf(keyId: string): Connection | undefined {
    return this.proven.get(keyId)?.connection;
  }

  /**
   * Whether a trusted key's credential still exists. One list of its service user's credentials
   * answers for every key of that tenant, and callers arriving while it runs share it: Keystone
   * sees one request per tenant per `revalidateMs`, not one per key (or per call).
   */
  private async stillExists(known: ProvenKey): Promise<boolean> {
    let check = this.checks.get(known.userId);
    if (check === undefined) {
      check = this.keystone('check keys', () => this.operator.identity.listApplicationCredentials(known.userId)).then(
        (credentials) => {
          const live = new Set(credentials.map((c) => c.id));
          const at = this.now();
          for (const [id, proven] of this.proven) {
            if (proven.userId !== known.userId) continue;
            if (live.has(id)) proven.checkedAt = at;
            else this.proven.delete(id);
          }
          return live;
        },
        (err: unknown) => {
          // A user gone (its tenant deleted elsewhere) has no credentials left.
          if (isApiErrorFrom(err, [404])) return new Set<string>();
          throw err;
        },
      );
      this.checks.set(known.userId, check);
      void check.finally(() => this.checks.delete(known.userId)).catch(() => undefined);
    }
    const live = await check;
    if (!live.has(known.identity.id)) this.proven.delete(known.identity.id);
    return live.has(known.identity.id);
  }

  private async findKey(id: string): Promise<{ key: ApiKey; userId: string } | undefined> {
    const proven = this.proven.get(id);
    if (proven) {
      try {
        const credential = await this.keystone('get key', () => this.operator.identity.getApplicationCredential(proven.userId, id));
        return { key: keyOf(credential, proven.identity.tenant), userId: proven.userId };
      } catch (err) {
        if (!isApiErrorFrom(err, [404])) throw err;
        return undefined;
      }
    }
    // Keystone finds a credential only under its user: look through every tenant's.
    for (const tenant of await this.listTenants()) {
      const found = (await this.keysOf(tenant.id)).find((k) => k.key.id === id);
      if (found) return found;
    }
    return undefined;
  }

  private async keysOf(tenant: string): Promise<{ key: ApiKey; userId: string }[]> {
    const projectId = await this.projectIdOf(tenant).catch(() => undefined);
    if (projectId === undefined) return [];
    const userId = await this.findServiceUser(tenant);
    if (userId === undefined) return [];
    const credentials = await this.keystone('list keys', () => this.operator.identity.listApplicationCredentials(userId));
    return credentials.map((c) => ({ key: keyOf(c, tenant), userId }));
  }

  private defaultTenant(): Tenant {
    return { id: DEFAULT_TENANT, name: DEFAULT_TENANT, description: "The operator's tenant, and everyone's with AUTH_MODE=none", created_at: this.startedAt };
  }

  /** The tenant's project, if it is one of ours (other projects of the cloud are no tenants). */
  private async findProject(id: string): Promise<Project | undefined> {
    try {
      const project = await this.keystone('get tenant', () => this.operator.identity.getProject(id));
      return project.tags?.includes(TENANT_TAG) ? project : undefined;
    } catch (err) {
      if (isApiErrorFrom(err, [404])) return undefined;
      throw err;
    }
  }

  private async projectIdOf(tenant: string): Promise<string> {
    if (tenant === DEFAULT_TENANT) return this.operatorProjectId();
    const project = await this.findProject(tenant);
    if (!project) throw new ApiError('TENANT_NOT_FOUND', `No tenant with id ${tenant}`);
    return project.id;
  }

  /**
   * The tenant of the key a token was made from; undefined for a credential some other user of the
   * cloud made for itself, which is not one of this API's keys. The token names its user: a user
   * named `vmapi-svc-<tenant>` in the tenants' domain is the tenant's service user (only the operator
   * makes users there, one per tenant, deleted with it), so proving a key costs its one token
   * request and nothing more (docs/contract.md section 8: at most one Keystone request per key
   * per token lifetime). A token without the name is checked by asking for the project and user.
   */
  private async tenantOfKey(token: TokenInfo): Promise<string | undefined> {
    if (token.projectId === undefined) return undefined;
    const tenant = token.projectId === (await this.operatorProjectId()) ? DEFAULT_TENANT : token.projectId;
    if (token.userName === serviceUserNameOf(tenant) && token.userDomainId === DOMAIN_ID) {
      this.serviceUsers.set(tenant, token.userId);
      return tenant;
    }
    if (tenant !== DEFAULT_TENANT && !(await this.findProject(tenant))) return undefined;
    return (await this.findServiceUser(tenant)) === token.userId ? tenant : undefined;
  }

  private async operatorProjectId(): Promise<string> {
    const token = await this.keystone('operator token', () => this.operator.authenticate());
    if (token.projectId === undefined) throw new ApiError('BACKEND_UNAVAILABLE', "The API's OpenStack credentials are not scoped to a project", { upstream: 'error' });
    return token.projectId;
  }

  /** The tenant's service user (tenant ids are project ids, but for "default"). */
  private async findServiceUser(tenant: string): Promise<string | undefined> {
    const cached = this.serviceUsers.get(tenant);
    if (cached !== undefined) return cached;
    const users = await this.keystone('find tenant user', () => this.operator.identity.findUsers({ name: serviceUserNameOf(tenant), domainId: DOMAIN_ID }));
    const id = users[0]?.id;
    if (id !== undefined) this.serviceUsers.set(tenant, id);
    return id;
  }

  /** The tenant's service user, made on first need with every role a key may carry on the project. */
  private async serviceUserOf(tenant: string, projectId = tenant): Promise<string> {
    const existing = await this.findServiceUser(tenant);
    if (existing !== undefined) return existing;
    const user = await this.keystone('create tenant user', () =>
      this.operator.identity.createUser({ name: serviceUserNameOf(tenant), domainId: DOMAIN_ID, password: newSecret(), defaultProjectId: projectId }),
    ).catch(async (err: unknown) => {
      // Another process made it first.
      if (!isApiError409(err)) throw err;
      const raced = await this.findServiceUser(tenant);
      if (raced === undefined) throw err;
      return { id: raced };
    });
    const roleIds = await this.roleIdsOnce();
    for (const role of roles) await this.keystone('create tenant user', () => this.operator.identity.assignProjectRole(projectId, user.id, roleIds[role]));
    this.serviceUsers.set(tenant, user.id);
    return user.id;
  }

  /** The Keystone roles keys carry; `vmapi-admin` is made the first time it is needed. */
  private roleIdsOnce(): Promise<Record<Role, string>> {
    this.roleIds ??= (async () => {
      const entries = await Promise.all(
        roles.map(async (role): Promise<[Role, string]> => {
          const name = keystoneRoleOf[role];
          const found = await this.keystone('find roles', () => this.operator.identity.findRoles(name));
          const id = found[0]?.id ?? (await this.keystone('create role', () => this.operator.identity.createRole(name))).id;
          return [role, id];
        }),
      );
      return Object.fromEntries(entries) as Record<Role, string>;
    })();
    this.roleIds.catch(() => {
      this.roleIds = undefined;
    });
    return this.roleIds;
  }

  private keystone<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return upstream(this.log, { operation }, work).catch((err: unknown) => {
      // The operator's own calls refused: its credentials are not a Keystone admin.
      if (isApiErrorFrom(err, [403])) {
        throw new ApiError('BACKEND_UNAVAILABLE', "The API's OpenStack credentials may not manage Keystone projects and users: OS_TENANTS=keystone needs an admin", { upstream: 'error' }, { cause: err });
      }
      throw err;
    });
  }
}

function parseSecret(secret: string): { id: string; secret: string } | undefined {
  if (!secret.startsWith(KEY_SECRET_PREFIX)) return undefined;
  const dot = secret.indexOf('.', KEY_SECRET_PREFIX.length);
  if (dot < 0) return undefined;
  const id = secret.slice(KEY_SECRET_PREFIX.length, dot);
  const rest = secret.slice(dot + 1);
  // Keystone's ids are 32 hex digits; anything else cannot be one of its credentials.
  return /^[0-9a-f]{32}$/.test(id) && rest.length > 0 ? { id, secret: rest } : undefined;
}

/** The strongest API role among a token's Keystone roles. */
function apiRoleOf(keystoneRoles: readonly string[]): Role {
  let best: Role = 'reader';
  for (const role of roles) if (keystoneRoles.includes(keystoneRoleOf[role])) best = role;
  return best;
}

function tenantOf(project: Project): Tenant {
  const extra = project as Project & { vmapi_name?: unknown; vmapi_created_at?: unknown };
  return {
    id: project.id,
    name: typeof extra.vmapi_name === 'string' ? extra.vmapi_name : project.name,
    description: project.description ?? '',
    created_at: typeof extra.vmapi_created_at === 'string' ? extra.vmapi_created_at : new Date(0).toISOString(),
  };
}

function keyOf(credential: ApplicationCredential, tenant: string): ApiKey {
  let described: { name?: unknown; created_at?: unknown } = {};
  try {
    described = JSON.parse(credential.description ?? '{}') as typeof described;
  } catch {
    // Made by someone else than this API: show its Keystone name.
  }
  return {
    id: credential.id,
    name: typeof described.name === 'string' ? described.name : credential.name,
    role: apiRoleOf(credential.roles.map((r) => r.name)),
    tenant,
    created_at: typeof described.created_at === 'string' ? described.created_at : new Date(0).toISOString(),
    expires_at: credential.expires_at ? new Date(credential.expires_at.endsWith('Z') ? credential.expires_at : `${credential.expires_at}Z`).toISOString() : null,
  };
}

function upstreamStatus(err: unknown): number | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof OpenStackHttpError ? cause.status : undefined;
}

function isApiErrorFrom(err: unknown, statuses: number[]): boolean {
  const status = upstreamStatus(err);
  return status !== undefined && statuses.includes(status);
}

const isApiError409 = (err: unknown) => isApiErrorFrom(err, [409]);

function ignoreNotFound(err: unknown): void {
  if (!isApiErrorFrom(err, [404])) throw err;
}
