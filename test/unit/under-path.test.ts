import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { underPath } from '../../src/http/middleware/under-path.js';

describe('underPath', () => {
  let base = '';
  let close: () => void = () => undefined;
  beforeAll(async () => {
    const app = express();
    app.use(underPath('/api/v1', (_req, res, next) => {
      res.setHeader('X-Under', 'yes');
      next();
    }));
    app.use((req, res) => {
      res.json({ url: req.url, under: res.getHeader('X-Under') === 'yes' });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  const get = async (path: string) => (await (await fetch(`${base}${path}`)).json()) as { url: string; under: boolean };

  it.each([['/api/v1'], ['/api/v1/'], ['/api/v1/vms/x'], ['/api/v1?a=1'], ['/API/V1/vms']])('runs the handler for %s, as a mount would, and leaves req.url whole', async (path) => {
    expect(await get(path)).toEqual({ url: path, under: true });
  });

  it.each([['/api/v10'], ['/api/v1x/vms'], ['/api'], ['/healthz'], ['/']])('skips it for %s', async (path) => {
    expect((await get(path)).under).toBe(false);
  });
});
