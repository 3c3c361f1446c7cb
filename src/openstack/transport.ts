import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  OpenStackConnectionError,
  OpenStackHttpError,
  OpenStackShapeError,
  OpenStackTimeoutError,
  parseUpstreamError,
  type CallSite,
} from './errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'POST' | 'PATCH';

/**
 * A filter sent once per value (`id=a&id=b`). Neutron reads a repeated filter as "any of" and a
 * comma inside one value as part of the value (tags are the exception: a comma list by design, so
 * they stay a plain array, joined). Callers send no AnyOf without values: no filter would match all.
 */
export class AnyOf {
  constructor(readonly values: readonly string[]) {}
}

export type QueryValue = string | number | boolean | Date | readonly string[] | AnyOf | undefined;

export interface TransportRequest {
  /** Catalog service type, for errors, logs and the microversion header. */
  service: string;
  method: HttpMethod;
  /** Endpoint URL from the catalog (or Keystone's auth URL). */
  baseUrl: string;
  /** Path under baseUrl, starting with "/". */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  token?: string;
  /** The caller's correlation id; see toOpenStackRequestId. */
  requestId?: string;
  /** Sent as `OpenStack-API-Version: <service> <microversion>`. */
  microversion?: string;
  /** The service's name in that header when it is not the catalog type (Cinder: `volume`). */
  microversionName?: string;
  /** Lets the caller abandon the call (e.g. its own client went away); never retried. */
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: Headers;
  /** The JSON body, or undefined when the body is empty. */
  body: unknown;
  /** The X-OpenStack-Request-ID we sent. */
  requestId: string;
  /** The id the service generated for its own logs. */
  upstreamRequestId: string | undefined;
}

export interface TransportOptions {
  /** Bound on each attempt, including reading the body. Default 10 000. */
  timeoutMs?: number;
  /** Bound on a whole call: every attempt and every backoff pause. Default 2 x timeoutMs. */
  totalTimeoutMs?: number;
  /** Default 3. */
  maxAttempts?: number;
  /** First backoff pause before jitter; doubles per attempt. Default 200. */
  backoffBaseMs?: number;
  /** Default 2 000. */
  backoffMaxMs?: number;
  logger?: Logger;
  /** Injected for tests: jitter source and pause. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const idempotentMethods: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const retryableStatuses: ReadonlySet<number> = new Set([502, 503, 504]);
const requestIdPattern = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * OpenStack services (oslo.middleware) only adopt an inbound X-OpenStack-Request-ID shaped
 * `req-<uuid>` as the global request id and silently drop anything else, so a caller's UUID is
 * prefixed and any other id is replaced by a fresh one (both are logged, to correlate).
 */
export function toOpenStackRequestId(callerId: string | undefined): string {
  if (callerId !== undefined) {
    if (requestIdPattern.test(callerId)) return callerId;
    if (uuidPattern.test(callerId)) return `req-${callerId.toLowerCase()}`;
  }
  return `req-${randomUUID()}`;
}

type AttemptError = OpenStackHttpError | OpenStackTimeoutError | OpenStackConnectionError | OpenStackShapeError;

type AttemptOutcome = { ok: true; response: TransportResponse } | { ok: false; error: AttemptError };

/**
 * One HTTP call to an OpenStack service with Node's fetch. Node's global fetch (undici) keeps
 * connections alive and pools them per origin by default; this relies on that instead of
 * configuring an agent.
 */
export class Transport {
  private readonly timeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly logger: Logger | undefined;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 2 * this.timeoutMs;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.backoffMaxMs = options.backoffMaxMs ?? 2_000;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const url = buildUrl(req.baseUrl, req.path, req.query);
    const site: CallSite = {
      service: req.service,
      method: req.method,
      path: url.pathname + url.search,
      requestId: toOpenStackRequestId(req.requestId),
    };
    const headers = buildHeaders(req, site.requestId);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const started = performance.now();

