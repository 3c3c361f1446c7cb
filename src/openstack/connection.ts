import type { Logger } from 'pino';
import { ComputeProxy } from './compute/proxy.js';
import { parseMicroversion } from './compute/versions.js';
import { OpenStackConfigError, OpenStackEndpointNotFoundError, OpenStackHttpError, OpenStackShapeError } from './errors.js';
import {
  authOptionsProblem,
  authRequestBody,
  identityV3Url,
  tokenResponseSchema,
  type AuthOptions,
  type CatalogEntry,
} from './identity/tokens.js';
import { IdentityProxy } from './identity/proxy.js';
import { ImageProxy } from './image/proxy.js';
import { NetworkProxy } from './network/proxy.js';
import { BlockStorageProxy } from './block-storage/proxy.js';
import { parseResource } from './resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from './service.js';
import { Transport, type TransportOptions, type TransportResponse } from './transport.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface ConnectionOptions extends TransportOptions {
  auth: AuthOptions;
  /** Picks endpoints of this region; without it, the first endpoint of the interface wins. */
  regionName?: string;
  /** Default public. */
  interface?: EndpointInterface;
  /** Pinned compute microversion, default 2.93 (what Zed's Nova offers at most). */
  computeMicroversion?: string;
  /** A token is replaced this long before it expires. Default 60 000. */
  tokenRefreshMarginMs?: number;
  /** Injected clock (ms since the epoch) for token expiry. */
  now?: () => number;
  logger?: Logger;
}

/** What callers may know of the current token: never its value. */
export interface TokenInfo {
  projectId: string | undefined;
  userId: string;
  /** The user's name and domain, when Keystone says (it does in every v3 token). */
  userName: string | undefined;
  userDomainId: string | undefined;
  /** Role names in the token's project. */
  roles: string[];
  /** The application credential the token was made from, if any. */
  applicationCredentialId: string | undefined;
  /** When this client will stop using it (local clock). */
  refreshAt: Date;
}

interface CachedToken extends TokenInfo {
  value: string;
  catalog: CatalogEntry[] | undefined;
}

export const defaultComputeMicroversion = '2.93';

/**
 * Auth, token cache and service catalog for one cloud, handing out one proxy per service
 * (openstacksdk's Connection). Safe to share across concurrent requests.
 */
export class Connection implements ServiceCaller {
  readonly compute: ComputeProxy;
  readonly identity: IdentityProxy;
  readonly image: ImageProxy;
  readonly network: NetworkProxy;
  readonly blockStorage: BlockStorageProxy;
  readonly interface: EndpointInterface;
  readonly regionName: string | undefined;
  private readonly auth: AuthOptions;
  private readonly options: ConnectionOptions;
  private readonly transport: Transport;
  private readonly refreshMarginMs: number;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private token: CachedToken | undefined;
  private authInFlight: Promise<CachedToken> | undefined;
  private tokenRequestCount = 0;

  constructor(options: ConnectionOptions) {
    const problem = authOptionsProblem(options.auth);
    if (problem !== undefined) throw new OpenStackConfigError(problem);
    const microversion = options.computeMicroversion ?? defaultComputeMicroversion;
    parseMicroversion(microversion);
    this.auth = options.auth;
    this.options = options;
    this.interface = options.interface ?? 'public';
    this.regionName = options.regionName;
    this.refreshMarginMs = options.tokenRefreshMarginMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.transport = new Transport(options);
    this.compute = new ComputeProxy(this, microversion);
    this.identity = new IdentityProxy(this);
    this.image = new ImageProxy(this);
    this.network = new NetworkProxy(this);
    this.blockStorage = new BlockStorageProxy(this);
  }

  /**
   * A connection to the same cloud (auth URL, region, interface, timeouts, microversion) with other
   * credentials: a user's password scoped to a project, or an application credential.
   */
  as(credentials: { userId: string; password: string; projectId: string } | { applicationCredentialId: string; secret: string }): Connection {
    const authUrl = this.auth.authUrl;
    const auth: AuthOptions =
      'applicationCredentialId' in credentials
        ? { type: 'applicationCredential', authUrl, applicationCredentialId: credentials.applicationCredentialId, applicationCredentialSecret: credentials.secret }
        : { type: 'password', authUrl, userId: credentials.userId, password: credentials.password, projectId: credentials.projectId };
    const other = new Connection({ ...this.options, auth });
    // The same cloud speaks the same Cinder: no second negotiation.
    other.blockStorage.adopt(this.blockStorage);
    return other;
  }

  /** The project of the token held now; undefined before the first authentication (or unscoped). */
  get projectId(): string | undefined {
    return this.token?.projectId;
  }

  /** How many token requests this connection has sent to Keystone (for benchmarks and tests). */
  get tokenRequests(): number {
    return this.tokenRequestCount;
  }

