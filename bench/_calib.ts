import { createServer, request, Agent } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
const body = JSON.stringify({ network: { id: 'x'.repeat(36), name: 'bench-net', status: 'ACTIVE', subnets: [], tags: ['t'], created_at: '2026-11-23T16:41:08Z' } });
const server = createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); }).listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2.0/networks/x`;
const agent = new Agent({ keepAlive: true });
const viaHttp = () => new Promise<void>((resolve, reject) => {
  request(url, { agent, headers: { accept: 'application/json', 'x-auth-token': 't' } }, (res) => {
    let text = ''; res.setEncoding('utf8'); res.on('data', (c) => (text += c)); res.on('end', () => { JSON.parse(text); resolve(); });
  }).on('error', reject).end();
});
const viaFetch = async () => { const r = await fetch(url, { headers: { accept: 'application/json', 'x-auth-token': 't' }, signal: AbortSignal.timeout(10000) }); JSON.parse(await r.text()); };
// Server side: a bare node:http vs Express 5 answering the same JSON (CPU of the whole process: client + server).
const app = express(); app.get('/x', (_req, res) => { res.json(JSON.parse(body)); });
const ex = app.listen(0, '127.0.0.1'); await once(ex, 'listening');
const exUrl = `http://127.0.0.1:${(ex.address() as AddressInfo).port}/x`;
const viaFetchExpress = async () => { const r = await fetch(exUrl, { headers: { accept: 'application/json' } }); JSON.parse(await r.text()); };
async function cpu(name: string, n: number, fn: () => Promise<void>) {
  for (let i = 0; i < 300; i++) await fn();
  const before = process.cpuUsage(); const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const d = process.cpuUsage(before);
  console.log(`${name.padEnd(58)} CPU ${((d.user + d.system) / n / 1000).toFixed(3)} ms, wall ${((performance.now() - t) / n).toFixed(3)} ms a call`);
}
for (let round = 0; round < 2; round++) {
  await cpu('client fetch + bare node:http server (one process)', 2000, viaFetch);
  await cpu('client http.request keep-alive + bare node:http server', 2000, viaHttp);
  await cpu('client fetch + Express 5 res.json server', 2000, viaFetchExpress);
}
process.exit(0);
