import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../protocol/bytes.js';
import { signRequest } from '../../protocol/http-signature.js';
import { makeHarness, newSigner, nonce, type Harness, type Signer } from '../coordinator-harness.js';

let h: Harness;
let es: Signer;

beforeEach(async () => {
  h = await makeHarness();
  es = await h.addAgency('ES-CNP', 'ESP');
});
afterEach(async () => {
  await h.close();
});

async function lastAudit() {
  const all = await h.store.readAudit(0, 10_000);
  return all[all.length - 1];
}

async function expectRefused(res: Response, reason: string, actor: string) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { type: string; status: number; detail: string; reason: string };
  expect(body.type).toBe('urn:concordat:problem:signature');
  expect(body.reason).toBe(reason);
  expect(body.status).toBe(401);
  expect(typeof body.detail).toBe('string');
  expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|\.ts:\d+/);
  const a = await lastAudit();
  expect(a).toMatchObject({ action: 'auth.refused', outcome: reason, actor });
}

describe('request signatures (RFC 9421)', () => {
  it('accepts a good signature and tells the caller who it is', async () => {
    const r = await h.json(es, 'GET', '/v1/me');
    expect(r.status).toBe(200);
    expect(r.body.agency).toEqual({ id: 'ES-CNP', name: 'ES-CNP agency', country: 'ESP' });
    expect(r.body.epoch.id).toBe('e1');
    expect(r.body.pairs).toEqual([]);
  });

  it('serves GET / without a signature', async () => {
    const r = await h.json(undefined, 'GET', '/');
    expect(r).toEqual({ status: 200, body: { service: 'concordat-coordinator', version: expect.any(String), protocol: 'concordat-v2', epoch: 'e1' } });
  });

  it('refuses missing signature headers', async () => {
    await expectRefused(await h.send(undefined, 'GET', '/v1/me'), 'missing', 'unknown');
  });

  it('refuses an unknown key', async () => {
    const ghost = newSigner('XX-GHOST');
    await expectRefused(await h.send(ghost, 'GET', '/v1/me'), 'unknown-key', 'XX-GHOST');
  });

  it('refuses a bad signature', async () => {
    const other = newSigner('ES-CNP');
    await expectRefused(await h.send(es, 'GET', '/v1/me', { signWith: other.secretKey }), 'bad-signature', 'ES-CNP');
  });

  it('refuses a stale or future created', async () => {
    const nowS = Math.floor(h.clock.now.getTime() / 1000);
    await expectRefused(await h.send(es, 'GET', '/v1/me', { created: nowS - 301 }), 'stale', 'ES-CNP');
    await expectRefused(await h.send(es, 'GET', '/v1/me', { created: nowS + 301 }), 'stale', 'ES-CNP');
    expect((await h.send(es, 'GET', '/v1/me', { created: nowS - 299 })).status).toBe(200);
  });

  it('refuses a replayed nonce', async () => {
    const n = nonce();
    expect((await h.send(es, 'GET', '/v1/me', { nonce: n })).status).toBe(200);
    await expectRefused(await h.send(es, 'GET', '/v1/me', { nonce: n }), 'replay', 'ES-CNP');
  });

  it('prunes nonces after ten minutes without accepting stale replays', async () => {
    const n = nonce();
    expect((await h.send(es, 'GET', '/v1/me', { nonce: n })).status).toBe(200);
    h.clock.now = new Date(h.clock.now.getTime() + 11 * 60_000);
    await h.send(es, 'GET', '/v1/me');
    const [rows] = await h.controlRows('SELECT count(*) AS n FROM nonces WHERE nonce = ?', n);
    expect(rows?.n).toBe(0);
    // The old request itself is now stale.
    const created = Math.floor(h.clock.now.getTime() / 1000) - 11 * 60;
    await expectRefused(await h.send(es, 'GET', '/v1/me', { nonce: n, created }), 'stale', 'ES-CNP');
  });

  it('refuses a request signed as concordat-v1 with protocol-version, telling the client to upgrade, and audits it', async () => {
    const created = Math.floor(h.clock.now.getTime() / 1000);
    const headers = signRequest({ method: 'GET', url: 'http://coordinator.test/v1/me', keyid: es.keyid, secretKey: es.secretKey, created, nonce: nonce() });
    const v1 = { ...headers, 'signature-input': headers['signature-input']!.replace('tag="concordat-v2"', 'tag="concordat-v1"') };
    expect(v1['signature-input']).toContain('tag="concordat-v1"');
    const res = await h.app.request('http://coordinator.test/v1/me', { headers: v1 });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { type: string; detail: string };
    expect(body.type).toBe('urn:concordat:problem:protocol-version');
    expect(body.detail).toBe('this coordinator speaks Concordat PSI v2; the client signed as concordat-v1: upgrade the client');
    expect(await lastAudit()).toMatchObject({ action: 'auth.refused', actor: 'ES-CNP', outcome: 'protocol-version', detail: { tag: 'concordat-v1' } });
    // A tag that is no Concordat protocol at all is an ordinary signature refusal.
    const other = { ...headers, 'signature-input': headers['signature-input']!.replace('tag="concordat-v2"', 'tag="other"') };
    await expectRefused(await h.app.request('http://coordinator.test/v1/me', { headers: other }), 'algorithm', 'ES-CNP');
  });

  it('refuses a Content-Digest that does not match the body', async () => {
    const res = await h.send(es, 'POST', '/v1/admin/agreements', { body: utf8('{"id":"a"}'), signedBody: utf8('{"id":"b"}') });
    await expectRefused(res, 'digest', 'ES-CNP');
  });

  it('binds the query string into the signature, and refuses query parameters', async () => {
    const r = await h.json(es, 'GET', '/v1/me?x=1');
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: 'urn:concordat:problem:validation', field: 'query' });
    await expectRefused(await h.send(es, 'GET', '/v1/me?x=1', { signedQuery: '?' }), 'bad-signature', 'ES-CNP');
  });

  it('binds the authority and the epoch header into the signature', async () => {
    const created = Math.floor(h.clock.now.getTime() / 1000);
    const signed = (url: string, headers?: Record<string, string>) =>
      signRequest({ method: 'GET', url, headers, keyid: es.keyid, secretKey: es.secretKey, created, nonce: nonce() });
    // Signed for another coordinator, replayed to this one.
    await expectRefused(await h.app.request('http://coordinator.test/v1/me', { headers: signed('http://other.test/v1/me') }), 'bad-signature', 'ES-CNP');
    const unsignedEpoch = { ...signed('http://coordinator.test/v1/me'), 'concordat-epoch': 'e1' };
    await expectRefused(await h.app.request('http://coordinator.test/v1/me', { headers: unsignedEpoch }), 'components', 'ES-CNP');
    const signedEpoch = { ...signed('http://coordinator.test/v1/me', { 'concordat-epoch': 'e1' }), 'concordat-epoch': 'e1' };
    expect((await h.app.request('http://coordinator.test/v1/me', { headers: signedEpoch })).status).toBe(200);
  });

  it('keeps admin routes for the admin key and agency routes for agencies', async () => {
    const r1 = await h.json(es, 'GET', '/v1/admin/agreements');
    expect(r1.status).toBe(403);
    expect(r1.body.type).toBe('urn:concordat:problem:forbidden');
    expect(await lastAudit()).toMatchObject({ action: 'authz.refused', actor: 'ES-CNP', outcome: 'forbidden' });
    const r2 = await h.json(h.admin, 'GET', '/v1/me');
    expect(r2.status).toBe(403);
    expect(await lastAudit()).toMatchObject({ action: 'authz.refused', actor: 'admin', outcome: 'forbidden' });
    const r3 = await h.json(h.admin, 'GET', '/v1/admin/agreements');
    expect(r3).toEqual({ status: 200, body: { agreements: [] } });
  });

  it('answers unknown routes and malformed bodies with problem documents', async () => {
    const r = await h.json(es, 'GET', '/v1/nope');
    expect(r.status).toBe(404);
    expect(r.body.type).toBe('urn:concordat:problem:not-found');
    const bad = await h.json(h.admin, 'POST', '/v1/admin/agreements', { body: utf8('{not json') });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ type: 'urn:concordat:problem:validation', field: 'body' });
    const extra = await h.json(h.admin, 'POST', '/v1/admin/epochs/rotate', { body: { more: 1 } });
    expect(extra.status).toBe(422);
  });

  it('logs one entry per request with the route pattern, never query values', async () => {
    await h.send(es, 'GET', '/v1/me?secret=value');
    await h.send(es, 'GET', '/v1/pairs/x~ES-CNP~PT-PJ/status');
    const [a, b] = h.logs.slice(-2);
    expect(a).toMatchObject({ method: 'GET', route: '/v1/me', status: 422, actor: 'ES-CNP' });
    expect(b).toMatchObject({ route: '/v1/pairs/:pair/status', status: 403 });
    expect(JSON.stringify(h.logs)).not.toContain('secret');
  });
});
