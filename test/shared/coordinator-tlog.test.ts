// The audit transparency log over HTTP (src/API.md, "Audit transparency log";
// protocol/SPEC.md §9): what an agency can check with the signed heads and
// proofs the coordinator serves, and that a coordinator which edits, drops or
// rolls back entries afterwards can no longer satisfy a head the agency kept.
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocol/bytes.js';
import { appendHashes, auditLeafHash, storedHashCount, storedHashIndex, verifyConsistency, verifyInclusion, verifyTreeHead, type AuditLeafView, type TreeHead } from '../../protocol/tlog.js';
import { addAgreement, makeHarness, type Harness, type Signer } from '../coordinator-harness.js';

interface SignedHead {
  head: TreeHead;
  signature: string;
}

async function logKey(h: Harness, s: Signer): Promise<Uint8Array> {
  const me = await h.json(s, 'GET', '/v1/me');
  expect(me.status).toBe(200);
  return hexToBytes(me.body.auditLog.publicKey);
}

async function head(h: Harness, s: Signer): Promise<SignedHead> {
  const r = await h.json<SignedHead>(s, 'GET', '/v1/audit/head');
  expect(r.status).toBe(200);
  return r.body;
}

async function entries(h: Harness, s: Signer): Promise<AuditLeafView[]> {
  const r = await h.json<{ entries: AuditLeafView[] }>(s, 'GET', '/v1/audit?limit=1000');
  expect(r.status).toBe(200);
  return r.body.entries;
}

/** What the agency's check does: the entry's own leaf hash, the served path, the kept head. */
async function included(h: Harness, s: Signer, e: AuditLeafView, kept: SignedHead): Promise<boolean> {
  const r = await h.json<{ proof: string[]; index: number }>(s, 'GET', `/v1/audit/proof/inclusion?seq=${e.seq}&size=${kept.head.size}`);
  expect(r.status).toBe(200);
  return verifyInclusion(auditLeafHash(e), r.body.index, kept.head.size, r.body.proof.map((x) => hexToBytes(x)), hexToBytes(kept.head.root));
}

async function consistent(h: Harness, s: Signer, older: SignedHead, newer: SignedHead): Promise<boolean> {
  const r = await h.json<{ proof: string[] }>(s, 'GET', `/v1/audit/proof/consistency?from=${older.head.size}&to=${newer.head.size}`);
  if (r.status !== 200) return false;
  return verifyConsistency(older.head.size, newer.head.size, hexToBytes(older.head.root), hexToBytes(newer.head.root), r.body.proof.map((x) => hexToBytes(x)));
}

async function world(): Promise<{ h: Harness; es: Signer; pt: Signer; fr: Signer }> {
  const h = await makeHarness();
  const es = await h.addAgency('ES-CNP', 'ESP');
  const pt = await h.addAgency('PT-PJ', 'PRT');
  const fr = await h.addAgency('FR-OCRTEH', 'FRA');
  await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
  return { h, es, pt, fr };
}

