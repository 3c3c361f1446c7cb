import type { HttpMethod, QueryValue, TransportResponse } from './transport.js';

/** Per-call options every proxy method accepts last. */
export interface CallOptions {
  /** The caller's request id, sent as X-OpenStack-Request-ID (see toOpenStackRequestId). */
  requestId?: string;
  signal?: AbortSignal;
}

/** A request to one catalog service, relative to its endpoint. */
export interface ServiceRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  microversion?: string;
  /** The service's name in the microversion header when it is not the catalog type (Cinder: `volume`). */
  microversionName?: string;
  /** Derives the base URL this request needs from the catalog's (e.g. a version document's root). */
  rebase?: (endpoint: string) => string;
}

/** What a proxy needs from the Connection: authenticated calls by service type. */
export interface ServiceCaller {
  call(serviceType: string, request: ServiceRequest, options?: CallOptions): Promise<TransportResponse>;
}
