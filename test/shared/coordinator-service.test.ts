// The operations surface every runtime serves (src/API.md, "Unauthenticated",
// "Request ids"): the liveness and readiness probes, unsigned and unaudited,
// and the request id on every answer, problem document and log line.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type LogEntry } from '../../src/app.js';
import type { Store } from '../../src/store/types.js';
import { makeHarness, newSigner, type Harness } from '../coordinator-harness.js';
import { openTestStore, type TestStore } from '../coordinator-runtime.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const auditSize = async (store: Store) => (await store.readAudit(0, 100_000)).length;

describe('health probes', () => {
  it('GET /healthz: the process answers, unsigned, unaudited', async () => {
    const before = await auditSize(h.store);
    expect(await h.json(undefined, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await auditSize(h.store)).toBe(before);
  });

  it('GET /readyz: ready with the current epoch read from the database, unsigned, unaudited', async () => {
    const before = await auditSize(h.store);
    expect(await h.json(undefined, 'GET', '/readyz')).toEqual({ status: 200, body: { status: 'ready', epoch: 'e1' } });
    await h.json(h.admin, 'POST', '/v1/admin/epochs/rotate', { body: {} });
    const after = await auditSize(h.store);
    expect(await h.json(undefined, 'GET', '/readyz')).toEqual({ status: 200, body: { status: 'ready', epoch: 'e2' } });
    expect(await auditSize(h.store)).toBe(after);
    expect(after).toBeGreaterThan(before);
  });

  it('GET /readyz is 503 unavailable on a database that is not initialised or fails; /healthz stays 200', async () => {
    const empty: TestStore = await openTestStore();
    try {
      const logs: LogEntry[] = [];
      const app = createApp({ store: empty.store, log: (e) => logs.push(e) });
      const res = await app.request('/readyz');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ type: 'urn:concordat:problem:unavailable', status: 503, requestId: res.headers.get('x-request-id') });
      expect(logs.at(-1)).toMatchObject({ route: '/readyz', status: 503, error: expect.any(String) });
      expect((await app.request('/healthz')).status).toBe(200);

      const failing = new Proxy(h.store, {
        get: (t, k) => (k === 'currentEpoch' ? () => Promise.reject(new Error('disk I/O error')) : Reflect.get(t, k)),
      });
      const down = await createApp({ store: failing, log: (e) => logs.push(e) }).request('/readyz');
      expect(down.status).toBe(503);
      expect(logs.at(-1)).toMatchObject({ status: 503, error: 'Error: disk I/O error' });
      expect(JSON.stringify(await down.json())).not.toContain('disk I/O');
    } finally {
      await empty.close();
    }
  });

  it('are in the OpenAPI document as unsigned routes', async () => {
    const doc = (await h.json(undefined, 'GET', '/openapi.json')).body;
    expect(doc.paths['/healthz'].get.security).toBeUndefined();
    expect(doc.paths['/readyz'].get.responses).toHaveProperty('503');
  });
});

describe('request ids', () => {
  it('every answer carries one, a new UUID each time; problems and log lines carry the same', async () => {
    const ok = await h.send(undefined, 'GET', '/');
    const id = ok.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(h.logs.at(-1)).toMatchObject({ route: '/', reqId: id });
    const again = await h.send(undefined, 'GET', '/healthz');
    expect(again.headers.get('x-request-id')).toMatch(UUID);
    expect(again.headers.get('x-request-id')).not.toBe(id);

    for (const request of [
      () => h.send(undefined, 'GET', '/v1/me'), // 401 signature
      () => h.send(h.admin, 'GET', '/v1/nope'), // 404 not-found
      () => h.send(newSigner('XX-GHOST'), 'GET', '/v1/me'), // 401 unknown key
      () => h.send(h.admin, 'POST', '/v1/admin/agreements', { body: new TextEncoder().encode('{not json') }), // 422 validation
    ]) {
      const res = await request();
      const rid = res.headers.get('x-request-id');
      expect(rid).toMatch(UUID);
      expect(((await res.json()) as { requestId?: string }).requestId).toBe(rid);
      expect(h.logs.at(-1)?.reqId).toBe(rid);
    }
  });

  it("keeps a caller's sane X-Request-Id and replaces one that is not", async () => {
    const mine = await h.app.request('/healthz', { headers: { 'X-Request-Id': 'lb-7f3a_01=' } });
    expect(mine.headers.get('x-request-id')).toBe('lb-7f3a_01=');
    expect(h.logs.at(-1)?.reqId).toBe('lb-7f3a_01=');
    const refused = await h.app.request('/v1/me', { headers: { 'X-Request-Id': 'trace-42' } });
    expect(refused.headers.get('x-request-id')).toBe('trace-42');
    expect(await refused.json()).toMatchObject({ requestId: 'trace-42' });
    for (const bad of ['has space', 'new\\nline"', 'x'.repeat(129), 'ESP:P1234567', 'a@b.example']) {
      const res = await h.app.request('/healthz', { headers: { 'X-Request-Id': bad } });
      expect(res.headers.get('x-request-id'), bad).toMatch(UUID);
    }
  });
});
