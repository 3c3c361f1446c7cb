import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { vmStatuses, type VmStatus } from '../domain/vm.js';

export interface Metrics {
  registry: Registry;
  /** Records one request's duration, in seconds. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

/**
 * One registry per app, never prom-client's global one, so that several apps (tests, benchmarks)
 * can live in one process.
 */
export function createMetrics(countVmsByStatus: () => Promise<Record<VmStatus, number>>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  });
  // One child per label set, found by a plain string key: prom-client would otherwise hash the
  // label object on every request.
  const children = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();
  const observeRequest = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = requestDuration.labels({ method, route, status: String(status) });
      children.set(key, child);
    }
    child.observe(seconds);
  };
  new Gauge({
    name: 'vms',
    help: 'Live VMs by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await countVmsByStatus();
      for (const status of vmStatuses) this.set({ status }, counts[status]);
    },
  });
  return { registry, observeRequest };
}
