import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Connection } from '../../../src/openstack/connection.js';
import { OpenStackShapeError } from '../../../src/openstack/errors.js';
import { imageRoot } from '../../../src/openstack/image/images.js';
import { FakeOpenStack, fixture } from './fake-openstack.js';

let fake: FakeOpenStack;
let connection: Connection;

beforeEach(async () => {
  fake = await FakeOpenStack.start();
  connection = new Connection({
    auth: { type: 'password', authUrl: fake.authUrl, username: 'demo', password: 'secret', projectName: 'demo' },
    timeoutMs: 2_000,
  });
});

afterEach(async () => {
  await fake.close();
});

describe('image: Glance v2 images', () => {
  it('lists the recorded images', async () => {
    fake.route('GET', '/image/v2/images', { status: 200, body: fixture('image-images.json') });
    const images = await connection.image.listImages();
    expect(images.find((i) => i.name === 'cirros')).toMatchObject({ status: 'active', min_disk: 0, min_ram: 0, size: 4096, disk_format: 'raw' });
  });

  it('sends filters, then follows next links (which carry them) to the last page', async () => {
    const [cirros] = (fixture('image-images.json') as { images: Record<string, unknown>[] }).images;
    fake.route('GET', '/image/v2/images', (req) => {
      const marker = req.query.get('marker');
      if (marker === null) return { status: 200, body: { images: [{ ...cirros, id: 'a' }], next: '/v2/images?marker=a&limit=1&status=active' } };
      if (marker === 'a') return { status: 200, body: { images: [{ ...cirros, id: 'b' }], next: '/v2/images?marker=b&limit=1&status=active' } };
      return { status: 200, body: { images: [], first: '/v2/images' } };
    });
    const images = await connection.image.listImages({ limit: 1, status: 'active' });
    expect(images.map((i) => i.id)).toEqual(['a', 'b']);
    const queries = fake.requests('GET', '/image/v2/images').map((req) => req.url);
    expect(queries).toEqual([
      '/image/v2/images?limit=1&status=active',
      '/image/v2/images?marker=a&limit=1&status=active',
      '/image/v2/images?marker=b&limit=1&status=active',
    ]);
  });

  it('stops when a next link comes back', async () => {
    const [cirros] = (fixture('image-images.json') as { images: unknown[] }).images;
    fake.route('GET', '/image/v2/images', { status: 200, body: { images: [cirros], next: '/v2/images?marker=a' } });
    expect(await connection.image.listImages()).toHaveLength(2);
  });

  it('refuses a next link that is not a path', async () => {
    fake.route('GET', '/image/v2/images', { status: 200, body: { images: [], next: 'http://elsewhere.example/v2/images' } });
    const error = await connection.image.listImages().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackShapeError);
    expect(error).toMatchObject({ resource: 'image list', path: 'next' });
  });

  it('gets one image (no wrapper object in Glance)', async () => {
    const [cirros] = (fixture('image-images.json') as { images: Record<string, unknown>[] }).images;
    fake.route('GET', `/image/v2/images/${String(cirros?.['id'])}`, { status: 200, body: cirros });
    const image = await connection.image.getImage(String(cirros?.['id']));
    expect(image).toMatchObject({ name: 'cirros', status: 'active' });
  });

  it('turns an image without status into a shape error', async () => {
    fake.route('GET', '/image/v2/images/x', { status: 200, body: { id: 'x', name: null } });
    await expect(connection.image.getImage('x')).rejects.toMatchObject({ resource: 'image', path: 'status' });
  });

  it('keeps Glance plain-text errors readable', async () => {
    fake.route('GET', '/image/v2/images/x', { status: 404, text: '<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1>No image found with ID x</body></html>' });
    await expect(connection.image.getImage('x')).rejects.toMatchObject({
      status: 404,
      service: 'image',
      upstreamMessage: '404 Not Found 404 Not Found No image found with ID x',
    });
  });

  it('works whether the catalog registers Glance with or without /v2', async () => {
    expect(imageRoot('http://127.0.0.1:9292')).toBe('http://127.0.0.1:9292');
    expect(imageRoot('http://127.0.0.1:9292/v2/')).toBe('http://127.0.0.1:9292');
    expect(imageRoot('https://cloud.example/image/v2.1')).toBe('https://cloud.example/image');
    fake.catalog = [{ type: 'image', endpoints: [{ interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: `${fake.url}/image/v2` }] }];
    fake.route('GET', '/image/v2/images', { status: 200, body: { images: [] } });
    await expect(connection.image.listImages()).resolves.toEqual([]);
  });
});
