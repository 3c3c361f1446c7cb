/**
 * GET /api/v1/volumes/{id} through the API vs GET /volumes/{id} straight to Cinder with the same
 * demo user's token (issue 10's target: API median <= 1.1x Cinder's), against the local cloud:
 *
 *   npx tsx bench/openstack-volumes.ts [--requests 200]
 *
 * Sequential and alternating (which side goes first alternates too), after a warm-up; ids rotate
 * over a few volumes made through the API and deleted at the end. A report: exits 0 whatever the
 * figures, non-zero only if something broke.
 */
import { parseArgs } from 'node:util';
import { ApiClient } from '../test/support/api-client.js';
import { startApp } from '../test/support/memory-app.js';
import { apiEnv, cloudIsUp, demoToken, loadStack } from '../test/openstack/support/fault-env.js';

const API = '/api/v1';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '200' }, warmup: { type: 'string', default: '20' } } });
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const stack = loadStack();
  if (typeof stack === 'string') throw new Error(stack);
  if (!(await cloudIsUp(stack))) throw new Error(`Keystone does not answer at ${stack.authUrl}`);
  const app = await startApp(apiEnv(stack, { LOG_LEVEL: 'warn' }));
  const api = new ApiClient(app.baseUrl);
  const ids: string[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const made = await api.call<{ id: string }>('POST', `${API}/volumes?wait=60`, { body: { name: `bench-vol-${process.pid}-${i}`, size_gb: 1 } });
      if (made.status !== 201 && made.status !== 202) throw new Error(`create answered ${made.status}`);
      ids.push(made.body.id);
    }
    const token = await demoToken(stack);
    const cinderUrl = (stack.endpoints['block-storage'] ?? '').replace(/\/+$/, '');
    const cinderGet = async (id: string) => {
      const response = await fetch(`${cinderUrl}/volumes/${id}`, { headers: { 'X-Auth-Token': token, Accept: 'application/json', 'OpenStack-API-Version': 'volume 3.60' } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`Cinder answered ${response.status}`);
      JSON.parse(text);
    };
    const apiGet = async (id: string) => {
      const response = await api.call('GET', `${API}/volumes/${id}`);
      if (response.status !== 200) throw new Error(`API answered ${response.status}`);
    };
    const timed = async (fn: () => Promise<void>) => {
      const started = performance.now();
      await fn();
      return performance.now() - started;
    };
    const apiMs: number[] = [];
    const cinderMs: number[] = [];
    for (let i = 0; i < warmup + requests; i++) {
      const id = ids[i % ids.length] as string;
      const pair = i % 2 === 0 ? [await timed(() => apiGet(id)), await timed(() => cinderGet(id))] : [await timed(() => cinderGet(id)), await timed(() => apiGet(id))].reverse();
      if (i < warmup) continue;
      apiMs.push(pair[0] as number);
      cinderMs.push(pair[1] as number);
    }
    const ratio = median(apiMs) / median(cinderMs);
    console.log(`node ${process.version}; ${requests} GETs each way after ${warmup} warm-up, alternating`);
    console.log(`API   : median ${median(apiMs).toFixed(2)} ms`);
    console.log(`Cinder: median ${median(cinderMs).toFixed(2)} ms`);
    console.log(`API / Cinder: ${ratio.toFixed(2)}x (target <= 1.1x): ${ratio <= 1.1 ? 'PASS' : 'FAIL'}`);
  } finally {
    for (const id of ids) await api.call('DELETE', `${API}/volumes/${id}`);
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench/openstack-volumes failed:', err);
    process.exit(1);
  },
);