    for (let attempt = 1; ; attempt++) {
      const remaining = this.totalTimeoutMs - (performance.now() - started);
      const attemptTimeout = Math.max(1, Math.min(this.timeoutMs, Math.floor(remaining)));
      const outcome = await this.attempt(url, { method: req.method, headers, body }, site, attemptTimeout, req, attempt);
      if (outcome.ok) return outcome.response;

      const { error } = outcome;
      const pause = this.backoff(attempt);
      const budgetLeft = this.totalTimeoutMs - (performance.now() - started) - pause;
      if (!isRetryable(req.method, error) || attempt >= this.maxAttempts || budgetLeft <= 0) throw error;
      this.logger?.debug(
        { service: site.service, method: site.method, path: site.path, requestId: site.requestId, attempt, pauseMs: pause, reason: error.name },
        'openstack request retried',
      );
      await this.sleep(pause);
    }
  }

  private async attempt(
    url: URL,
    init: { method: HttpMethod; headers: Record<string, string>; body: string | undefined },
    site: CallSite,
    timeoutMs: number,
    req: TransportRequest,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const started = performance.now();
    let status: number;
    let headers: Headers;
    let text: string;
    try {
      const response = await fetch(url, { ...init, signal });
      status = response.status;
      headers = response.headers;
      // Read inside the same signal: a service that sends headers and then stalls still times out.
      text = await response.text();
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      const durationMs = Math.round(performance.now() - started);
      const error = timeout.aborted ? new OpenStackTimeoutError(site, timeoutMs) : new OpenStackConnectionError(site, errorCode(err), err);
      this.logger?.debug(
        { service: site.service, method: site.method, path: site.path, requestId: site.requestId, attempt, durationMs, error: error.name, code: error instanceof OpenStackConnectionError ? error.code : undefined },
        'openstack request failed',
      );
      return { ok: false, error };
    }

    const upstreamRequestId = headers.get('x-openstack-request-id') ?? headers.get('x-compute-request-id') ?? undefined;
    this.logger?.debug(
      { service: site.service, method: site.method, path: site.path, status, durationMs: Math.round(performance.now() - started), requestId: site.requestId, upstreamRequestId, attempt },
      'openstack request',
    );
    if (status < 200 || status > 299) {
      return { ok: false, error: new OpenStackHttpError(site, status, parseUpstreamError(text), upstreamRequestId) };
    }
    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        return { ok: false, error: new OpenStackShapeError(`${site.service} response to ${site.method} ${url.pathname}`, [{ path: '', message: 'body is not JSON' }]) };
      }
    }
    return { ok: true, response: { status, headers, body, requestId: site.requestId, upstreamRequestId } };
  }

  /** Exponential with "equal jitter": at least half the step, so a restarting service gets a breather. */
  private backoff(attempt: number): number {
    const step = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + this.random() * (step / 2));
  }
}

/**
 * A POST (create a server, run an action) is retried only when the connection was refused, i.e.
 * nothing reached the service: after a timeout, a reset or a 503 it may have been acted on, and a
 * second try could create a second server.
 */
function isRetryable(method: HttpMethod, error: AttemptError): boolean {
  if (error instanceof OpenStackConnectionError && error.code === 'ECONNREFUSED') return true;
  if (!idempotentMethods.has(method)) return false;
  if (error instanceof OpenStackHttpError) return retryableStatuses.has(error.status);
  return error instanceof OpenStackTimeoutError || error instanceof OpenStackConnectionError;
}

/**
 * undici wraps the socket error: `TypeError('fetch failed', { cause: { code } })`. When several
 * addresses were tried, the cause is Node's AggregateError, which carries the first address's code.
 */
function errorCode(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function buildUrl(baseUrl: string, path: string, query: Record<string, QueryValue> | undefined): URL {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (value instanceof AnyOf) {
      for (const one of value.values) url.searchParams.append(key, one);
      continue;
    }
    const text = value instanceof Date ? value.toISOString() : Array.isArray(value) ? value.join(',') : String(value);
    url.searchParams.set(key, text);
  }
  return url;
}

function buildHeaders(req: TransportRequest, requestId: string): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json', 'X-OpenStack-Request-ID': requestId };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  if (req.token !== undefined) headers['X-Auth-Token'] = req.token;
  if (req.microversion !== undefined) {
    headers['OpenStack-API-Version'] = `${req.microversionName ?? req.service} ${req.microversion}`;
    // Nova before 2.27 only reads the legacy header; sending both costs nothing.
    if (req.service === 'compute') headers['X-OpenStack-Nova-API-Version'] = req.microversion;
  }
  return headers;
}
