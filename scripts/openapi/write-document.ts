/**
 * Writes the OpenAPI document exactly as the app serves it at /openapi.json, for the linters
 * (`npm run lint:openapi`): the app is built on the memory backend, asked once on 127.0.0.1 and
 * closed. Two documents, one per access mode, since the security requirements differ:
 * `<dir>/open.json` (no API keys) and `<dir>/keys.json` (API keys configured).
 */
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createBackend } from '../../src/backends/create-backend.js';
import { parseConfig } from '../../src/config/config.js';

async function documentServed(env: Record<string, string>): Promise<unknown> {
  const parsed = parseConfig({ LOG_LEVEL: 'silent', ...env });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const logger = pino({ level: 'silent' });
  const backend = await createBackend(parsed.config, logger);
  const server = buildApp({ config: parsed.config, backend, logger }).listen(0, '127.0.0.1');
  try {
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
    return await response.json();
  } finally {
    server.close();
    await backend.close();
  }
}

const dir = process.argv[2] ?? '.openapi';
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'open.json'), `${JSON.stringify(await documentServed({}), null, 2)}\n`);
await writeFile(join(dir, 'keys.json'), `${JSON.stringify(await documentServed({ API_KEYS: 'lint-only-key' }), null, 2)}\n`);
