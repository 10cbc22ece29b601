// Targeted hit/no-hit queries end to end with real crypto: both sides' sets
// and tokens come from the nightly flow, the requester blinds with
// blindQuery, the responder answers with evaluateWithProof, the requester
// finishes with finishQuery and reports each hit with its evidence
// (protocol/SPEC.md §8.11), which the coordinator checks before recording it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { queryValuesDigest, verifyQuery } from '../../protocol/signed-query.js';
import type { Engine } from '../../protocol/engine/index.js';
import { CONCORDAT_SUITE, hitEvidenceSuite } from '../../protocol/constants.js';
import { generateProof } from '../../protocol/dleq.js';
import { ProofError } from '../../protocol/errors.js';
import { decodeScalar, encodePoint, encodeScalar, Point, randomScalar } from '../../protocol/group.js';
import { randomBytes } from '../../protocol/rng.js';
import type { BlindedQuery } from '../../protocol/query.js';
import { addAgreement, epochKeyPair, epochKeySignature, makeHarness, publishKey, type Harness, type HarnessOptions, type Signer } from '../coordinator-harness.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { emails, evidenceHex, item, keyOf, SimAgency, type Item } from '../coordinator-sim.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadTestEngine();
});

const PAIR = 'es-pt~ES-CNP~PT-PJ';
const shared = emails('shared.suspect', 5, 'example.org');
const ptOnly = emails('pt.only', 40, 'pj.example');
const esOnly = emails('es.only', 40, 'policia.example');
const nobody = (i: number) => item('email', `nobody.${i}@nowhere.example`);

let h: Harness;
let es: SimAgency;
let pt: SimAgency;
let fr: Signer;

afterEach(async () => {
  await h?.close();
});

/** ES and PT after a complete nightly run of a reveal agreement (plus FR registered, without agreement). */
async function setup(agreement: Record<string, unknown> = {}, opts: HarnessOptions = { notifier: true }): Promise<void> {
  h = await makeHarness(opts);
  es = new SimAgency(h, engine, await h.addAgency('ES-CNP', 'ESP'), [...esOnly, ...shared]);
  pt = new SimAgency(h, engine, await h.addAgency('PT-PJ', 'PRT'), [...ptOnly, ...shared]);
  fr = await h.addAgency('FR-OCRTEH', 'FRA');
  await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], ...agreement });
  await es.publish();
  await pt.publish();
  await es.upload(PAIR, pt.kp.pk, es.items, 6, 32);
  await pt.upload(PAIR, es.kp.pk, pt.items, 6, 32);
  await es.work();
  await pt.work();
}

interface Asked {
  status: number;
  body: any;
  q: BlindedQuery;
  headers: Headers;
}

async function ask(from: SimAgency, values: Item[], extra: Record<string, unknown> = {}): Promise<Asked> {
  const q = from.blindQuery(values);
  const res = await h.send(from.signer, 'POST', '/v1/queries', {
    body: { partners: ['PT-PJ'], kind: 'email', purpose: 'terrorism', caseRef: 'CASE-2026-0042', officer: 'officer-17', blinded: q.blinded.map(bytesToHex), ...extra },
  });
  return { status: res.status, body: await res.json(), q, headers: res.headers };
}

async function inbox(who: Signer, wait = 0): Promise<any[]> {
  const r = await h.json(who, 'GET', `/v1/queries/inbox?wait=${wait}`);
  expect(r.status).toBe(200);
  return r.body.queries;
}

/** The responder answers every pending query in its inbox. */
async function respond(responder: SimAgency, sk?: Uint8Array): Promise<number> {
  const list = await inbox(responder.signer);
  for (const entry of list) {
    const r = await h.json(responder.signer, 'POST', `/v1/queries/${entry.queryId}/answer`, { body: { epoch: entry.epoch, ...responder.answer(entry.blinded, sk) } });
    expect(r.status).toBe(200);
  }
  return list.length;
}

