/**
 * The yardstick: a bare Express 5 app that answers the same three endpoints with the same answers
 * as the real app, from a Map, with none of the real app's machinery (request log, metrics,
 * authentication, validation, services, problem responses). "The same answer" means the same
 * bytes on the wire, apart from ids and times: the VM as the API shows it (`allowed_actions`
 * included, keys in the API's order) and the headers every answer of the API must carry (the
 * security headers, docs/contract.md section 4's `X-Request-Id`, the VM's `ETag`), set the
 * cheapest plain way: one loop over a list made once, and `res.json`. A baseline that answered a
 * smaller body with six headers fewer would measure the socket and the header block as if they
 * were the app's overhead (bench/README.md "The baseline"). Like the real app it turns off
 * Express's body-hash ETag and x-powered-by.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type Response } from 'express';
import { v4 as uuidv4 } from 'uuid';
import { actionsAllowedNow } from '../src/domain/transitions.js';
import type { Vm } from '../src/domain/vm.js';
import { securityHeaderList } from '../src/http/middleware/security-headers.js';
import type { VmView } from '../src/http/vm-view.js';

const BASE = '/api/v1';

/** A VM as the API shows it, keys in the API's order (src/http/vm-view.ts), made once when stored. */
export function makeVm(name: string, flavor: string, image: string, start: boolean, seq: number): VmView {
  const now = new Date().toISOString();
  const ip = `10.${(seq >>> 16) & 255}.${(seq >>> 8) & 255}.${seq & 255}`;
  const vm: Vm = {
    id: uuidv4(),
    name,
    flavor,
    image,
    tenant: 'default',
    status: start ? 'RUNNING' : 'STOPPED',
    task: null,
    ip_address: ip,
    fault: null,
    created_at: now,
    updated_at: now,
    security_groups: [],
    networks: [{ id: '5b0a7c1e-2f3d-4e5a-8b9c-0d1e2f3a4b5c', name: 'private', ip_address: ip }],
    floating_ip: null,
    volumes: [],
  };
  return { ...vm, allowed_actions: actionsAllowedNow({ vm, placed: true }) };
}

export interface BaselineStore {
  byId: Map<string, VmView>;
  /** Insertion order, for the list endpoint (the cursor is an index into it). */
  order: VmView[];
}

export function createBaselineStore(): BaselineStore {
  return { byId: new Map(), order: [] };
}

export function addVm(store: BaselineStore, vm: VmView): void {
  store.byId.set(vm.id, vm);
  store.order.push(vm);
}

/** The headers on every answer of the API: its security headers and a request id. */
function commonHeaders(res: Response, headers: readonly (readonly [string, string])[]): void {
  res.setHeader('X-Request-Id', randomUUID());
  for (const [name, value] of headers) res.setHeader(name, value);
}

export function buildBaselineApp(store: BaselineStore): Express {
  const headers = securityHeaderList();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get(`${BASE}/vms/:id`, (req, res) => {
    commonHeaders(res, headers);
    const vm = store.byId.get(req.params.id);
    if (!vm) {
      res.status(404).json({ title: 'Not found' });
      return;
    }
    // Every stored VM is at its first version.
    res.setHeader('ETag', '"1"');
    res.json(vm);
  });

  app.get(`${BASE}/vms`, (req, res) => {
    commonHeaders(res, headers);
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 50) || 50));
    const from = Number(req.query.cursor ?? 0) || 0;
    const data = store.order.slice(from, from + limit);
    const next = from + limit < store.order.length ? String(from + limit) : null;
    res.json({ data, next_cursor: next });
  });

  app.post(`${BASE}/vms`, express.json(), (req, res) => {
    commonHeaders(res, headers);
    const body = req.body as { name?: unknown; flavor?: unknown; image?: unknown; start?: unknown } | undefined;
    if (typeof body?.name !== 'string' || typeof body.flavor !== 'string' || typeof body.image !== 'string') {
      res.status(400).json({ title: 'Bad request' });
      return;
    }
    const vm = makeVm(body.name, body.flavor, body.image, body.start === true, store.order.length + 1);
    addVm(store, vm);
    res.setHeader('ETag', '"1"');
    res.status(201).location(`${BASE}/vms/${vm.id}`).json(vm);
  });

  return app;
}
