/**
 * Errors thrown by the OpenStack client. Every message may quote upstream text (Nova's fault
 * messages, Keystone's explanations): that text is for operators' logs, and an adapter above this
 * client decides what, if anything, a client of ours gets to see.
 */

/** Where a failed call was going; carried by every transport-level error for logs. */
export interface CallSite {
  /** Catalog service type (compute, image, identity). */
  service: string;
  method: string;
  /** URL path (and query) without scheme, host or credentials. */
  path: string;
  /** The X-OpenStack-Request-ID we sent: upstream logs it as the global request id. */
  requestId: string;
}

export class OpenStackError extends Error {
  override name = 'OpenStackError';
}

/** A failure of one call, which says where the call was going. */
export abstract class OpenStackCallError extends OpenStackError {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly requestId: string;

  constructor(site: CallSite, message: string, options?: { cause?: unknown }) {
    super(`${site.service} ${site.method} ${site.path} ${message}`, options);
    this.service = site.service;
    this.method = site.method;
    this.path = site.path;
    this.requestId = site.requestId;
  }
}

/** A service answered with a non-2xx status. */
export class OpenStackHttpError extends OpenStackCallError {
  override name = 'OpenStackHttpError';
  readonly status: number;
  /** The request id the service generated (X-OpenStack-Request-ID / X-Compute-Request-Id in the answer). */
  readonly upstreamRequestId: string | undefined;
  /** The key Nova wraps its error in (conflictingRequest, itemNotFound, forbidden, ...), if any. */
  readonly upstreamKind: string | undefined;
  /** The upstream explanation, for logs only. */
  readonly upstreamMessage: string;

  constructor(site: CallSite, status: number, upstream: UpstreamError, upstreamRequestId: string | undefined) {
    super(site, `answered ${status}: ${upstream.message}`);
    this.status = status;
    this.upstreamRequestId = upstreamRequestId;
    this.upstreamKind = upstream.kind;
    this.upstreamMessage = upstream.message;
  }
}

/** No complete answer within the time allowed (per attempt, or the total budget with retries). */
export class OpenStackTimeoutError extends OpenStackCallError {
  override name = 'OpenStackTimeoutError';
  readonly timeoutMs: number;

  constructor(site: CallSite, timeoutMs: number) {
    super(site, `timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The connection could not be made or broke (refused, reset, DNS failure). */
export class OpenStackConnectionError extends OpenStackCallError {
  override name = 'OpenStackConnectionError';
  /** The system or undici code, e.g. ECONNREFUSED, ECONNRESET, ENOTFOUND, UND_ERR_SOCKET. */
  readonly code: string | undefined;

  constructor(site: CallSite, code: string | undefined, cause: unknown) {
    super(site, `failed to connect: ${code ?? describe(cause)}`, { cause });
    this.code = code;
  }
}

/** An answer did not have the shape this client relies on. */
export class OpenStackShapeError extends OpenStackError {
  override name = 'OpenStackShapeError';
  /** What was being read, e.g. "compute server" or "identity token". */
  readonly resource: string;
  /** Dotted path of the first offending field ("" for the whole body). */
  readonly path: string;
  readonly issues: readonly { path: string; message: string }[];

  constructor(resource: string, issues: readonly { path: string; message: string }[]) {
    const first = issues[0] ?? { path: '', message: 'unreadable' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`unexpected ${resource} from OpenStack at "${first.path}": ${first.message}${more}`);
    this.resource = resource;
    this.path = first.path;
    this.issues = issues;
  }
}

/** The catalog has no endpoint for a service type / interface / region. */
export class OpenStackEndpointNotFoundError extends OpenStackError {
  override name = 'OpenStackEndpointNotFoundError';
  readonly serviceType: string;
  readonly interface: string;
  readonly region: string | undefined;

  constructor(serviceType: string, iface: string, region: string | undefined, available: readonly string[]) {
    const where = region === undefined ? '' : ` in region ${region}`;
    const list = available.length > 0 ? available.join(', ') : 'nothing';
    super(`no ${iface} endpoint for ${serviceType}${where} in the service catalog (it has: ${list})`);
    this.serviceType = serviceType;
    this.interface = iface;
    this.region = region;
  }
}

/** The cloud's compute API does not offer the microversion we pin. */
export class OpenStackMicroversionError extends OpenStackError {
  override name = 'OpenStackMicroversionError';
  readonly wanted: string;
  readonly min: string;
  readonly max: string;

  constructor(wanted: string, min: string, max: string) {
    super(`compute microversion ${wanted} is not offered by this cloud (it offers ${min} to ${max})`);
    this.wanted = wanted;
    this.min = min;
    this.max = max;
  }
}

/** Bad or missing client configuration (options, clouds.yaml). */
export class OpenStackConfigError extends OpenStackError {
  override name = 'OpenStackConfigError';
}

export interface UpstreamError {
  kind: string | undefined;
  message: string;
}

const maxUpstreamText = 500;

/**
 * Reads an error body from any OpenStack service: Nova/Neutron's `{"<kind>": {"message": ...}}`,
 * Keystone's `{"error": {"message": ...}}`, Placement's `{"errors": [{"detail": ...}]}`, or Glance's
 * plain text/HTML page.
 */
export function parseUpstreamError(text: string): UpstreamError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: undefined, message: plainText(text) };
  }
  if (isRecord(json)) {
    const errors = json['errors'];
    if (Array.isArray(errors) && isRecord(errors[0])) {
      const detail = errors[0]['detail'] ?? errors[0]['title'];
      if (typeof detail === 'string') return { kind: 'errors', message: truncate(detail) };
    }
    for (const [kind, value] of Object.entries(json)) {
      if (isRecord(value) && typeof value['message'] === 'string') {
        return { kind, message: truncate(value['message']) };
      }
    }
    if (typeof json['message'] === 'string') return { kind: undefined, message: truncate(json['message']) };
  }
  return { kind: undefined, message: truncate(text.trim()) || '(empty body)' };
}

function plainText(text: string): string {
  const stripped = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return truncate(stripped) || '(empty body)';
}

function truncate(text: string): string {
  return text.length > maxUpstreamText ? `${text.slice(0, maxUpstreamText)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** fetch's own message is only "fetch failed"; the reason is at the end of the cause chain. */
function describe(cause: unknown): string {
  let innermost = cause;
  while (innermost instanceof Error && innermost.cause !== undefined) innermost = innermost.cause;
  return innermost instanceof Error ? innermost.message : String(innermost);
}