async function state(who: Signer, id: string, wait = 0): Promise<any> {
  const r = await h.json(who, 'GET', `/v1/queries/${id}${wait > 0 ? `?wait=${wait}` : ''}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Full round: ask, answer, finish, report; returns the reported hits and the handles. */
async function round(values: Item[]) {
  const a = await ask(es, values);
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  expect(await respond(pt)).toBe(1);
  const st = await state(es.signer, a.body.queryId);
  const leg = st.legs[0];
  expect(leg).toMatchObject({ partner: 'PT-PJ', status: 'answered', epoch: 'e1', partnerEpochKey: { publicKey: bytesToHex(pt.kp.pk), signature: epochKeySignature(pt.signer, PAIR, { id: 'es-pt', version: 1 }, pt.kp.pk) }, proofValid: true });
  const concluded = es.conclude(PAIR, a.q, leg);
  const hitsBefore = await h.store.hitsRevision();
  const out = await h.json(es.signer, 'POST', `/v1/queries/${a.body.queryId}/outcome`, { body: { legs: [{ partner: 'PT-PJ', ...concluded }] } });
  expect(out.status, JSON.stringify(out.body)).toBe(200);
  // An outcome with hits renews the hits revision: GET /v1/hits answers 304 to no tag from before it.
  if (concluded.hits.length > 0) expect(await h.store.hitsRevision()).not.toBe(hitsBefore);
  return { id: a.body.queryId as string, concluded, handles: out.body.legs[0].hits as { index: number; handle: string }[], blinded: a.q.blinded, leg };
}

function nightlyHandles(r: any): Map<string, string> {
  return new Map([...es.matchedItems(r.pairs[0]).entries()].map(([k, v]) => [k, v.handle]));
}

describe('targeted queries against planted data', () => {
  it('answers hit, no-hit and mixed batches; hits carry nightly handles where the record matched nightly', async () => {
    await setup();
    const nightly = nightlyHandles(await es.results());
    expect(nightly.size).toBe(shared.length);

    const mixed = await round([shared[0] as Item, nobody(1), ptOnly[3] as Item]);
    expect(mixed.concluded.hits.map((x) => x.index)).toEqual([0, 2]);
    expect(mixed.concluded.noHits).toBe(1);
    expect(mixed.handles.map((x) => x.index)).toEqual([0, 2]);
    // The same construction as nightly matches: a record that matched nightly gets its nightly handle.
    expect(mixed.handles[0]?.handle).toBe(nightly.get(keyOf(shared[0] as Item)));
    expect(mixed.handles[1]?.handle).toMatch(/^[0-9a-f]{32}$/);
    expect([...nightly.values()]).not.toContain(mixed.handles[1]?.handle);

    const allHit = await round([ptOnly[5] as Item, shared[1] as Item]);
    expect(allHit.concluded).toMatchObject({ noHits: 0 });
    expect(allHit.handles.map((x) => x.index)).toEqual([0, 1]);
    expect(allHit.handles[1]?.handle).toBe(nightly.get(keyOf(shared[1] as Item)));

    // Values only the requester holds are no hit either: the partner's side is what is asked.
    const none = await round([nobody(2), nobody(3), esOnly[0] as Item]);
    expect(none.concluded).toEqual({ hits: [], noHits: 3 });
    expect(none.handles).toEqual([]);

    // The holder maps its own position back to the record; the requester sees handle and status only.
    const ptHits = (await h.json(pt.signer, 'GET', '/v1/hits')).body.hits.filter((x: any) => x.source === 'query');
    expect(ptHits).toHaveLength(4);
    const held = ptHits.find((x: any) => x.handle === mixed.handles[1]?.handle);
    expect(held).toMatchObject({ pair: PAIR, partner: 'ES-CNP', epoch: 'e1', status: 'unverified', myStatus: 'unverified', partnerStatus: null, queryId: mixed.id, caseRef: 'CASE-2026-0042', purpose: 'terrorism' });
    expect(pt.slots[held.position]).toEqual({ type: 'item', item: ptOnly[3] });
    const esHits = (await h.json(es.signer, 'GET', '/v1/hits')).body.hits;
    const asked = esHits.filter((x: any) => x.source === 'query');
    expect(asked).toHaveLength(4);
    for (const x of asked) {
      expect(x.position).toBeUndefined();
      expect(x).toMatchObject({ partner: 'PT-PJ', myStatus: null, partnerStatus: 'unverified', status: 'unverified' });
    }
    const nightlyView = esHits.filter((x: any) => x.source === 'nightly');
    expect(nightlyView).toHaveLength(shared.length);
    for (const x of nightlyView) expect(es.slots[x.position]).toMatchObject({ type: 'item' });

    // Audited on both sides, with the governance fields, never a value, element or token.
    const audit = await h.store.readAudit(0, 100_000);
    const created = audit.filter((e) => e.action === 'query.created');
    expect(created).toHaveLength(3);
    expect(created[0]).toMatchObject({
      actor: 'ES-CNP',
      subject: mixed.id,
      detail: { requester: 'ES-CNP', officer: 'officer-17', caseRef: 'CASE-2026-0042', purpose: 'terrorism', kind: 'email', values: 3, partners: ['PT-PJ'], agreements: [{ id: 'es-pt', version: 1 }] },
    });
    expect(audit.filter((e) => e.action === 'query.answered').map((e) => e.actor)).toEqual(['PT-PJ', 'PT-PJ', 'PT-PJ']);
    const outcomes = audit.filter((e) => e.action === 'query.outcome');
    expect(outcomes.map((e) => e.detail.hits)).toEqual([2, 2, 0]);
    expect(outcomes[0]).toMatchObject({ actor: 'ES-CNP', detail: { partner: 'PT-PJ', officer: 'officer-17', caseRef: 'CASE-2026-0042', noHits: 1, values: 3 } });
    const text = JSON.stringify(audit.map(({ hash, ...e }) => e)).toLowerCase();
    for (const r of [mixed, allHit, none]) {
      for (const b of r.blinded) expect(text).not.toContain(bytesToHex(b));
      for (const e of r.leg.evaluated) expect(text).not.toContain(e);
      for (const t of r.concluded.hits) {
        expect(text).not.toContain(t.element);
        expect(text).not.toContain(t.proof);
      }
    }
    for (const it of [...shared, ...ptOnly, ...esOnly]) expect(text).not.toContain(it.canonical.toLowerCase());
  });

  it('relays an answer under the wrong key with proofValid false, audits it, and the requester refuses it', async () => {
    await setup();
    const a = await ask(es, [shared[0] as Item, nobody(1)]);
    expect(a.status).toBe(201);
    expect(await respond(pt, epochKeyPair().sk)).toBe(1);
    const st = await state(es.signer, a.body.queryId);
    expect(st.legs[0]).toMatchObject({ status: 'answered', proofValid: false });
    expect(() => es.conclude(PAIR, a.q, st.legs[0])).toThrow(ProofError);
    const out = await h.json(es.signer, 'POST', `/v1/queries/${a.body.queryId}/outcome`, {
      body: { legs: [{ partner: 'PT-PJ', hits: [], noHits: 0, error: 'bad-proof' }] },
    });
    expect(out).toEqual({ status: 200, body: { legs: [{ partner: 'PT-PJ', hits: [] }] } });
    const audit = await h.store.readAudit(0, 100_000);
    expect(audit.filter((e) => e.action === 'query.answered')).toHaveLength(0);
    const bad = audit.filter((e) => e.action === 'query.bad_proof');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ actor: 'PT-PJ', subject: a.body.queryId, outcome: 'bad-proof', detail: { requester: 'ES-CNP', proofValid: false } });
    expect(audit.find((e) => e.action === 'query.outcome')).toMatchObject({ outcome: 'bad-proof', detail: { error: 'bad-proof', hits: 0 } });
  });

  it('answers only to the addressed partner, once, and shows the answer only to the requester', async () => {
    await setup();
    await publishKey(h, fr, epochKeyPair());
    const a = await ask(es, [shared[0] as Item]);
    const id = a.body.queryId;
    expect(await inbox(fr)).toEqual([]);
    const entry = (await inbox(pt.signer))[0];
    expect(entry).toEqual({
      queryId: id,
      from: 'ES-CNP',
      pair: PAIR,
      agreement: { id: 'es-pt', version: 1 },
      kind: 'email',
      purpose: 'terrorism',
      caseRef: 'CASE-2026-0042',
      epoch: 'e1',
      blinded: a.q.blinded.map(bytesToHex),
      createdAt: h.clock.now.toISOString(),
      signature: expect.stringMatching(/^[0-9a-f]{128}$/),
    });
    // The entry rebuilds the requester's signed statement exactly (protocol/SPEC.md §8.9).
    const statement = {
      id,
      requester: 'ES-CNP',
      responder: 'PT-PJ',
      pair: PAIR,
      agreement: entry.agreement,
      epoch: entry.epoch,
      kind: entry.kind,
      purpose: entry.purpose,
      caseRef: entry.caseRef,
      count: entry.blinded.length,
      valuesSha256: queryValuesDigest(entry.blinded.map((b: string) => hexToBytes(b))),
      createdAt: entry.createdAt,
    };
    expect(verifyQuery(statement, es.signer.publicKey, hexToBytes(entry.signature))).toBe(true);
    expect(JSON.stringify(entry)).not.toContain('officer');
    const answer = pt.answer(entry.blinded);
    const intruder = await h.json(fr, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...answer } });
    expect(intruder.status).toBe(403);
    expect(intruder.body.type).toBe('urn:concordat:problem:forbidden');
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...answer, evaluated: [] } })).status).toBe(422);
    const wrongCount = await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...answer, evaluated: [...answer.evaluated, ...answer.evaluated] } });
    expect(wrongCount).toMatchObject({ status: 422, body: { field: 'body.evaluated' } });
    const stale = await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e0', ...answer } });
    expect(stale).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:stale-epoch' } });
    expect(await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...answer } })).toEqual({ status: 200, body: { queryId: id, status: 'answered', proofValid: true } });
    // A retry of the same answer is not a second answer; another answer is.
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...answer } })).status).toBe(200);
    const second = await h.json(pt.signer, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...pt.answer(entry.blinded) } });
    expect(second).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:conflict' } });
    expect(await inbox(pt.signer)).toEqual([]);
    for (const who of [pt.signer, fr]) {
      expect((await h.json(who, 'GET', `/v1/queries/${id}`)).status).toBe(403);
      expect((await h.json(who, 'POST', `/v1/queries/${id}/outcome`, { body: { legs: [{ partner: 'PT-PJ', hits: [], noHits: 1 }] } })).status).toBe(403);
    }
    expect((await h.json(es.signer, 'GET', `/v1/queries/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await h.json(es.signer, 'GET', `/v1/queries/${id}?wait=31`)).body.field).toBe('query.wait');
    expect((await h.json(es.signer, 'GET', `/v1/queries/${id}?other=1`)).body.field).toBe('query.other');
    const refused = (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'query.refused' || e.action === 'query.answer_refused');
    // An empty `evaluated` fails the schema: refused as a malformed request (request.refused) before the query is read.
    expect(refused.map((e) => [e.actor, e.outcome])).toEqual([
      ['FR-OCRTEH', 'forbidden'],
      ['PT-PJ', 'validation'],
      ['PT-PJ', 'stale-epoch'],
      ['PT-PJ', 'conflict'],
      ['PT-PJ', 'forbidden'],
      ['PT-PJ', 'forbidden'],
      ['FR-OCRTEH', 'forbidden'],
      ['FR-OCRTEH', 'forbidden'],
      ['ES-CNP', 'not-found'],
    ]);
  });

  it('checks outcome reports: legs answered, values accounted for, reported once', async () => {
    await setup();
    const a = await ask(es, [shared[0] as Item, nobody(1)]);
    const id = a.body.queryId;
    const early = await h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, { body: { legs: [{ partner: 'PT-PJ', hits: [], noHits: 2 }] } });
    expect(early).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:conflict' } });
    await respond(pt);
    const concluded = es.conclude(PAIR, a.q, (await state(es.signer, id)).legs[0]);
    const post = (legs: unknown[]) => h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, { body: { legs } });
    expect((await post([{ partner: 'PT-PJ', hits: concluded.hits, noHits: 0 }])).body.field).toBe('body.legs[0].noHits');
    expect((await post([{ partner: 'FR-OCRTEH', ...concluded }])).body.field).toBe('body.legs[0].partner');
    expect((await post([{ partner: 'PT-PJ', hits: [{ index: 2, element: 'ab'.repeat(32), blindPublic: 'ab'.repeat(32), proof: 'ab'.repeat(64) }], noHits: 1 }])).body.field).toBe('body.legs[0].hits[0].index');
    expect((await post([{ partner: 'PT-PJ', ...concluded, error: 'unanswered' }])).body.field).toBe('body.legs[0].hits');
    const ok = await post([{ partner: 'PT-PJ', ...concluded }]);
    expect(ok.status).toBe(200);
    expect(await post([{ partner: 'PT-PJ', ...concluded }])).toEqual(ok);
    expect((await post([{ partner: 'PT-PJ', hits: [], noHits: 2 }])).status).toBe(409);
    expect((await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'query.outcome')).toHaveLength(1);
  });
});

