// What the responder of a targeted query may read of it (protocol/SPEC.md §6:
// "that A asked, when, the kind, purpose, case reference and how many values;
// not what, and not whether it hit"): its audit view and every query route it
// can call carry no hit or no-hit count, error or refused hit report; the
// requester's view has them. A hit reaches the holder only as a hit to confirm.
// Runs on every store.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocol/bytes.js';
import type { Engine } from '../../protocol/engine/index.js';
import { makeHarness, type Harness } from '../coordinator-harness.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { esOnly, PAIR, ptOnly, setupScene } from '../coordinator-scenario.js';
import type { Item, SimAgency } from '../coordinator-sim.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadTestEngine();
});

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Every key anywhere in a JSON value. */
function keysOf(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysOf(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysOf(x, out);
    }
  }
  return out;
}

const OUTCOME_KEYS = ['hits', 'noHits', 'error', 'reason', 'unlocated'];

async function auditOf(s: SimAgency): Promise<any[]> {
  const r = await h.json(s.signer, 'GET', '/v1/audit?limit=1000');
  expect(r.status).toBe(200);
  return r.body.entries;
}

describe("the responder's view of a targeted query", () => {
  it('shows the responder who asked, when and about what, never the hit and no-hit counts the requester sees', async () => {
    h = await makeHarness({ notifier: true });
    const { es, pt } = await setupScene(h, engine);
    // One value PT holds (a hit), one it does not (a no-hit).
    const q = es.blindQuery([ptOnly[3] as Item, esOnly[3] as Item]);
    const created = await h.json(es.signer, 'POST', '/v1/queries', {
      body: { partners: ['PT-PJ'], kind: 'email', purpose: 'terrorism', caseRef: 'OP-SUR-4', officer: 'es-officer-9', blinded: q.blinded.map(bytesToHex) },
    });
    expect(created.status).toBe(201);
    const id = created.body.queryId as string;
    const inbox = (await h.json(pt.signer, 'GET', '/v1/queries/inbox')).body.queries;
    expect(inbox).toHaveLength(1);
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: inbox[0].epoch, ...pt.answer(inbox[0].blinded) } })).status).toBe(200);
    const leg = (await h.json(es.signer, 'GET', `/v1/queries/${id}`)).body.legs[0];
    const concluded = es.conclude(PAIR, q, leg);
    expect(concluded.hits).toHaveLength(1);
    expect(concluded.noHits).toBe(1);
    // A hit report whose evidence does not verify is refused (audited `query.hit_refused`), then the true one is recorded.
    const hit = concluded.hits[0] as (typeof concluded.hits)[number];
    const forged = { ...hit, proof: `${hit.proof.slice(0, -2)}${hit.proof.endsWith('00') ? '01' : '00'}` };
    const refused = await h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, { body: { legs: [{ partner: 'PT-PJ', hits: [forged], noHits: 1 }] } });
    expect(refused.status).toBe(422);
    const out = await h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, { body: { legs: [{ partner: 'PT-PJ', ...concluded }] } });
    expect(out.status).toBe(200);

    // The requester's own view has the result.
    const mine = (await auditOf(es)).filter((e) => e.subject === id);
    expect(mine.find((e) => e.action === 'query.outcome')).toMatchObject({ actor: 'ES-CNP', outcome: 'ok', detail: { hits: 1, noHits: 1, officer: 'es-officer-9' } });
    expect(mine.find((e) => e.action === 'query.hit_refused')).toMatchObject({ actor: 'ES-CNP', outcome: 'refused', detail: { reason: expect.any(String) } });
    expect(mine.some((e) => e.redacted)).toBe(false);

    // The responder's: who asked, when, kind, purpose, case reference and number of values, and nothing of the result.
    const theirs = (await auditOf(pt)).filter((e) => e.subject === id);
    expect(theirs.find((e) => e.action === 'query.created')).toMatchObject({
      actor: 'ES-CNP',
      at: expect.any(String),
      detail: { requester: 'ES-CNP', kind: 'email', purpose: 'terrorism', caseRef: 'OP-SUR-4', values: 2 },
      redacted: ['detail.officer'],
    });
    const outcome = theirs.find((e) => e.action === 'query.outcome');
    expect(outcome).toMatchObject({
      actor: 'ES-CNP',
      outcome: 'withheld',
      detail: { requester: 'ES-CNP', partner: 'PT-PJ', caseRef: 'OP-SUR-4', kind: 'email', values: 2 },
    });
    expect(outcome.redacted).toEqual(expect.arrayContaining(['outcome', 'detail.officer', 'detail.hits', 'detail.noHits']));
    // A refused hit report tells of a hit by existing: the responder does not see it.
    expect(theirs.some((e) => e.action === 'query.hit_refused')).toBe(false);
    for (const e of theirs.filter((x) => x.actor !== 'PT-PJ')) {
      for (const k of OUTCOME_KEYS) expect(keysOf(e.detail).has(k), `${e.action}: ${k}`).toBe(false);
    }
    // The full entries stay in the chain for the authority.
    const stored = (await h.store.readAudit(0, 100_000)).filter((e) => e.subject === id);
    expect(stored.find((e) => e.action === 'query.outcome')?.detail).toMatchObject({ hits: 1, noHits: 1 });
    expect(stored.some((e) => e.action === 'query.hit_refused')).toBe(true);

    // The query routes the responder can call carry no result either.
    const read = await h.json(pt.signer, 'GET', `/v1/queries/${id}`);
    expect(read.status).toBe(403);
    expect(keysOf(read.body).has('hits') || keysOf(read.body).has('noHits')).toBe(false);
    const after = await h.json(pt.signer, 'GET', '/v1/queries/inbox');
    expect(after.body.queries).toEqual([]);
    const requester = (await h.json(es.signer, 'GET', `/v1/queries/${id}`)).body;
    expect(requester.legs[0]).toMatchObject({ partner: 'PT-PJ', status: 'answered', proofValid: true });

    // The hit itself reaches the holder to confirm, by design: the one hit, not a count of the others.
    const held = (await h.json(pt.signer, 'GET', '/v1/hits')).body.hits.filter((x: any) => x.queryId === id);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ source: 'query', partner: 'ES-CNP', caseRef: 'OP-SUR-4' });
    expect(keysOf(held[0]).has('noHits')).toBe(false);
  });
});
