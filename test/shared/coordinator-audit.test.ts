import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../protocol/bytes.js';
import {
  AUDIT_GENESIS_HASH,
  auditEvent,
  canonicalJSON,
  chainHash,
  involves,
  readInvolving,
  verifyAuditChain,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditRecord,
} from '../../src/audit.js';
import { addAgreement, epochKeyPair, makeHarness, newSigner, publishKey, type Harness, type Signer } from '../coordinator-harness.js';

describe('canonical JSON and the hash chain', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJSON({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
    expect(() => canonicalJSON({ a: Number.NaN })).toThrow();
  });

  it('hash_1 = SHA-256(32 zero bytes ‖ canonicalJSON(event))', () => {
    const event = { seq: 1, at: '2026-03-10T12:00:00.000Z', actor: 'admin', action: 'agency.added', subject: 'ES-CNP', outcome: 'ok', detail: { country: 'ESP' } };
    const expected = sha256(
      concatBytes(
        new Uint8Array(32),
        utf8('{"action":"agency.added","actor":"admin","at":"2026-03-10T12:00:00.000Z","detail":{"country":"ESP"},"outcome":"ok","seq":1,"subject":"ES-CNP"}'),
      ),
    );
    expect(bytesToHex(chainHash(AUDIT_GENESIS_HASH, event))).toBe(bytesToHex(expected));
  });
});

describe('audit log in the store', () => {
  it('records state changes and refusals, and the chain verifies', async () => {
    const h = await makeHarness();
    try {
      const es = await h.addAgency('ES-CNP', 'ESP');
      await h.addAgency('PT-PJ', 'PRT');
      await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
      await publishKey(h, es, epochKeyPair());
      await h.send(newSigner('XX-GHOST'), 'GET', '/v1/me');
      await h.send(es, 'GET', '/v1/admin/agreements');
      await h.send(es, 'GET', '/v1/results');
      const entries = await h.store.readAudit(0, 1000);
      expect(entries.map((e) => e.action)).toEqual([
        'agency.added',
        'agency.added',
        'agreement.proposed',
        'agreement.accepted',
        'agreement.accepted',
        'agreement.activated',
        'epoch_key.published',
        'auth.refused',
        'authz.refused',
        'results.served',
      ]);
      expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(verifyAuditChain(entries)).toEqual({ ok: true, count: 10 });
      // Paging reads the same chain.
      expect([...(await h.store.readAudit(0, 3)), ...(await h.store.readAudit(3, 1000))]).toEqual(entries);
    } finally {
      await h.close();
    }
  });

  it('keeps one unbroken chain under concurrent requests', async () => {
    const h = await makeHarness();
    try {
      const signers = await Promise.all(['ES-CNP', 'PT-PJ', 'FR-OCRTEH', 'IT-DCSA'].map((id, i) => h.addAgency(id, ['ESP', 'PRT', 'FRA', 'ITA'][i] as string)));
      await addAgreement(h, { id: 'all', parties: ['ES-CNP', 'PT-PJ', 'FR-OCRTEH', 'IT-DCSA'] });
      const before = (await h.store.readAudit(0, 1000)).length;
      // Refusals and state changes from many requests at once all append to the chain (three pair keys per agency).
      await Promise.all(signers.flatMap((s) => [h.send(s, 'GET', '/v1/results'), h.send(s, 'GET', '/v1/admin/agreements'), publishKey(h, s, epochKeyPair())]));
      const entries = await h.store.readAudit(0, 1000);
      expect(entries).toHaveLength(before + 4 * (2 + 3));
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      expect(verifyAuditChain(entries)).toEqual({ ok: true, count: entries.length });
    } finally {
      await h.close();
    }
  });
});

