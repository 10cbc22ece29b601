// The Worker entry itself (src/worker.ts) inside workerd: first-run
// initialisation from the ADMIN_PUBLIC_KEY secret, the secret staying
// authoritative, a clear refusal while it is missing, and the hourly
// retention purge of the cron trigger. Runs only in the Workers pool
// (vitest.workers.config.ts); the shared coordinator suite covers the app.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../protocol/bytes.js';
import { signRequest } from '../protocol/http-signature.js';
import { randomBytes } from '../protocol/rng.js';
import { openD1Store, type PairNamespace } from '../src/store/drivers/d1.js';
import worker, { type Env } from '../src/worker.js';

function adminKey() {
  const secretKey = randomBytes(32);
  return { secretKey, publicKey: bytesToHex(ed25519.getPublicKey(secretKey)) };
}

/** A fresh env object: the Worker keeps one app per env it sees. */
function envWith(vars: Partial<Env>): Env {
  return { DB: env.DB, PAIRS: env.PAIRS as PairNamespace, ...vars };
}

function adminRequest(path: string, secretKey: Uint8Array): Request {
  const body = new Uint8Array(0);
  const headers = signRequest({
    method: 'GET',
    authority: 'coordinator.test',
    path,
    query: '?',
    body,
    keyid: 'admin',
    secretKey,
    created: Math.floor(Date.now() / 1000),
    nonce: bytesToHex(randomBytes(16)),
  });
  return new Request(`http://coordinator.test${path}`, { headers });
}

const store = openD1Store(env.DB, env.PAIRS as PairNamespace);

describe('the Worker entry', () => {
  it('refuses to serve until ADMIN_PUBLIC_KEY is set, then initialises D1 on the first request', async () => {
    const missing = await worker.fetch(new Request('http://coordinator.test/'), envWith({}));
    expect(missing.status).toBe(500);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(((await missing.json()) as { detail: string }).detail).toContain('ADMIN_PUBLIC_KEY');
    const malformed = await worker.fetch(new Request('http://coordinator.test/'), envWith({ ADMIN_PUBLIC_KEY: 'not hex' }));
    expect(((await malformed.json()) as { detail: string }).detail).toContain('64 hex characters');
    expect(await store.getSecrets()).toBeUndefined();

    const admin = adminKey();
    const first = envWith({ ADMIN_PUBLIC_KEY: admin.publicKey });
    expect(await (await worker.fetch(new Request('http://coordinator.test/'), first)).json()).toEqual({
      service: 'concordat-coordinator',
      version: expect.any(String),
      protocol: 'concordat-v2',
      epoch: 'e1',
    });
    expect((await worker.fetch(adminRequest('/v1/admin/config', admin.secretKey), first)).status).toBe(200);
    const [init] = await store.readAudit(0, 10);
    expect(init).toMatchObject({ seq: 1, actor: 'admin', action: 'coordinator.initialised', detail: { epoch: 'e1', adminKey: admin.publicKey } });
    expect((await store.getSecrets())?.handleKey).toHaveLength(32);

    // The secret stays authoritative: a new key replaces the stored one, audited, and the old one stops working.
    const next = adminKey();
    const rotated = envWith({ ADMIN_PUBLIC_KEY: next.publicKey });
    expect((await worker.fetch(adminRequest('/v1/admin/config', next.secretKey), rotated)).status).toBe(200);
    expect((await worker.fetch(adminRequest('/v1/admin/config', admin.secretKey), rotated)).status).toBe(401);
    const audit = await store.readAudit(0, 100);
    expect(audit.filter((e) => e.action === 'coordinator.admin_key_changed')).toMatchObject([
      { actor: 'coordinator', detail: { adminKey: next.publicKey, previous: admin.publicKey } },
    ]);
    expect(audit.filter((e) => e.action === 'coordinator.initialised')).toHaveLength(1);
  });

  it('runs the retention purge on its cron trigger', async () => {
    const admin = adminKey();
    const e = envWith({ ADMIN_PUBLIC_KEY: admin.publicKey });
    const ctx = createExecutionContext();
    await worker.scheduled({}, e, ctx);
    await waitOnExecutionContext(ctx);
    expect((await store.readAudit(0, 1000)).at(-1)).toMatchObject({ actor: 'coordinator', action: 'retention.purged', outcome: 'ok' });
  });
});
