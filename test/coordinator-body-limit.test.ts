// The body limit over real HTTP on Node (src/auth.ts signaturePrecheck): a
// 16 MiB upload without signature headers is refused after the first 64 KiB
// were sent, while the client still holds the rest: the coordinator answered
// without reading the body.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from '../protocol/rng.js';
import { createApp } from '../src/app.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';

let dir: string;
let store: SqliteStore;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-body-'));
  store = openSqliteStore(join(dir, 'coordinator.db'));
  const at = new Date().toISOString();
  await store.initialise({ adminKey: ed25519.getPublicKey(randomBytes(32)), handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: at }, at });
  const app = createApp({ store });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise<void>((r) => server.once('listening', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('answers a 16 MiB unsigned upload after 64 KiB of it, and audits the refusal', async () => {
  const total = 16 * 1024 * 1024;
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let response = '';
  sock.on('data', (b: Buffer) => (response += b.toString()));
  sock.on('error', () => {});
  sock.write(`PUT /v1/pairs/x/set/chunks/0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${total}\r\n\r\n`);
  sock.write(Buffer.alloc(65_536));
  const sent = 65_536;
  const until = Date.now() + 10_000;
  while (!response.includes('\r\n\r\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  sock.destroy();
  expect(response).toMatch(/^HTTP\/1\.1 401/);
  expect(sent).toBeLessThan(total);
  const last = (await store.readAudit(0, 1000)).at(-1);
  expect(last).toMatchObject({ action: 'auth.refused', outcome: 'missing' });
});
