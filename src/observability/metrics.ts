import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
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
  const requestDuration = new RequestDurations();
  registry.registerMetric(requestDuration as unknown as Metric);
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
  return { registry, observeRequest: (method, route, status, seconds) => requestDuration.observe(method, route, status, seconds) };
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120] as const;

type Labels = { method: string; route: string; status: string };
type Value = { metricName: string; labels: Partial<Labels> & { le?: number | '+Inf' }; value: number };

interface Series {
  labels: Labels;
  /** Observations per bucket, not cumulative; beyond the last bound only `count` grows (+Inf). */
  inBucket: Float64Array;
  sum: number;
  count: number;
}

/**
 * `http_request_duration_seconds`, a histogram by method, route template and status, as
 * prom-client's Histogram exposes it (the same lines on /metrics), counted here because it is
 * observed on every request: prom-client's `observe` validates and hashes the labels each time
 * (about 1.2 µs a call on Node 20 and 24), this one finds the series through three Maps keyed by
 * strings that are the same objects every time (the method from Node's parser, the route
 * template, the status) and counts into an array (see BACKLOG.md, GET /vms/{id} on Node 24).
 */
class RequestDurations {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'HTTP request duration by route template and status';
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private byRoute = new Map<string, Map<string, Map<number, Series>>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.byRoute.get(route);
    if (!byMethod) this.byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = { labels: { method, route, status: String(status) }, inBucket: new Float64Array(BUCKETS.length), sum: 0, count: 0 };
      byStatus.set(status, series);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
    if (i < BUCKETS.length) series.inBucket[i] = (series.inBucket[i] as number) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** What prom-client's Histogram.get() gives: cumulative buckets, +Inf, sum and count per series. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const values: Value[] = [];
    for (const byMethod of this.byRoute.values()) {
      for (const byStatus of byMethod.values()) {
        for (const { labels, inBucket, sum, count } of byStatus.values()) {
          let below = 0;
          BUCKETS.forEach((le, i) => {
            below += inBucket[i] as number;
            values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: below });
          });
          values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
          values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: sum });
          values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: count });
        }
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.byRoute = new Map();
  }
}
