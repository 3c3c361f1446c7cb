import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('censors credentials wherever a log object carries them', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'info', pretty: false }, stream);
    log.info(
      {
        req: { headers: { authorization: 'Bearer tok-123', 'x-api-key': 'key-456', cookie: 'c=789' } },
        auth: { password: 'pw-000', secret: 'sec-111', token: 'tok-222' },
        config: { OS_PASSWORD: 'os-333', OS_APPLICATION_CREDENTIAL_SECRET: 'app-444', API_KEYS: ['k-555'] },
      },
      'something happened',
    );
    const text = lines.join('');
    for (const secret of ['tok-123', 'key-456', 'c=789', 'pw-000', 'sec-111', 'tok-222', 'os-333', 'app-444', 'k-555']) {
      expect(text).not.toContain(secret);
    }
    expect(JSON.parse(text)).toMatchObject({ msg: 'something happened', auth: { password: '[redacted]' } });
  });

  it('writes nothing below its level', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'warn', pretty: false }, stream);
    log.info('quiet');
    log.warn('loud');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud']);
  });
});
