import type { Response } from 'express';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The app's `res.json` (installed on its response prototype in app.ts): the same bytes and headers
 * as Express 5's, without the work that decides nothing here. Express's `json` and `send` parse
 * and re-format the Content-Type for its charset and look the type up in MIME tables on every
 * answer: about a tenth of the app's own JavaScript per GET /vms/{id} in a CPU profile on Node 24
 * (bench/README.md). Every answer of this API is JSON text in UTF-8, with no Express ETag (etag is
 * off in app.ts), so this sets the charset by string and writes the text. Kept from Express: a
 * fresh conditional GET (an ETag set and named by If-None-Match) becomes a 304, and a 204 or 304
 * goes without a body or content headers. A HEAD gets the headers: Node drops the body itself.
 */
export function answerJson(this: Response, body: unknown): Response {
  const type = this.getHeader('Content-Type');
  this.setHeader('Content-Type', typeof type === 'string' ? withCharset(type) : JSON_TYPE);
  if (this.req.fresh) this.statusCode = 304;
  if (this.statusCode === 204 || this.statusCode === 304) {
    for (const header of ['Content-Type', 'Content-Length', 'Transfer-Encoding']) this.removeHeader(header);
    this.end();
    return this;
  }
  const text = JSON.stringify(body) ?? '';
  this.setHeader('Content-Length', Buffer.byteLength(text));
  this.end(text);
  return this;
}

/** `application/problem+json` -> `application/problem+json; charset=utf-8`, as Express's send would. */
const withCharset = (type: string) => (/;\s*charset=/i.test(type) ? type : `${type}; charset=utf-8`);
