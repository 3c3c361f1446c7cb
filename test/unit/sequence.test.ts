import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequence } from '../../src/http/middleware/sequence.js';

/** A middleware that records its name and goes on. */
const mark = (name: string): RequestHandler => (_req, res, next) => {
  (res.locals.seen as string[]).push(name);
  next();
};

describe('sequence', () => {
  let base = '';
  let close: () => void = () => undefined;
  beforeAll(async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.locals.seen = [];
      next();
    });
    app.use(
      sequence(
        mark('a'),
        (req, res, next) => {
          (res.locals.seen as string[]).push('b');
          if (req.path === '/answer') res.json({ seen: res.locals.seen, answeredBy: 'b' });
          else if (req.path === '/next-error') next(new Error('given to next'));
          else if (req.path === '/throw') throw new Error('thrown');
          else if (req.path === '/reject') return Promise.reject(new Error('rejected'));
          else if (req.path === '/async') return Promise.resolve().then(() => next());
          else next();
        },
        mark('c'),
      ),
    );
    app.use((_req, res) => {
      res.json({ seen: res.locals.seen });
    });
    const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
      res.status(500).json({ seen: res.locals.seen, error: error.message });
    };
    app.use(onError);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as { seen: string[]; error?: string; answeredBy?: string } };
  };

  it('runs each in turn, then what comes after it', async () => {
    expect(await get('/')).toEqual({ status: 200, body: { seen: ['a', 'b', 'c'] } });
  });

  it('goes on after a handler that calls next later', async () => {
    expect(await get('/async')).toEqual({ status: 200, body: { seen: ['a', 'b', 'c'] } });
  });

  it('stops where a handler answers', async () => {
    expect(await get('/answer')).toEqual({ status: 200, body: { seen: ['a', 'b'], answeredBy: 'b' } });
  });

  it.each([
    ['/next-error', 'given to next'],
    ['/throw', 'thrown'],
    ['/reject', 'rejected'],
  ])('hands %s\'s error to the error handlers and runs nothing after it', async (path, error) => {
    expect(await get(path)).toEqual({ status: 500, body: { seen: ['a', 'b'], error } });
  });
});
