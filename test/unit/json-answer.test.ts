import express, { type Express } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { answerJson } from '../../src/http/json-answer.js';

/** The same routes on Express's own res.json and on answerJson: the two must answer alike, byte for byte. */
function appWith(json?: typeof answerJson): Express {
  const app = express();
  app.set('etag', false);
  if (json) app.response.json = json;
  app.get('/plain', (_req, res) => void res.json({ a: 1, text: 'naïve ☃' }));
  app.get('/created', (_req, res) => void res.status(201).json([1, 2]));
  app.get('/problem', (_req, res) => void res.status(404).type('application/problem+json').json({ code: 'X' }));
  app.get('/charset', (_req, res) => void res.type('application/json; charset=utf-8').json({ ok: true }));
  app.get('/versioned', (_req, res) => void res.setHeader('ETag', '"7"').json({ version: 7 }));
  app.delete('/empty', (_req, res) => void res.status(204).json({ ignored: true }));
  return app;
}

const express5 = appWith();
const ours = appWith(answerJson);

/** Status, body bytes and every header but Date. */
async function answer(app: Express, method: 'get' | 'head' | 'delete', path: string, headers: Record<string, string> = {}) {
  const res = await request(app)[method](path).set(headers).buffer(true).parse((r, done) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
  });
  const { date: _date, ...rest } = res.headers as Record<string, string>;
  return { status: res.status, headers: rest, body: res.body as string };
}

describe('answerJson', () => {
  const cases: [string, 'get' | 'head' | 'delete', string, Record<string, string>?][] = [
    ['a plain answer, UTF-8', 'get', '/plain'],
    ['another status', 'get', '/created'],
    ['a problem type (charset added)', 'get', '/problem'],
    ['a type that has its charset already', 'get', '/charset'],
    ['a HEAD (headers, no body)', 'head', '/plain'],
    ['an ETag not asked about', 'get', '/versioned'],
    ['a fresh conditional GET (304, no body)', 'get', '/versioned', { 'if-none-match': '"7"' }],
    ['a stale conditional GET', 'get', '/versioned', { 'if-none-match': '"6"' }],
    ['a 204 (no body, no content headers)', 'delete', '/empty'],
  ];
  it.each(cases)('answers as Express 5 does: %s', async (_what, method, path, headers) => {
    const theirs = await answer(express5, method, path, headers);
    const mine = await answer(ours, method, path, headers);
    expect(mine).toEqual(theirs);
  });

  it('writes the JSON text with its byte length', async () => {
    const mine = await answer(ours, 'get', '/plain');
    expect(mine.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(mine.body).toBe('{"a":1,"text":"naïve ☃"}');
    expect(Number(mine.headers['content-length'])).toBe(Buffer.byteLength(mine.body));
  });
});
