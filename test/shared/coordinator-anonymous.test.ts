// Anonymous traffic cannot grow the audit log (src/refusals.ts): refused
// authentication is audited in full once per source, hour and reason, the
// rest only counted into one `auth.refused_summary` per source and hour, and
// a source refused too often is answered 429 with Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from '../coordinator-harness.js';
import { REFUSALS_PER_MINUTE } from '../../src/refusals.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  await h.addAgency('ES-CNP', 'ESP');
});
afterEach(async () => {
  await h.close();
});

const unsigned = (path = '/v1/me', init: RequestInit = {}) => h.app.fetch(new Request(`http://coordinator.test${path}`, init));
const auditSize = async () => (await h.store.readAudit(0, 100_000)).length;

describe('refused authentication', () => {
  it('10,000 unsigned or badly signed requests add a handful of audit entries; the rest wait with 429 and Retry-After', async () => {
    const before = await auditSize();
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    for (let i = 0; i < 10_000; i++) {
      const init: RequestInit = i % 3 === 0 ? { headers: { 'signature-input': 'sig1=("@method");keyid="ES-CNP"', signature: 'sig1=:AAAA:' } } : i % 3 === 1 ? { headers: { signature: 'garbage' } } : {};
      const res = await unsigned(i % 2 ? '/v1/me' : '/v1/work', init);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    expect(statuses.get(401)).toBe(REFUSALS_PER_MINUTE);
    expect(statuses.get(429)).toBe(10_000 - REFUSALS_PER_MINUTE);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    const added = (await h.store.readAudit(0, 100_000)).slice(before);
    // One per reason (missing, malformed, and whatever the well-formed bad signature fails on).
    expect(added.length).toBeLessThanOrEqual(5);
    expect(added.every((e) => e.action === 'auth.refused')).toBe(true);
    // The next hour: the source is heard again, and the first refusal brings the summary of the hour before.
    h.clock.now = new Date(h.clock.now.getTime() + 3600_000);
    expect((await unsigned()).status).toBe(401);
    const later = (await h.store.readAudit(0, 100_000)).slice(before + added.length);
    const summary = later.find((e) => e.action === 'auth.refused_summary');
    expect(summary?.detail).toMatchObject({ source: 'unknown', refused: REFUSALS_PER_MINUTE, rateLimited: 10_000 - REFUSALS_PER_MINUTE });
    expect(later.length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a signed request still works after refusals below the limit', async () => {
    for (let i = 0; i < 10; i++) expect((await unsigned()).status).toBe(401);
    const r = await h.json(h.signers.get('ES-CNP')!, 'GET', '/v1/me');
    expect(r.status).toBe(200);
  });

  it('refuses a 16 MiB body without signature headers before reading it', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 65_536;
        if (pulled > 16 * 1024 * 1024) controller.close();
        else controller.enqueue(new Uint8Array(65_536));
      },
    });
    const res = await unsigned('/v1/pairs/x/set/chunks/0', { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' }, duplex: 'half' } as RequestInit);
    expect([401, 413]).toContain(res.status);
    // Only what the stream buffers ahead was pulled, never the 16 MiB.
    expect(pulled).toBeLessThan(1024 * 1024);
  });
});