describe('quotas and refusals', () => {
  it('counts queries per agency, agreement and UTC day: 429 with Retry-After and resetsAt, reset at midnight', async () => {
    await setup({ queryQuota: { perDay: 2, maxValues: 3 } });
    const me = async () => (await h.json(es.signer, 'GET', '/v1/me')).body.pairs[0];
    expect(await me()).toMatchObject({ purposes: expect.arrayContaining(['terrorism']), queryQuota: { perDay: 2, maxValues: 3 }, queriesLeftToday: 2 });
    expect((await ask(es, [nobody(1), nobody(2), nobody(3)])).status).toBe(201);
    const tooMany = await ask(es, [nobody(1), nobody(2), nobody(3), nobody(4)]);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toMatchObject({ type: 'urn:concordat:problem:validation', field: 'body.blinded' });
    expect((await ask(es, [nobody(5)])).status).toBe(201);
    expect((await me()).queriesLeftToday).toBe(0);
    // The partner's own quota is separate.
    expect((await h.json(pt.signer, 'GET', '/v1/me')).body.pairs[0].queriesLeftToday).toBe(2);

    const refused = await ask(es, [nobody(6)]);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ type: 'urn:concordat:problem:quota', status: 429, resetsAt: '2026-03-11T00:00:00.000Z' });
    // T0 is 12:00 UTC: twelve hours to the next UTC midnight.
    expect(refused.headers.get('retry-after')).toBe(String(12 * 3600));
    expect(await inbox(pt.signer)).toHaveLength(2);
    const audit = await h.store.readAudit(0, 100_000);
    expect(audit.filter((e) => e.action === 'query.refused').map((e) => e.outcome)).toEqual(['validation', 'quota']);
    expect(audit.filter((e) => e.action === 'query.refused').at(-1)).toMatchObject({
      actor: 'ES-CNP',
      detail: { requester: 'ES-CNP', officer: 'officer-17', caseRef: 'CASE-2026-0042', purpose: 'terrorism', kind: 'email', values: 1, partner: 'PT-PJ', status: 429 },
    });

    h.clock.now = new Date('2026-03-10T23:59:59Z');
    expect((await ask(es, [nobody(7)])).headers.get('retry-after')).toBe('1');
    h.clock.now = new Date('2026-03-11T00:00:00Z');
    expect((await me()).queriesLeftToday).toBe(2);
    expect((await ask(es, [nobody(7)])).status).toBe(201);
    expect((await me()).queriesLeftToday).toBe(1);
  });

  it('refuses purposes, kinds, count-mode, expired or missing agreements and bad elements, creating nothing and auditing why', async () => {
    await setup({ purposes: ['terrorism', 'cybercrime'] });
    await addAgreement(h, { id: 'es-fr-count', parties: ['ES-CNP', 'FR-OCRTEH'], mode: 'count' });
    await h.addAgency('DE-BKA', 'DEU');
    await addAgreement(h, { id: 'es-de', parties: ['ES-CNP', 'DE-BKA'], validUntil: '2026-03-31' });
    const cases: [Record<string, unknown>, number, string, string?][] = [
      [{ purpose: 'money_laundering' }, 403, 'purpose'],
      [{ purpose: 'espionage' }, 403, 'purpose', 'body.purpose'],
      [{ kind: 'phone' }, 403, 'kind'],
      [{ partners: ['FR-OCRTEH'] }, 403, 'count-mode'],
      [{ partners: ['NL-KLPD'] }, 403, 'no-agreement'],
      [{ partners: ['PT-PJ', 'FR-OCRTEH'] }, 403, 'count-mode'],
      [{ partners: ['ES-CNP'] }, 422, 'validation', 'body.legs[0].partner'],
      [{ partners: ['PT-PJ', 'PT-PJ'] }, 422, 'validation', 'body.legs[1].partner'],
      [{ blinded: [bytesToHex(pt.kp.pk), 'ff'.repeat(32)] }, 422, 'validation', 'body.blinded[1]'],
      [{ blinded: [bytesToHex(pt.kp.pk), '00'.repeat(32)] }, 422, 'validation', 'body.blinded[1]'],
      [{ caseRef: '' }, 422, 'validation', 'body.caseRef'],
      [{ officer: 'x'.repeat(65) }, 422, 'validation', 'body.officer'],
    ];
    for (const [extra, status, slug, field] of cases) {
      const r = await ask(es, [nobody(1)], extra);
      expect(r.status, JSON.stringify(extra)).toBe(status);
      expect(r.body.type, JSON.stringify(extra)).toBe(`urn:concordat:problem:${slug}`);
      if (field) expect(r.body.field).toBe(field);
    }
    expect((await ask(es, [nobody(1)], { partners: ['DE-BKA'] })).status).toBe(201);
    h.clock.now = new Date('2026-04-01T08:00:00Z');
    const expired = await ask(es, [nobody(1)], { partners: ['DE-BKA'] });
    expect(expired.body.type).toBe('urn:concordat:problem:no-agreement');

    expect(await inbox(pt.signer)).toEqual([]);
    expect((await h.json(es.signer, 'GET', '/v1/me')).body.pairs.find((p: any) => p.pair === PAIR).queriesLeftToday).toBe(50);
    expect((await h.json(es.signer, 'GET', '/v1/me')).body.pairs.find((p: any) => p.pair === 'es-fr-count~ES-CNP~FR-OCRTEH').queriesLeftToday).toBe(0);
    const refusals = (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'query.refused');
    // Schema failures are refused before the query is understood (request.refused); the rest name the query.
    expect(refusals.map((e) => e.outcome)).toEqual([
      'purpose',
      'purpose',
      'kind',
      'count-mode',
      'no-agreement',
      'count-mode',
      'validation',
      'validation',
      'validation',
      'validation',
      'no-agreement',
    ]);
    for (const e of refusals) {
      expect(e.actor).toBe('ES-CNP');
      expect(e.detail).toMatchObject({ requester: 'ES-CNP', officer: 'officer-17', caseRef: 'CASE-2026-0042', kind: expect.any(String), purpose: expect.any(String) });
      expect(e.detail.values).toBeGreaterThan(0);
      expect(typeof e.detail.reason).toBe('string');
    }
    expect(refusals[3]?.detail).toMatchObject({ partner: 'FR-OCRTEH' });
  });
});

