/**
 * The yardstick: a bare Express 5 app that answers the same three endpoints with the same VM JSON
 * from a Map, with none of the real app's middleware (logging, metrics, validation, problem
 * responses, ETags). It turns off Express's body-hash ETag and x-powered-by as the real app does,
 * so the two differ only by what the real app adds.
 */
import express, { type Express } from 'express';
import { v4 as uuidv4 } from 'uuid';
import type { Vm } from '../src/domain/vm.js';

const BASE = '/api/v1';

/** A VM as the API shows it, with the keys in the real app's order. */
export function makeVm(name: string, flavor: string, image: string, start: boolean, seq: number): Vm {
  const now = new Date().toISOString();
  const ip = `10.${(seq >>> 16) & 255}.${(seq >>> 8) & 255}.${seq & 255}`;
  return {
    id: uuidv4(),
    name,
    flavor,
    image,
    status: start ? 'RUNNING' : 'STOPPED',
    task: null,
    ip_address: ip,
    fault: null,
    created_at: now,
    updated_at: now,
    tenant: 'default',
    security_groups: ['default'],
    networks: [{ id: '5b0a7c1e-2f3d-4e5a-8b9c-0d1e2f3a4b5c', name: 'private', ip_address: ip }],
    floating_ip: null,
    volumes: [],
  };
}

export interface BaselineStore {
  byId: Map<string, Vm>;
  /** Insertion order, for the list endpoint (the cursor is an index into it). */
  order: Vm[];
}

export function createBaselineStore(): BaselineStore {
  return { byId: new Map(), order: [] };
}

export function addVm(store: BaselineStore, vm: Vm): void {
  store.byId.set(vm.id, vm);
  store.order.push(vm);
}

export function buildBaselineApp(store: BaselineStore): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get(`${BASE}/vms/:id`, (req, res) => {
    const vm = store.byId.get(req.params.id);
    if (!vm) {
      res.status(404).json({ title: 'Not found' });
      return;
    }
    res.json(vm);
  });

  app.get(`${BASE}/vms`, (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 50) || 50));
    const from = Number(req.query.cursor ?? 0) || 0;
    const data = store.order.slice(from, from + limit);
    const next = from + limit < store.order.length ? String(from + limit) : null;
    res.json({ data, next_cursor: next });
  });

  app.post(`${BASE}/vms`, express.json(), (req, res) => {
    const body = req.body as { name?: unknown; flavor?: unknown; image?: unknown; start?: unknown } | undefined;
    if (typeof body?.name !== 'string' || typeof body.flavor !== 'string' || typeof body.image !== 'string') {
      res.status(400).json({ title: 'Bad request' });
      return;
    }
    const vm = makeVm(body.name, body.flavor, body.image, body.start === true, store.order.length + 1);
    addVm(store, vm);
    res.status(201).location(`${BASE}/vms/${vm.id}`).json(vm);
  });

  return app;
}
