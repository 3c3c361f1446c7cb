import { setTimeout as sleep } from 'node:timers/promises';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface VmBody {
  id: string;
  name: string;
  flavor: string;
  image: string;
  status: string;
  task: string | null;
  ip_address: string | null;
  fault: { code: string; message: string; at: string } | null;
  created_at: string;
  updated_at: string;
  tenant: string;
  volumes?: { id: string; device: string | null }[];
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
  errors?: { path: string; message: string }[];
  current_status?: string;
  allowed_actions?: string[];
  task?: string;
}

/**
 * A small HTTP client over fetch, so that the same tests run against any server: an in-process
 * app or a separate process in front of a real cloud.
 */
export class ApiClient {
  /** `defaultHeaders` go with every call (e.g. a tenant's key); a call's own headers win. */
  constructor(
    readonly baseUrl: string,
    readonly defaultHeaders: Record<string, string> = {},
  ) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...this.defaultHeaders, ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined && { body }) });
    const text = await response.text();
    let parsed: unknown = text;
    if (/json/.test(response.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  createVm(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    return this.call<VmBody>('POST', '/api/v1/vms', { body, headers });
  }

  getVm(id: string) {
    return this.call<VmBody>('GET', `/api/v1/vms/${id}`);
  }

  act(id: string, action: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.call<VmBody>('POST', `/api/v1/vms/${id}/${action}`, { ...(body !== undefined && { body }), headers });
  }

  deleteVm(id: string, headers: Record<string, string> = {}) {
    return this.call<VmBody>('DELETE', `/api/v1/vms/${id}`, { headers });
  }

  /** Polls until the VM has no task (or is gone), as a client of any cloud API must. */
  async settled(id: string, timeoutMs = 60_000): Promise<ApiResponse<VmBody>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.getVm(id);
      if (response.status !== 200 || response.body.task === null) return response;
      if (Date.now() > deadline) throw new Error(`VM ${id} still ${response.body.task} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Runs an action (or a create) and then waits for it to settle; fails the test if it was refused. */
  async actAndSettle(id: string, action: string, body?: unknown): Promise<VmBody> {
    const response = action === 'delete' ? await this.deleteVm(id) : await this.act(id, action, body);
    if (response.status !== 200 && response.status !== 202) {
      throw new Error(`${action} answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    return (await this.settled(id)).body;
  }

  async createSettled(body: Record<string, unknown>): Promise<VmBody> {
    const response = await this.createVm(body);
    if (response.status !== 201 && response.status !== 202) {
      throw new Error(`create answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    return (await this.settled(response.body.id)).body;
  }
}
