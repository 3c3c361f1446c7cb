// Calls to the API of the origin that served this page, with the key of this tab (if any).

const KEY = 'vm-api-key';

export const getKey = () => sessionStorage.getItem(KEY) ?? '';
export const setKey = (key) => sessionStorage.setItem(KEY, key);

/** A problem+json answer: its `detail` is what the page shows. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.detail = this.message;
    this.code = body?.code;
  }
}

export function authHeaders() {
  const key = getKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export async function problemOf(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return new ApiProblem(response.status, body);
}

export async function call(method, path, body) {
  const headers = { Accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    cache: 'no-store',
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw await problemOf(response);
  return response.status === 204 ? undefined : response.json();
}

/** Every VM, following next_cursor. */
export async function listVms() {
  const vms = [];
  let cursor = '';
  do {
    const page = await call('GET', `/vms?limit=100${cursor && `&cursor=${encodeURIComponent(cursor)}`}`);
    vms.push(...page.data);
    cursor = page.next_cursor ?? '';
  } while (cursor);
  return vms;
}