describe('GET /v1/audit', () => {
  const PAIR = 'es-pt~ES-CNP~PT-PJ';
  const OTHER_PAIR = 'fr-it~FR-OCRTEH~IT-DCSA';

  interface World {
    h: Harness;
    es: Signer;
    pt: Signer;
    fr: Signer;
    it: Signer;
  }

  /** ES and PT share an agreement, FR and IT another; each does a little, some of it refused. */
  async function world(): Promise<World> {
    const h = await makeHarness();
    const es = await h.addAgency('ES-CNP', 'ESP');
    const pt = await h.addAgency('PT-PJ', 'PRT');
    const fr = await h.addAgency('FR-OCRTEH', 'FRA');
    const it = await h.addAgency('IT-DCSA', 'ITA');
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await addAgreement(h, { id: 'fr-it', parties: ['FR-OCRTEH', 'IT-DCSA'] });
    await publishKey(h, es, epochKeyPair());
    await publishKey(h, fr, epochKeyPair());
    const blinded = [bytesToHex(epochKeyPair().pk)];
    // ES acts, and is refused an admin route.
    expect((await h.send(es, 'GET', '/v1/results')).status).toBe(200);
    expect((await h.send(es, 'GET', '/v1/admin/agreements')).status).toBe(403);
    // PT is refused on the pair it shares with ES (no epoch key yet): ES is a party of the subject.
    expect((await h.send(pt, 'GET', `/v1/pairs/${PAIR}/status`)).status).toBe(409);
    // FR asks ES without an agreement: the refusal names ES only in its detail.
    const toEs = { partners: ['ES-CNP'], kind: 'email', purpose: 'terrorism', caseRef: 'CASE-FR-1', officer: 'fr-officer-1', blinded };
    expect((await h.send(fr, 'POST', '/v1/queries', { body: toEs })).status).toBe(403);
    // The business of FR and IT alone.
    expect((await h.send(fr, 'GET', '/v1/results')).status).toBe(200);
    expect((await h.send(it, 'GET', '/v1/admin/agreements')).status).toBe(403);
    expect((await h.send(it, 'GET', `/v1/pairs/${OTHER_PAIR}/status`)).status).toBe(409);
    const toIt = { ...toEs, partners: ['IT-DCSA'], purpose: 'espionage', caseRef: 'CASE-FR-2' };
    expect((await h.send(fr, 'POST', '/v1/queries', { body: toIt })).status).toBe(403);
    expect((await h.send(fr, 'GET', '/v1/results')).status).toBe(200);
    return { h, es, pt, fr, it };
  }

  /** hash = SHA-256(prevHash ‖ canonicalJSON(event)), on the entry alone. */
  function checksOnItsOwn(entry: Record<string, unknown>): boolean {
    // `salts` and `sealed` open the entry's leaf in the transparency log (protocol/SPEC.md §9.2); the chain covers the entry itself.
    const { hash, prevHash, salts: _salts, sealed: _sealed, ...event } = entry;
    return bytesToHex(sha256(concatBytes(hexToBytes(prevHash as string), utf8(canonicalJSON(event))))) === hash;
  }

  /** Every page from `after` = 0, following `next`. */
  async function allPages(h: Harness, s: Signer, limit: number): Promise<{ entries: any[]; pages: number }> {
    const entries: any[] = [];
    let after = 0;
    for (let pages = 1; ; pages++) {
      const r = await h.json(s, 'GET', `/v1/audit?after=${after}&limit=${limit}`);
      expect(r.status).toBe(200);
      expect(r.body.entries.length).toBeLessThanOrEqual(limit);
      for (const e of r.body.entries) expect(e.seq).toBeGreaterThan(after);
      entries.push(...r.body.entries);
      if (r.body.next === null) return { entries, pages };
      expect(r.body.next).toBeGreaterThan(after);
      after = r.body.next;
    }
  }

  it('shows an agency its actions, refusals, its pairs and queries naming it, and nothing about others only', async () => {
    const { h, es, pt } = await world();
    try {
      const all = await h.store.readAudit(0, 10_000);
      const r = await h.json(es, 'GET', '/v1/audit');
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['entries', 'next']);
      expect(r.body.next).toBeNull();
      const entries: any[] = r.body.entries;
      // Oldest first; exactly the entries `audit export` would write, which all name ES somewhere.
      expect(entries.map((e) => e.seq)).toEqual(all.filter((e) => involves(e, 'ES-CNP')).map((e) => e.seq));
      expect(entries.map((e) => e.seq)).toEqual(all.filter((e) => canonicalJSON(auditEvent(e)).includes('ES-CNP')).map((e) => e.seq));
      expect(entries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ action: 'agency.added', subject: 'ES-CNP' }),
          expect.objectContaining({ action: 'agreement.proposed', subject: 'es-pt' }),
          expect.objectContaining({ actor: 'PT-PJ', action: 'agreement.accepted', subject: 'es-pt' }),
          expect.objectContaining({ actor: 'coordinator', action: 'agreement.activated', subject: 'es-pt' }),
          expect.objectContaining({ actor: 'ES-CNP', action: 'epoch_key.published' }),
          expect.objectContaining({ actor: 'ES-CNP', action: 'results.served', outcome: 'ok' }),
          expect.objectContaining({ actor: 'ES-CNP', action: 'authz.refused', outcome: 'forbidden' }),
          expect.objectContaining({ actor: 'PT-PJ', action: 'pair.refused', subject: PAIR, outcome: 'epoch-key-required' }),
          expect.objectContaining({
            actor: 'FR-OCRTEH',
            action: 'query.refused',
            subject: 'FR-OCRTEH',
            outcome: 'no-agreement',
            detail: expect.objectContaining({ partners: ['ES-CNP'], caseRef: 'CASE-FR-1' }),
          }),
        ]),
      );
      expect(entries.filter((e) => e.actor === 'FR-OCRTEH').map((e) => e.detail.caseRef)).toEqual(['CASE-FR-1']);
      expect(entries.filter((e) => e.actor === 'FR-OCRTEH').some((e) => 'officer' in e.detail)).toBe(false);
      expect(entries.some((e) => e.actor !== 'ES-CNP' && e.redacted)).toBe(true);
      expect(entries.some((e) => e.actor === 'IT-DCSA' || e.subject === 'fr-it' || e.subject === OTHER_PAIR || e.subject === 'IT-DCSA')).toBe(false);
      expect(entries.some((e) => e.actor === 'FR-OCRTEH' && e.action === 'results.served')).toBe(false);

      // Every entry checks on its own, and is the stored one.
      const stored = new Map(all.map((e) => [e.seq, e]));
      for (const e of entries) {
        // Another agency's officer is withheld (the responder never learns who asked); the hash covers the full entry.
        const redacted = e.actor !== 'ES-CNP' && 'officer' in ((stored.get(e.seq) as AuditEntry).detail ?? {});
        expect(Object.keys(e).sort()).toEqual(['action', 'actor', 'at', 'detail', 'hash', 'outcome', 'prevHash', ...(redacted ? ['redacted'] : []), 'salts', ...(redacted ? ['sealed'] : []), 'seq', 'subject']);
        expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(e.prevHash).toMatch(/^[0-9a-f]{64}$/);
        if (redacted) {
          expect(e.redacted).toEqual(['detail.officer']);
          expect(e.detail.officer).toBeUndefined();
          expect(Object.keys(e.sealed)).toEqual(['detail.officer']);
          const { redacted: _redacted, sealed: _sealed, ...full } = e;
          expect(checksOnItsOwn({ ...full, detail: (stored.get(e.seq) as AuditEntry).detail })).toBe(true);
        } else expect(checksOnItsOwn(e), `seq ${e.seq}`).toBe(true);
        expect(e.hash).toBe(bytesToHex((stored.get(e.seq) as AuditEntry).hash));
        expect(e.prevHash).toBe(bytesToHex(e.seq === 1 ? AUDIT_GENESIS_HASH : (stored.get(e.seq - 1) as AuditEntry).hash));
      }

      // PT sees the pair and ES's share of it, but neither FR's query to ES nor ES's refusal.
      const forPt: any[] = (await h.json(pt, 'GET', '/v1/audit')).body.entries;
      expect(forPt.map((e) => e.seq)).toEqual(all.filter((e) => involves(e, 'PT-PJ')).map((e) => e.seq));
      expect(forPt).toEqual(expect.arrayContaining([expect.objectContaining({ actor: 'PT-PJ', action: 'pair.refused', subject: PAIR })]));
      expect(forPt.some((e) => e.actor === 'FR-OCRTEH' || e.action === 'authz.refused' || e.action === 'results.served')).toBe(false);

      // Reading the list appends nothing.
      expect(await h.store.readAudit(0, 10_000)).toHaveLength(all.length);
    } finally {
      await h.close();
    }
  });

  it('pages with after, limit and next, returning every involving entry exactly once', async () => {
    const { h, es, fr } = await world();
    try {
      const full: any[] = (await h.json(es, 'GET', '/v1/audit?limit=1000')).body.entries;
      expect(full.length).toBeGreaterThan(5);
      for (const limit of [1, 2, 3, full.length, 1000]) {
        const { entries, pages } = await allPages(h, es, limit);
        expect(entries, `limit ${limit}`).toEqual(full);
        expect(pages, `limit ${limit}`).toBeGreaterThanOrEqual(Math.ceil(full.length / limit));
      }
      const mid = full[2].seq as number;
      expect((await h.json(es, 'GET', `/v1/audit?after=${mid}`)).body).toEqual({ entries: full.slice(3), next: null });
      expect((await h.json(es, 'GET', `/v1/audit?after=${mid}&limit=2`)).body).toEqual({ entries: full.slice(3, 5), next: full[4].seq });
      expect((await h.json(es, 'GET', '/v1/audit?after=1000000')).body).toEqual({ entries: [], next: null });
      expect((await allPages(h, fr, 2)).entries).toEqual((await h.json(fr, 'GET', '/v1/audit')).body.entries);
      // Pages read nothing into the log.
      const count = (await h.store.readAudit(0, 10_000)).length;
      await allPages(h, es, 1);
      expect(await h.store.readAudit(0, 10_000)).toHaveLength(count);
    } finally {
      await h.close();
    }
  });

  it('reads a bounded number of rows per page, and a stretch about others ends a page early with next', async () => {
    const { h } = await world();
    try {
      const all = await h.store.readAudit(0, 10_000);
      const involving = all.filter((e) => involves(e, 'ES-CNP'));
      let rowsRead = 0;
      const source = {
        readAudit: async (afterSeq: number, limit: number) => {
          const rows = await h.store.readAudit(afterSeq, limit);
          rowsRead += rows.length;
          return rows;
        },
        getAuditCheckpoint: () => h.store.getAuditCheckpoint(),
      };
      const SCAN = 3;
      const got: AuditRecord[] = [];
      let after = 0;
      for (;;) {
        rowsRead = 0;
        const page = await readInvolving(source, 'ES-CNP', after, 1000, SCAN);
        // The scan plus the entry `after` itself, whose hash the next one is chained to.
        expect(rowsRead).toBeLessThanOrEqual(SCAN + 1);
        for (const e of page.entries) expect(e.seq).toBeLessThanOrEqual(after + SCAN);
        got.push(...page.entries);
        if (page.next === null) break;
        expect(page.next).toBe(after + SCAN);
        after = page.next;
      }
      expect(got.map((e) => e.seq)).toEqual(involving.map((e) => e.seq));
      for (const e of got) expect(checksOnItsOwn({ ...e })).toBe(true);
      // The tail of the world is FR's and IT's alone: a page there is empty, yet points past what it read.
      const lastEs = involving.at(-1)?.seq as number;
      expect(all.length - lastEs).toBeGreaterThan(SCAN);
      expect(await readInvolving(source, 'ES-CNP', lastEs, 1000, SCAN)).toEqual({ entries: [], next: lastEs + SCAN });
    } finally {
      await h.close();
    }
  });

  it('chains the first entry after a retention purge to the checkpoint', async () => {
    const { h, es } = await world();
    try {
      expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { auditDays: 30 } } })).status).toBe(200);
      h.clock.now = new Date(h.clock.now.getTime() + 31 * 86_400_000);
      expect((await h.send(es, 'GET', '/v1/results')).status).toBe(200);
      expect((await h.json(h.admin, 'POST', '/v1/admin/purge', { body: {} })).status).toBe(200);
      const checkpoint = (await h.store.getAuditCheckpoint()) as AuditCheckpoint;
      expect(checkpoint).toBeDefined();
      const r = await h.json(es, 'GET', '/v1/audit');
      expect(r.status).toBe(200);
      expect(r.body.entries[0]).toMatchObject({ seq: checkpoint.seq + 1, action: 'results.served', prevHash: bytesToHex(checkpoint.hash) });
      for (const e of r.body.entries) expect(checksOnItsOwn(e)).toBe(true);
      expect((await h.json(es, 'GET', `/v1/audit?after=${checkpoint.seq - 5}`)).body).toEqual(r.body);
    } finally {
      await h.close();
    }
  });

  it('refuses bad and unknown query parameters with 422 naming the field', async () => {
    const { h, es } = await world();
    try {
      for (const [query, field] of [
        ['after=-1', 'query.after'],
        ['after=abc', 'query.after'],
        ['after=1.5', 'query.after'],
        ['after=', 'query.after'],
        ['after=99999999999999999', 'query.after'],
        ['limit=0', 'query.limit'],
        ['limit=1001', 'query.limit'],
        ['limit=ten', 'query.limit'],
        ['limit=', 'query.limit'],
        ['since=2026-01-01', 'query.since'],
        ['after=1&after=2', 'query.after'],
      ] as const) {
        const r = await h.json(es, 'GET', `/v1/audit?${query}`);
        expect(r.status, query).toBe(422);
        expect(r.body, query).toMatchObject({ type: 'urn:concordat:problem:validation', status: 422, field });
        expect(r.body.detail, query).toContain(field);
      }
      expect((await h.json(es, 'GET', '/v1/audit?limit=1000&after=0')).status).toBe(200);
      expect((await h.json(es, 'GET', '/v1/audit?limit=1')).body.entries).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('answers only a signed agency request', async () => {
    const { h, es } = await world();
    try {
      const unsigned = await h.json(es, 'GET', '/v1/audit', { unsigned: true });
      expect(unsigned.status).toBe(401);
      expect(unsigned.body).toMatchObject({ type: 'urn:concordat:problem:signature', reason: 'missing' });
      const forged = await h.json(es, 'GET', '/v1/audit?after=0', { signedQuery: '?after=5' });
      expect(forged.status).toBe(401);
      expect((await h.json(h.admin, 'GET', '/v1/audit')).status).toBe(403);
      expect((await h.json(newSigner('XX-GHOST'), 'GET', '/v1/audit')).status).toBe(401);
    } finally {
      await h.close();
    }
  });
});