describe('responders online and offline', () => {
  it('keeps a query pending for an offline responder, which answers later; pending legs expire after 7 days', async () => {
    await setup();
    const a = await ask(es, [ptOnly[1] as Item]);
    const id = a.body.queryId;
    expect((await state(es.signer, id)).legs).toEqual([{ partner: 'PT-PJ', status: 'pending', pair: PAIR, agreement: { id: 'es-pt', version: 1 } }]);
    h.clock.now = new Date(h.clock.now.getTime() + 3 * 3_600_000);
    expect(await respond(pt)).toBe(1);
    const leg = (await state(es.signer, id)).legs[0];
    expect(leg.status).toBe('answered');
    expect(es.conclude(PAIR, a.q, leg).hits).toHaveLength(1);

    const late = await ask(es, [nobody(1)]);
    h.clock.now = new Date(h.clock.now.getTime() + 7 * 86_400_000);
    expect((await state(es.signer, late.body.queryId)).legs).toEqual([{ partner: 'PT-PJ', status: 'expired', pair: PAIR, agreement: { id: 'es-pt', version: 1 } }]);
    expect(await inbox(pt.signer)).toEqual([]);
    const entry = { blinded: late.q.blinded.map(bytesToHex) };
    const tooLate = await h.json(pt.signer, 'POST', `/v1/queries/${late.body.queryId}/answer`, { body: { epoch: 'e1', ...pt.answer(entry.blinded) } });
    expect(tooLate.status).toBe(409);
    const out = await h.json(es.signer, 'POST', `/v1/queries/${late.body.queryId}/outcome`, { body: { legs: [{ partner: 'PT-PJ', hits: [], noHits: 0, error: 'unanswered' }] } });
    expect(out.status).toBe(200);
  });

  it('wakes the inbox when a query arrives and the requester when the answer arrives', { timeout: 20_000 }, async () => {
    await setup();
    let woke = false;
    const waiting = h.json(pt.signer, 'GET', '/v1/queries/inbox?wait=30').then((r) => {
      woke = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    const a = await ask(es, [shared[2] as Item]);
    const got = await waiting;
    expect(got.body.queries.map((q: any) => q.queryId)).toEqual([a.body.queryId]);

    let answered = false;
    const requester = h.json(es.signer, 'GET', `/v1/queries/${a.body.queryId}?wait=30`).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    await respond(pt);
    const st = (await requester).body;
    expect(st.legs[0].status).toBe('answered');
    expect(es.conclude(PAIR, a.q, st.legs[0]).hits).toHaveLength(1);
  });

  it('without a notifier, long polls fall back to re-reading the store', { timeout: 20_000 }, async () => {
    await setup({}, {});
    const waiting = h.json(pt.signer, 'GET', '/v1/queries/inbox?wait=10');
    await new Promise((r) => setTimeout(r, 20));
    const a = await ask(es, [nobody(1)]);
    expect((await waiting).body.queries.map((q: any) => q.queryId)).toEqual([a.body.queryId]);
    const requester = h.json(es.signer, 'GET', `/v1/queries/${a.body.queryId}?wait=10`);
    await new Promise((r) => setTimeout(r, 20));
    await respond(pt);
    expect((await requester).body.legs[0].status).toBe('answered');
    // A poll with nothing to wait for answers at once.
    expect(await inbox(pt.signer, 0)).toEqual([]);
  });

  it('asks several partners in one query; each leg is answered on its own', { timeout: 20_000 }, async () => {
    await setup();
    await addAgreement(h, { id: 'es-fr', parties: ['ES-CNP', 'FR-OCRTEH'] });
    const frKey = epochKeyPair();
    await publishKey(h, fr, frKey);
    const a = await ask(es, [shared[0] as Item, nobody(4)], { partners: ['PT-PJ', 'FR-OCRTEH'] });
    expect(a.status).toBe(201);
    expect(a.body.legs).toEqual([
      { partner: 'PT-PJ', status: 'pending' },
      { partner: 'FR-OCRTEH', status: 'pending' },
    ]);
    const id = a.body.queryId;
    const first = h.json(es.signer, 'GET', `/v1/queries/${id}?wait=30`);
    await new Promise((r) => setTimeout(r, 20));
    await respond(pt);
    const st = (await first).body;
    expect(st.legs.map((l: any) => [l.partner, l.status])).toEqual([
      ['FR-OCRTEH', 'pending'],
      ['PT-PJ', 'answered'],
    ]);
    const frEntry = (await inbox(fr))[0];
    const frAnswer = new SimAgency(h, engine, fr, []);
    frAnswer.kp = frKey;
    expect((await h.json(fr, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', ...frAnswer.answer(frEntry.blinded) } })).status).toBe(200);
    const both = await state(es.signer, id, 1);
    expect(both.legs.every((l: any) => l.status === 'answered' && l.proofValid === true)).toBe(true);
    // A hit on a partner side the coordinator does not hold (FR uploaded nothing) has no evidence that can hold:
    // the whole report is refused, and the honest one is recorded.
    const ptLeg = both.legs.find((l: any) => l.partner === 'PT-PJ');
    const frLeg = both.legs.find((l: any) => l.partner === 'FR-OCRTEH');
    const ptOutcome = { partner: 'PT-PJ', ...es.conclude(PAIR, a.q, ptLeg) };
    const refused = await h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, {
      body: { legs: [ptOutcome, { partner: 'FR-OCRTEH', hits: [evidenceHex(a.q, frLeg.evaluated, 1)], noHits: 1 }] },
    });
    expect(refused).toMatchObject({ status: 422, body: { field: 'body.legs[1].hits[0].element' } });
    const out = await h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, { body: { legs: [ptOutcome, { partner: 'FR-OCRTEH', hits: [], noHits: 2 }] } });
    expect(out.status).toBe(200);
    expect(out.body.legs.map((l: any) => l.hits.length)).toEqual([1, 0]);
    expect((await h.json(fr, 'GET', '/v1/hits')).body.hits).toEqual([]);
    expect((await h.store.readAudit(0, 100_000)).find((e) => e.action === 'query.outcome' && e.detail.partner === 'FR-OCRTEH')?.detail).toMatchObject({ hits: 0, noHits: 2 });
  });
});

describe('hits', () => {
  it('are confirmed or declined by their holders only; the requester sees the status', async () => {
    await setup();
    const r = await round([shared[0] as Item, ptOnly[7] as Item]);
    const [onBoth, onlyQuery] = r.handles.map((x) => x.handle) as [string, string];
    const decide = (who: Signer, handle: string, d: 'confirm' | 'decline', body: object = { officer: 'officer-9' }) =>
      h.json(who, 'POST', `/v1/hits/${handle}/${d}`, { body });

    // Only the partner that was asked holds a query hit.
    const byRequester = await decide(es.signer, onlyQuery, 'confirm');
    expect(byRequester).toMatchObject({ status: 403, body: { type: 'urn:concordat:problem:forbidden' } });
    expect((await decide(fr, onlyQuery, 'confirm')).status).toBe(404);
    expect((await decide(pt.signer, 'f'.repeat(32), 'confirm')).status).toBe(404);
    expect((await decide(pt.signer, onlyQuery, 'confirm', { officer: '' })).status).toBe(422);
    expect((await decide(pt.signer, onlyQuery, 'confirm', { officer: 'x', note: 'n'.repeat(501) })).status).toBe(422);

    h.clock.now = new Date(h.clock.now.getTime() + 60_000);
    const confirmed = await decide(pt.signer, onlyQuery, 'confirm', { officer: 'pt-officer-3', note: 'matches our file' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ handle: onlyQuery, source: 'query', status: 'confirmed', myStatus: 'confirmed', partnerStatus: null, confirmedAt: h.clock.now.toISOString() });
    expect((await decide(pt.signer, onlyQuery, 'confirm', { officer: 'pt-officer-4' })).status).toBe(200);
    expect((await decide(pt.signer, onlyQuery, 'decline')).status).toBe(409);
    const seen = (await h.json(es.signer, 'GET', '/v1/hits')).body.hits.find((x: any) => x.handle === onlyQuery);
    expect(seen).toMatchObject({ status: 'confirmed', myStatus: null, partnerStatus: 'confirmed', caseRef: 'CASE-2026-0042' });

    // A nightly match is held by both: confirmed only when both confirm, declined if either declines.
    expect((await decide(es.signer, onBoth, 'confirm')).body).toMatchObject({ source: 'nightly', status: 'unverified', myStatus: 'confirmed', partnerStatus: 'unverified' });
    const declined = await decide(pt.signer, onBoth, 'decline', { officer: 'pt-officer-5' });
    expect(declined.body).toMatchObject({ source: 'nightly', status: 'declined', myStatus: 'declined', partnerStatus: 'confirmed' });
    // The same handle as a query hit held by PT shares PT's status.
    const ptView = (await h.json(pt.signer, 'GET', '/v1/hits')).body.hits.filter((x: any) => x.handle === onBoth);
    expect(ptView.map((x: any) => [x.source, x.status, x.myStatus])).toEqual([
      ['nightly', 'declined', 'declined'],
      ['query', 'declined', 'declined'],
    ]);

    const list = async (qs: string) => (await h.json(es.signer, 'GET', `/v1/hits${qs}`)).body.hits;
    expect((await list('?status=confirmed')).map((x: any) => x.handle)).toEqual([onlyQuery]);
    expect((await list('?status=declined')).map((x: any) => x.source)).toEqual(['nightly', 'query']);
    expect(await list('?since=2026-03-11')).toEqual([]);
    expect(await list(`?since=${encodeURIComponent(new Date(h.clock.now.getTime() - 1000).toISOString())}`)).toHaveLength(3);
    expect(await list('?status=&since=')).toHaveLength((await list('')).length);
    expect((await h.json(es.signer, 'GET', '/v1/hits?status=maybe')).body.field).toBe('query.status');
    expect((await h.json(es.signer, 'GET', '/v1/hits?since=yesterday')).body.field).toBe('query.since');

    const audit = await h.store.readAudit(0, 100_000);
    const decisions = audit.filter((e) => e.action === 'hit.confirmed' || e.action === 'hit.declined');
    expect(decisions.map((e) => [e.actor, e.action, e.detail.officer])).toEqual([
      ['PT-PJ', 'hit.confirmed', 'pt-officer-3'],
      ['ES-CNP', 'hit.confirmed', 'officer-9'],
      ['PT-PJ', 'hit.declined', 'pt-officer-5'],
    ]);
    expect(decisions[0]?.detail).toMatchObject({ partners: ['ES-CNP'], queries: [r.id], caseRefs: ['CASE-2026-0042'], note: true });
    expect(JSON.stringify(decisions)).not.toContain('matches our file');
    expect(audit.filter((e) => e.action === 'hit.confirm_refused').map((e) => [e.actor, e.outcome])).toEqual([
      ['ES-CNP', 'forbidden'],
      ['FR-OCRTEH', 'not-found'],
      ['PT-PJ', 'not-found'],
    ]);
    expect(audit.filter((e) => e.action === 'hit.decline_refused').map((e) => [e.actor, e.outcome, e.detail.officer])).toEqual([['PT-PJ', 'conflict', 'officer-9']]);
  });

  it('count-mode pairs record no hits', async () => {
    await setup({ mode: 'count' });
    expect((await es.results()).pairs[0]).toMatchObject({ state: 'complete', count: shared.length });
    expect((await h.json(es.signer, 'GET', '/v1/hits')).body.hits).toEqual([]);
    expect((await h.json(pt.signer, 'GET', '/v1/hits')).body.hits).toEqual([]);
  });
});

describe('hit evidence (protocol/SPEC.md §8.11)', () => {
  async function answered(values: Item[], extra: Record<string, unknown> = {}) {
    const a = await ask(es, values, extra);
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(await respond(pt)).toBe(1);
    const leg = (await state(es.signer, a.body.queryId)).legs[0];
    expect(leg.proofValid).toBe(true);
    return { id: a.body.queryId as string, q: a.q, leg };
  }
  const post = (id: string, legs: unknown[]) => h.json(es.signer, 'POST', `/v1/queries/${id}/outcome`, { body: { legs } });
  const queryHitsOf = async (who: Signer) => (await h.json(who, 'GET', '/v1/hits')).body.hits.filter((x: any) => x.source === 'query');
  const refusals = async (id: string) =>
    (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'query.hit_refused' && e.subject === id).map((e) => [e.actor, e.outcome, e.detail.reason]);
  /** An element of PT's side as ES downloaded it for tokenising: the blinded element at `position`. */
  async function partnerElement(position: number): Promise<Uint8Array> {
    const res = await h.send(es.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/chunks/${Math.floor(position / 32)}`, { headers: { 'Concordat-Epoch': 'e1' } });
    expect(res.status).toBe(200);
    const all = new Uint8Array(await res.arrayBuffer());
    const at = (position % 32) * 32;
    return all.slice(at, at + 32);
  }

  it('records an honest hit at the position of the responder side that holds the element, with the nightly handle', async () => {
    await setup();
    const nightly = nightlyHandles(await es.results());
    const r = await answered([shared[2] as Item, nobody(1), ptOnly[9] as Item]);
    const concluded = es.conclude(PAIR, r.q, r.leg);
    expect(concluded.hits.map((x) => x.index)).toEqual([0, 2]);
    const out = await post(r.id, [{ partner: 'PT-PJ', ...concluded }]);
    expect(out.status, JSON.stringify(out.body)).toBe(200);
    expect(out.body.legs[0].hits[0].handle).toBe(nightly.get(keyOf(shared[2] as Item)));
    const held = await queryHitsOf(pt.signer);
    // In no particular order: both runtimes list hits as their store returns them.
    expect(held).toHaveLength(2);
    expect(held.map((x: any) => pt.slots[x.position])).toEqual(
      expect.arrayContaining([
        { type: 'item', item: shared[2] },
        { type: 'item', item: ptOnly[9] },
      ]),
    );
    expect(await refusals(r.id)).toEqual([]);
  });

  it('refuses a valid proof over an element the responder side does not hold, records nothing, and takes the honest report after', async () => {
    await setup();
    const r = await answered([nobody(1), shared[0] as Item]);
    const honest = es.conclude(PAIR, r.q, r.leg);
    expect(honest.hits.map((x) => x.index)).toEqual([1]);
    // The proof is sound (U = r⁻¹·E for the no-hit value), but U is no element of PT's side.
    const forged = evidenceHex(r.q, r.leg.evaluated, 0);
    const refused = await post(r.id, [{ partner: 'PT-PJ', hits: [forged, ...honest.hits], noHits: 0 }]);
    expect(refused).toMatchObject({ status: 422, body: { type: 'urn:concordat:problem:validation', field: 'body.legs[0].hits[0].element' } });
    expect(JSON.stringify(refused.body)).not.toContain(forged.element);
    expect(await refusals(r.id)).toEqual([['ES-CNP', 'refused', 'element']]);
    expect(await queryHitsOf(pt.signer)).toEqual([]);
    expect((await h.store.getQuery(r.id))?.legs[0]?.outcome).toBeNull();
    const ok = await post(r.id, [{ partner: 'PT-PJ', ...honest }]);
    expect(ok.status).toBe(200);
    expect(await queryHitsOf(pt.signer)).toHaveLength(1);
  });

  it("refuses evidence whose proof does not hold against the answer relayed: a partner element with a made-up scalar, another value's answer, the responder's own query proof", async () => {
    await setup();
    const r = await answered([ptOnly[1] as Item, nobody(2)]);
    const honest = es.conclude(PAIR, r.q, r.leg);
    expect(honest.hits.map((x) => x.index)).toEqual([0]);
    // A record of PT that ES never asked about: its element, as ES downloaded it, with a scalar ES made up.
    const target = await partnerElement(pt.positionOf(ptOnly[20] as Item));
    const made = encodeScalar(randomScalar(randomBytes));
    const madeUp = {
      index: 1,
      element: bytesToHex(target),
      blindPublic: bytesToHex(encodePoint(Point.BASE.multiply(decodeScalar('r', made)))),
      proof: bytesToHex(generateProof(hitEvidenceSuite(CONCORDAT_SUITE), { sk: made, blinded: [target], evaluated: [hexToBytes(r.leg.evaluated[1])] }, randomBytes)),
    };
    const attempts = [
      madeUp,
      // The honest evidence of value 0, claimed for value 1: E is taken from the coordinator's answer for value 1.
      { ...(honest.hits[0] as object), index: 1 },
    ];
    for (const hit of attempts) {
      const res = await post(r.id, [{ partner: 'PT-PJ', hits: [hit], noHits: 1 }]);
      expect(res).toMatchObject({ status: 422, body: { field: 'body.legs[0].hits[0].proof' } });
    }
    expect(await refusals(r.id)).toEqual([
      ['ES-CNP', 'refused', 'proof'],
      ['ES-CNP', 'refused', 'proof'],
    ]);
    // ES sends PT's own element as a "blinded value": PT answers k_PT·s with a query proof against K_PT — the same
    // statement shape as evidence with U = s and P = K_PT, but under another label, so it is no evidence.
    const replay = await answered([nobody(3)], { blinded: [bytesToHex(target)] });
    const res = await post(replay.id, [{ partner: 'PT-PJ', hits: [{ index: 0, element: bytesToHex(target), blindPublic: bytesToHex(pt.kp.pk), proof: replay.leg.proof }], noHits: 0 }]);
    expect(res).toMatchObject({ status: 422, body: { field: 'body.legs[0].hits[0].proof' } });
    expect(await queryHitsOf(pt.signer)).toEqual([]);
    const malformed = await post(r.id, [{ partner: 'PT-PJ', hits: [{ ...(honest.hits[0] as object), element: '00'.repeat(32) }], noHits: 1 }]);
    expect(malformed).toMatchObject({ status: 422, body: { field: 'body.legs[0].hits[0].element' } });
  });

  it('refuses a hit on a position the responder withdrew', async () => {
    await setup();
    const withdrawn = pt.positionOf(ptOnly[4] as Item);
    expect((await h.json(pt.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [withdrawn] }, headers: { 'Concordat-Epoch': 'e1' } })).status).toBe(200);
    // The removal is served to the tokenising side, in the order removed.
    const removals = await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/removals?after=0`, { headers: { 'Concordat-Epoch': 'e1' } });
    expect(removals).toEqual({ status: 200, body: { epoch: 'e1', positions: [withdrawn], next: null } });
    expect((await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/removals?after=1&limit=1`)).body).toEqual({ epoch: 'e1', positions: [], next: null });
    expect((await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/removals?limit=0`)).body.field).toBe('query.limit');
    expect((await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/removals?from=0`)).body.field).toBe('query.from');

    const r = await answered([ptOnly[4] as Item]);
    // A requester that has not yet dropped the withdrawn token still finds it, and its evidence is sound.
    const stale = es.conclude(PAIR, r.q, r.leg);
    expect(stale.hits.map((x) => x.index)).toEqual([0]);
    const res = await post(r.id, [{ partner: 'PT-PJ', ...stale }]);
    expect(res).toMatchObject({ status: 422, body: { field: 'body.legs[0].hits[0].element' } });
    expect(await refusals(r.id)).toEqual([['ES-CNP', 'refused', 'removed']]);
    expect(await queryHitsOf(pt.signer)).toEqual([]);
    expect((await post(r.id, [{ partner: 'PT-PJ', hits: [], noHits: 1 }])).status).toBe(200);
  });
});
