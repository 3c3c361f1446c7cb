import { expect } from 'vitest';
import type { ApiClient } from './api-client.js';
import type { SseClient } from './sse-client.js';

const dataOf = (frame: { data: string }) => JSON.parse(frame.data) as Record<string, unknown>;

/**
 * docs/contract.md sections 10 and 11 on any backend: a volume made, attached to `vmId`, extended,
 * detached and deleted shows on the stream as volume.created, four volume.settled and
 * volume.deleted, each with the request that started it. Each step waits for its settle on the
 * stream, so the order is the calls' order whoever sees the settle first (the OpenStack watcher
 * polls Cinder).
 */
export async function expectVolumeLifeOnStream(api: ApiClient, events: SseClient, vmId: string, name: string, timeoutMs: number): Promise<void> {
  const mine = () => events.events.filter((f) => f.event.startsWith('volume.') && dataOf(f).id === id);
  const settleSeen = (task: string) =>
    events.until(() => mine().some((f) => f.event === 'volume.settled' && dataOf(f).task === task), timeoutMs);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await api.call<{ id: string; task: string | null }>(method, path, body === undefined ? {} : { body });
    expect([200, 201, 202], JSON.stringify(response.body)).toContain(response.status);
    return response.headers.get('x-request-id');
  };

  let id = '';
  const created = await api.call<{ id: string }>('POST', '/api/v1/volumes', { body: { name, size_gb: 1 } });
  expect([201, 202]).toContain(created.status);
  id = created.body.id;
  await settleSeen('creating');
  const attached = await call('POST', `/api/v1/vms/${vmId}/volumes`, { volume: id });
  await settleSeen('attaching');
  const extended = await call('POST', `/api/v1/volumes/${id}/extend`, { size_gb: 2 });
  await settleSeen('extending');
  const detached = await call('DELETE', `/api/v1/vms/${vmId}/volumes/${id}`);
  await settleSeen('detaching');
  const deleted = await call('DELETE', `/api/v1/volumes/${id}`);
  await events.until(() => mine().some((f) => f.event === 'volume.deleted'), timeoutMs);

  const frames = mine();
  expect(frames.map((f) => f.event)).toEqual(['volume.created', 'volume.settled', 'volume.settled', 'volume.settled', 'volume.settled', 'volume.deleted']);
  const ids = frames.map((f) => Number(f.id));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  const [c, s1, s2, s3, s4, d] = frames.map((f) => dataOf(f));
  const createId = created.headers.get('x-request-id');
  expect(c).toMatchObject({ resource: 'volume', id, status: 'AVAILABLE', previous_status: null, task: 'creating', request_id: createId, tenant: 'default' });
  expect(s1).toMatchObject({ resource: 'volume', id, status: 'AVAILABLE', previous_status: 'AVAILABLE', task: 'creating', request_id: createId });
  expect(s2).toMatchObject({ id, status: 'IN_USE', previous_status: 'AVAILABLE', task: 'attaching', request_id: attached });
  expect(s3).toMatchObject({ id, status: 'IN_USE', previous_status: 'IN_USE', task: 'extending', request_id: extended });
  expect(s4).toMatchObject({ id, status: 'AVAILABLE', previous_status: 'IN_USE', task: 'detaching', request_id: detached });
  expect(d).toMatchObject({ resource: 'volume', id, status: 'DELETED', previous_status: 'AVAILABLE', task: 'deleting', request_id: deleted });
}
