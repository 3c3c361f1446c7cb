import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';

const noVms = async () => ({ CREATING: 0, RUNNING: 0, STOPPED: 0, PAUSED: 0, SUSPENDED: 0, ERROR: 0, DELETED: 0 }) as never;

/** The metric's lines in a /metrics text. */
const durationLines = (text: string) => text.split('\n').filter((line) => line.includes('http_request_duration_seconds'));

describe('http_request_duration_seconds', () => {
  // Durations on bucket bounds, between them, beyond the last, for several routes, methods and statuses.
  const observations: [string, string, number, number][] = [
    ['GET', '/api/v1/vms/{id}', 200, 0.0004],
    ['GET', '/api/v1/vms/{id}', 200, 0.001],
    ['GET', '/api/v1/vms/{id}', 404, 0.02],
    ['POST', '/api/v1/vms', 202, 0.5],
    ['GET', 'unmatched', 404, 121],
    ['GET', '/api/v1/vms/{id}', 200, 0.003],
    ['DELETE', '/api/v1/vms/{id}', 200, 2.5],
  ];

  it('is exposed line for line as prom-client\'s own Histogram would expose it', async () => {
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [reference],
    });
    const metrics = createMetrics(noVms);
    for (const [method, route, status, seconds] of observations) {
      histogram.observe({ method, route, status: String(status) }, seconds);
      metrics.observeRequest(method, route, status, seconds);
    }
    const ours = durationLines(await metrics.registry.metrics());
    expect(ours).toContain('http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/v1/vms/{id}",status="200"} 2');
    expect(ours).toContain('http_request_duration_seconds_bucket{le="120",method="GET",route="unmatched",status="404"} 0');
    expect(ours).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="unmatched",status="404"} 1');
    expect(ours).toContain('http_request_duration_seconds_count{method="GET",route="/api/v1/vms/{id}",status="200"} 3');
    // Series may come in another order (Prometheus does not mind); each line is the same.
    expect([...ours].sort()).toEqual(durationLines(await reference.metrics()).sort());
  });

  it('starts again from nothing when the registry is reset', async () => {
    const metrics = createMetrics(noVms);
    metrics.observeRequest('GET', '/healthz', 200, 0.001);
    metrics.registry.resetMetrics();
    expect(durationLines(await metrics.registry.metrics())).toEqual([
      '# HELP http_request_duration_seconds HTTP request duration by route template and status',
      '# TYPE http_request_duration_seconds histogram',
    ]);
  });
});