  /** Makes sure a valid token is cached, authenticating if needed. */
  async authenticate(options?: CallOptions): Promise<TokenInfo> {
    const { projectId, userId, userName, userDomainId, roles, applicationCredentialId, refreshAt } = await this.currentToken(options);
    return { projectId, userId, userName, userDomainId, roles, applicationCredentialId, refreshAt };
  }

  /** The catalog URL of a service for this connection's interface and region. */
  async endpoint(serviceType: string, options?: CallOptions): Promise<string> {
    return this.findEndpoint(await this.currentToken(options), serviceType);
  }

  /** Forgets the cached token, so the next call authenticates again. */
  invalidateToken(): void {
    this.token = undefined;
  }

  /**
   * An authenticated call to a catalog service. A 401 means the token was revoked or expired early:
   * authenticate once more and repeat the call once. Repeating even a POST is safe here, as Keystone
   * middleware refused it before the service saw it.
   */
  async call(serviceType: string, request: ServiceRequest, options: CallOptions = {}): Promise<TransportResponse> {
    const token = await this.currentToken(options);
    try {
      return await this.send(token, serviceType, request, options);
    } catch (err) {
      if (!(err instanceof OpenStackHttpError && err.status === 401)) throw err;
      this.logger?.debug({ service: serviceType, path: err.path, requestId: err.requestId }, 'openstack token refused, authenticating again');
      // Concurrent callers may all get a 401 for the same token: only the first drops it.
      if (this.token === token) this.token = undefined;
      return this.send(await this.currentToken(options), serviceType, request, options);
    }
  }

  private send(token: CachedToken, serviceType: string, request: ServiceRequest, options: CallOptions): Promise<TransportResponse> {
    const endpoint = this.findEndpoint(token, serviceType);
    return this.transport.request({
      service: serviceType,
      method: request.method,
      baseUrl: request.rebase ? request.rebase(endpoint) : endpoint,
      path: request.path,
      query: request.query,
      body: request.body,
      token: token.value,
      microversion: request.microversion,
      ...(request.microversionName !== undefined && { microversionName: request.microversionName }),
      requestId: options.requestId,
      signal: options.signal,
    });
  }

  private currentToken(options: CallOptions | undefined): Promise<CachedToken> {
    if (this.token !== undefined && this.now() < this.token.refreshAt.getTime()) return Promise.resolve(this.token);
    // One Keystone call however many callers wait; it does not take any caller's abort signal, as
    // one caller giving up must not fail the others.
    this.authInFlight ??= this.requestToken(options?.requestId).finally(() => {
      this.authInFlight = undefined;
    });
    return this.authInFlight;
  }

  private async requestToken(requestId: string | undefined): Promise<CachedToken> {
    this.tokenRequestCount++;
    const sentAt = this.now();
    const response = await this.transport.request({
      service: 'identity',
      method: 'POST',
      baseUrl: identityV3Url(this.auth.authUrl),
      path: '/auth/tokens',
      body: authRequestBody(this.auth),
      requestId,
    });
    const value = response.headers.get('x-subject-token');
    if (!value) throw new OpenStackShapeError('identity token', [{ path: 'X-Subject-Token', message: 'header missing' }]);
    const { token } = parseResource(tokenResponseSchema, response.body, 'identity token');
    // Keystone's clock may differ from ours: keep the token for its lifetime as Keystone counts it,
    // measured from when we asked.
    const expiresAt = Date.parse(token.expires_at);
    const lifetimeMs = token.issued_at === undefined ? expiresAt - sentAt : expiresAt - Date.parse(token.issued_at);
    const marginMs = Math.min(this.refreshMarginMs, lifetimeMs / 2);
    const cached: CachedToken = {
      value,
      catalog: token.catalog,
      projectId: token.project?.id,
      userId: token.user.id,
      userName: token.user.name,
      userDomainId: token.user.domain?.id,
      roles: (token.roles ?? []).map((role) => role.name),
      applicationCredentialId: token.application_credential?.id,
      refreshAt: new Date(sentAt + lifetimeMs - marginMs),
    };
    this.token = cached;
    this.logger?.debug(
      { projectId: cached.projectId, refreshAt: cached.refreshAt.toISOString(), tokenRequests: this.tokenRequestCount },
      'openstack token issued',
    );
    return cached;
  }

  private findEndpoint(token: CachedToken, serviceType: string): string {
    const catalog = token.catalog ?? [];
    const region = this.regionName;
    const match = catalog
      .filter((entry) => entry.type === serviceType)
      .flatMap((entry) => entry.endpoints)
      .find((ep) => ep.interface === this.interface && (region === undefined || ep.region_id === region || ep.region === region));
    if (match === undefined) {
      const available = catalog.flatMap((entry) =>
        entry.endpoints.map((ep) => `${entry.type} ${ep.interface} ${ep.region_id ?? ep.region ?? '(no region)'}`),
      );
      throw new OpenStackEndpointNotFoundError(serviceType, this.interface, region, available);
    }
    return match.url.replace(/\/+$/, '');
  }
}