describe('audit transparency log over HTTP', () => {
  it('publishes a head that verifies under the key in GET /v1/me and the admin view, and grows with the log', async () => {
    const { h, es } = await world();
    try {
      const key = await logKey(h, es);
      const first = await head(h, es);
      expect(first.head.size).toBe(await h.store.auditTreeSize());
      expect(verifyTreeHead(first.head, hexToBytes(first.signature), key)).toBe(true);
      // The same size is served as the same head.
      expect(await head(h, es)).toEqual(first);
      const admin = await h.json(h.admin, 'GET', '/v1/admin/audit/head');
      expect(admin.status).toBe(200);
      expect(admin.body.logKey.publicKey).toBe((await h.json(es, 'GET', '/v1/me')).body.auditLog.publicKey);
      await h.json(es, 'GET', '/v1/admin/agreements'); // refused, and audited
      const second = await head(h, es);
      expect(second.head.size).toBeGreaterThan(first.head.size);
      expect(verifyTreeHead(second.head, hexToBytes(second.signature), key)).toBe(true);
      expect(await consistent(h, es, first, second)).toBe(true);
      // A head under another key, or edited, does not verify.
      expect(verifyTreeHead({ ...second.head, size: second.head.size + 1 }, hexToBytes(second.signature), key)).toBe(false);
      expect(verifyTreeHead(second.head, hexToBytes(second.signature), hexToBytes((await h.json(h.admin, 'GET', '/v1/admin/audit/head')).body.logKey.publicKey))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('proves each entry the agency reads in the tree of its head, redacted ones too', async () => {
    const { h, es } = await world();
    try {
      // Entries another party acted in, with parts ES may not see: the officer, and a query's result.
      await h.store.appendAudit({ at: h.clock.now.toISOString(), actor: 'PT-PJ', action: 'hit.confirmed', subject: 'ES-CNP', outcome: 'ok', detail: { officer: 'pt-officer-7', handle: 'ab' } });
      await h.store.appendAudit({
        at: h.clock.now.toISOString(),
        actor: 'PT-PJ',
        action: 'query.outcome',
        subject: 'q-1',
        outcome: 'ok',
        detail: { requester: 'PT-PJ', partner: 'ES-CNP', officer: 'pt-officer-7', caseRef: 'OP-1', purpose: 'terrorism', kind: 'email', values: 2, epoch: 'e1', hits: 1, noHits: 1 },
      });
      const kept = await head(h, es);
      const mine = await entries(h, es);
      expect(mine.length).toBeGreaterThan(3);
      const redacted = mine.filter((e) => e.sealed !== undefined);
      expect(redacted.length).toBe(2);
      const outcome = redacted.find((e) => e.action === 'query.outcome') as AuditLeafView & { redacted: string[] };
      expect(outcome.detail).not.toHaveProperty('hits');
      expect(outcome.detail).not.toHaveProperty('officer');
      expect(Object.keys(outcome.sealed ?? {}).sort()).toEqual(['detail.hits', 'detail.noHits', 'detail.officer', 'outcome']);
      for (const e of mine) expect(await included(h, es, e, kept)).toBe(true);
      // A guessed value for a withheld part does not reproduce the leaf: the commitment hides it.
      const guess = { ...outcome, detail: { ...outcome.detail, hits: 1 }, sealed: { ...outcome.sealed } };
      delete guess.sealed['detail.hits'];
      expect(() => auditLeafHash(guess)).toThrow(/salt/);
    } finally {
      await h.close();
    }
  });

  it('proves only entries that involve the caller, in a tree it names, and names the failing field', async () => {
    const { h, es, fr } = await world();
    try {
      const size = await h.store.auditTreeSize();
      const mineSeqs = new Set((await entries(h, es)).map((e) => e.seq));
      const other = (await h.store.readAudit(0, 1000)).find((e) => !mineSeqs.has(e.seq));
      expect(other).toBeDefined();
      const refused = await h.json(es, 'GET', `/v1/audit/proof/inclusion?seq=${other?.seq}&size=${size}`);
      expect(refused.status).toBe(403);
      expect(refused.body.field).toBe('query.seq');
      expect((await h.json(fr, 'GET', `/v1/audit/proof/inclusion?seq=${[...mineSeqs][0]}&size=${size}`)).status).toBe(403);
      expect((await h.json(es, 'GET', `/v1/audit/proof/inclusion?seq=1&size=${size + 50}`)).body.field).toBe('query.size');
      expect((await h.json(es, 'GET', `/v1/audit/proof/inclusion?seq=${size}&size=1`)).body.field).toBe('query.seq');
      expect((await h.json(es, 'GET', '/v1/audit/proof/inclusion?seq=0&size=1')).body.field).toBe('query.seq');
      expect((await h.json(es, 'GET', '/v1/audit/proof/inclusion?seq=1&size=1&x=1')).body.field).toBe('query.x');
      expect((await h.json(es, 'GET', `/v1/audit/proof/consistency?from=3&to=2`)).body.field).toBe('query.from');
      expect((await h.json(es, 'GET', `/v1/audit/proof/consistency?from=1&to=${size + 50}`)).body.field).toBe('query.to');
      expect((await h.json(h.admin, 'GET', '/v1/audit/head')).status).toBe(403);
    } finally {
      await h.close();
    }
  });

  it('after an entry is edited in the database, the entry no longer proves against the head the agency kept', async () => {
    const { h, es } = await world();
    try {
      const kept = await head(h, es);
      const before = await entries(h, es);
      const target = before[1] as AuditLeafView;
      expect(await included(h, es, target, kept)).toBe(true);
      await h.controlRows(`UPDATE audit_log SET outcome = 'refused' WHERE seq = ? RETURNING seq`, target.seq);
      const after = (await entries(h, es)).find((e) => e.seq === target.seq) as AuditLeafView;
      expect(after.outcome).toBe('refused');
      expect(await included(h, es, after, kept)).toBe(false);
      // A coordinator that rewrites the stored leaf and every hash above it to match the edit
      // gets a tree the edited entry proves in, but no head of it is consistent with the kept one.
      const size = await h.store.auditTreeSize();
      const leaves = await h.store.readAuditTree(Array.from({ length: size }, (_, i) => ({ level: 0, index: i })));
      leaves[target.seq - 1] = auditLeafHash(after);
      const nodes = new Map<string, Uint8Array>();
      for (let i = 0; i < size; i++) {
        for (const n of appendHashes(i, leaves[i] as Uint8Array, (l, x) => nodes.get(`${l}/${x}`) as Uint8Array)) {
          nodes.set(`${n.level}/${n.index}`, n.hash);
          await h.controlRows(`UPDATE audit_tree SET hash = ? WHERE id = ? RETURNING id`, Buffer.from(n.hash), storedHashIndex(n.level, n.index));
        }
      }
      await h.controlRows(`DELETE FROM audit_heads RETURNING size`);
      await h.json(es, 'GET', '/v1/admin/agreements');
      const later = await head(h, es);
      expect(later.head.size).toBeGreaterThan(kept.head.size);
      expect(await included(h, es, after, later)).toBe(true);
      expect(await included(h, es, after, kept)).toBe(false);
      expect(await consistent(h, es, kept, later)).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('after the newest entries are deleted, the coordinator can show no head consistent with the one the agency kept', async () => {
    const { h, es } = await world();
    try {
      const kept = await head(h, es);
      const keep = kept.head.size - 2;
      // A rollback that leaves no trace in the tree either: entries, their hashes and heads.
      await h.controlRows(`DELETE FROM audit_log WHERE seq > ? RETURNING seq`, keep);
      await h.controlRows(`DELETE FROM audit_tree WHERE id >= ? RETURNING id`, storedHashCount(keep));
      await h.controlRows(`DELETE FROM audit_heads WHERE size > ? RETURNING size`, keep);
      const rolled = await head(h, es);
      expect(rolled.head.size).toBe(keep);
      expect(await consistent(h, es, kept, rolled)).toBe(false);
      // New entries bring the size past the kept head's, but over other leaves.
      for (let i = 0; i < 4; i++) await h.json(es, 'GET', '/v1/admin/agreements');
      const regrown = await head(h, es);
      expect(regrown.head.size).toBeGreaterThan(kept.head.size);
      expect(await consistent(h, es, kept, regrown)).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('after a retention purge, proofs over retained entries and consistency with a head from before it still verify', async () => {
    const { h, es } = await world();
    try {
      const key = await logKey(h, es);
      const old = await head(h, es);
      const { retention } = await h.store.getConfig();
      h.clock.now = new Date(h.clock.now.getTime() + (retention.auditDays + 2) * 86_400_000);
      for (let i = 0; i < 3; i++) await h.json(es, 'GET', '/v1/admin/agreements');
      const purge = await h.json(h.admin, 'POST', '/v1/admin/purge', { body: {} });
      expect(purge.status).toBe(200);
      expect(purge.body.purged.auditEntries).toBe(old.head.size);
      // The checkpoint head at the purge is kept.
      const checkpoint = (await h.store.readAudit(0, 1000)).find((e) => e.action === 'retention.purged');
      expect((await h.store.getAuditHead(checkpoint?.seq))?.size).toBe(checkpoint?.seq);
      const now = await head(h, es);
      expect(verifyTreeHead(now.head, hexToBytes(now.signature), key)).toBe(true);
      expect(await consistent(h, es, old, now)).toBe(true);
      const retained = await entries(h, es);
      expect(retained.length).toBe(3);
      for (const e of retained) expect(await included(h, es, e, now)).toBe(true);
      // A purged entry is no longer proved: its content is gone.
      expect((await h.json(es, 'GET', `/v1/audit/proof/inclusion?seq=1&size=${now.head.size}`)).status).toBe(404);
    } finally {
      await h.close();
    }
  });
});
