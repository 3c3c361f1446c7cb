import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackHttpError, type Connection } from '../../src/openstack/index.js';
import { waitFor } from '../../src/shared/wait-for.js';
import { catalogNames } from './mini-openstack.js';
import { demoToken, directConnection, loadStack } from './support/fault-env.js';

/**
 * What the local cloud's Cinder (fake volume driver, scripts/openstack/lib/cinder.sh) does with
 * Nova's fake virt driver: issue 10 builds on these facts (scripts/openstack/README.md, "Cinder"),
 * so they are checked here, as the demo user, straight against Cinder and Nova.
 */
const stack = loadStack();
if (typeof stack === 'string') throw new Error(stack);

interface Volume {
  id: string;
  status: string;
  size: number;
  bootable: string;
  attachments: { server_id: string }[];
}

describe('Cinder on the local cloud (fake volume driver, attached through Nova)', () => {
  let conn: Connection;
  const suffix = randomBytes(3).toString('hex');
  const undo: (() => Promise<unknown>)[] = [];
  const imageId = stack.images[catalogNames.image] ?? '';
  const flavorId = stack.flavors[catalogNames.flavors.small] ?? '';
  const networkId = stack.networks['private'] ?? '';

  let cinder: { url: string; token: string };
  /**
   * Nova through the project's client; Cinder by hand, as the client names a microversion by the
   * catalog type ("block-storage 3.60") and Cinder takes only "volume 3.60" (400 otherwise).
   */
  const call = async (service: 'block-storage' | 'compute', method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
    if (service === 'compute') {
      return (await conn.call(service, { method, path, microversion: '2.93', ...(body !== undefined && { body }) })).body as Record<string, unknown>;
    }
    const response = await fetch(`${cinder.url}${path}`, {
      method,
      headers: { 'x-auth-token': cinder.token, 'openstack-api-version': 'volume 3.60', 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) {
      const site = { service, method, path, requestId: '' };
      throw new OpenStackHttpError(site, response.status, { kind: 'cinder', message: text }, response.headers.get('x-openstack-request-id') ?? undefined);
    }
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  const volume = async (id: string) => ((await call('block-storage', 'GET', `/volumes/${id}`)) as { volume: Volume }).volume;
  const settledVolume = (id: string) =>
    waitFor(() => volume(id), (v) => !['creating', 'downloading', 'extending', 'attaching', 'detaching', 'reserved'].includes(v.status), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
  const createVolume = async (body: Record<string, unknown>) => {
    const { volume: made } = (await call('block-storage', 'POST', '/volumes', { volume: { name: `cv-${suffix}`, ...body } })) as { volume: Volume };
    undo.push(() => call('block-storage', 'DELETE', `/volumes/${made.id}`));
    return settledVolume(made.id);
  };
  const activeServer = async (extra: Record<string, unknown> = {}) => {
    const { id } = (
      (await call('compute', 'POST', '/servers', {
        server: { name: `cv-${suffix}`, imageRef: imageId, flavorRef: flavorId, networks: [{ uuid: networkId }], ...extra },
      })) as { server: { id: string } }
    ).server;
    undo.push(() => conn.compute.deleteServer(id));
    const server = await waitFor(() => conn.compute.getServer(id), (s) => s.status === 'ACTIVE' || s.status === 'ERROR', { timeoutMs: 180_000, intervalMs: 1_000 });
    expect(server.status).toBe('ACTIVE');
    return id;
  };
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => (err instanceof OpenStackHttpError ? err : undefined),
    );

  beforeAll(async () => {
    // One attempt each, with room for a loaded machine: a retried POST would act twice.
    conn = directConnection(stack, { timeoutMs: 60_000, maxAttempts: 1 });
    cinder = { url: stack.endpoints['block-storage'] ?? '', token: await demoToken(stack) };
  });

  afterAll(async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  });

  it('creates a volume (available) and extends it, only to a larger size', async () => {
    const made = await createVolume({ size: 1 });
    expect(made).toMatchObject({ status: 'available', size: 1 });
    await call('block-storage', 'POST', `/volumes/${made.id}/action`, { 'os-extend': { new_size: 2 } });
    expect(await settledVolume(made.id)).toMatchObject({ status: 'available', size: 2 });
    const shrink = await refused(call('block-storage', 'POST', `/volumes/${made.id}/action`, { 'os-extend': { new_size: 1 } }));
    expect(shrink?.status).toBe(400);
  });

  it('attaches through Nova, extends while attached, refuses delete and a second attach, detaches', async () => {
    const made = await createVolume({ size: 1 });
    const serverId = await activeServer();
    await call('compute', 'POST', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId: made.id } });
    const attached = await settledVolume(made.id);
    expect(attached.status).toBe('in-use');
    expect(attached.attachments.map((a) => a.server_id)).toEqual([serverId]);
    const { volumeAttachments } = (await call('compute', 'GET', `/servers/${serverId}/os-volume_attachments`)) as {
      volumeAttachments: { volumeId: string }[];
    };
    expect(volumeAttachments.map((a) => a.volumeId)).toEqual([made.id]);

    await call('block-storage', 'POST', `/volumes/${made.id}/action`, { 'os-extend': { new_size: 2 } });
    expect(await settledVolume(made.id)).toMatchObject({ status: 'in-use', size: 2 });

    expect((await refused(call('block-storage', 'DELETE', `/volumes/${made.id}`)))?.status).toBe(400);
    const again = await refused(call('compute', 'POST', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId: made.id } }));
    expect(again?.status).toBe(400);

    await call('compute', 'DELETE', `/servers/${serverId}/os-volume_attachments/${made.id}`);
    expect(await settledVolume(made.id)).toMatchObject({ status: 'available', attachments: [] });
  });

  it('makes a bootable volume from an image', async () => {
    const made = await createVolume({ size: 1, imageRef: imageId });
    expect(made).toMatchObject({ status: 'available', bootable: 'true' });
  });

  it('boots a server with a blank data volume (block device mapping) that goes with the server', async () => {
    const serverId = await activeServer({
      block_device_mapping_v2: [
        { boot_index: 0, uuid: imageId, source_type: 'image', destination_type: 'local', delete_on_termination: true },
        { boot_index: -1, source_type: 'blank', destination_type: 'volume', volume_size: 1, delete_on_termination: true },
      ],
    });
    const server = (await call('compute', 'GET', `/servers/${serverId}`)) as { server: { 'os-extended-volumes:volumes_attached': { id: string }[] } };
    const [dataDisk] = server.server['os-extended-volumes:volumes_attached'];
    expect(dataDisk).toBeDefined();
    expect((await volume(dataDisk?.id ?? '')).status).toBe('in-use');
    await conn.compute.deleteServer(serverId);
    const gone = await waitFor(
      () => refused(volume(dataDisk?.id ?? '')),
      (err) => err?.status === 404,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(gone?.status).toBe(404);
  });
});
