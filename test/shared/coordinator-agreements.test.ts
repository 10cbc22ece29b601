// PSI v2 on the coordinator (src/API.md, "Agreements", "Signed documents"):
// agreement versions accepted by every party's signature, signed per-pair
// epoch keys, signed query legs and the responder's refusal. The coordinator
// verifies every signature it relays; the agencies do not rely on it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptAgreement, parseAgreement, type AgreementTerms } from '../../protocol/agreement.js';
import { bytesToHex } from '../../protocol/bytes.js';
import { acceptAs, addAgreement, epochKeyPair, epochKeySignature, makeHarness, proposeAgreement, publishKey, publishPairKey, type Harness, type Signer } from '../coordinator-harness.js';

const PAIR = 'es-pt~ES-CNP~PT-PJ';

let h: Harness;
let es: Signer;
let pt: Signer;
let fr: Signer;

beforeEach(async () => {
  h = await makeHarness();
  es = await h.addAgency('ES-CNP', 'ESP');
  pt = await h.addAgency('PT-PJ', 'PRT');
  fr = await h.addAgency('FR-OCRTEH', 'FRA');
});
afterEach(async () => {
  await h.close();
});

async function actions(): Promise<{ actor: string; action: string; subject: string; outcome: string; detail: Record<string, unknown> }[]> {
  return (await h.store.readAudit(0, 10_000)) as never;
}

describe('agreement versions', () => {
  it('a proposal makes no pair until every party accepted it; then it is active and listed to its parties only', async () => {
    const proposed = await proposeAgreement(h, { id: 'es-pt', parties: ['PT-PJ', 'ES-CNP'] });
    const terms = proposed.terms as AgreementTerms;
    expect(proposed).toMatchObject({ id: 'es-pt', version: 1, status: 'proposed', acceptances: [], rejections: [], pairs: [PAIR] });
    // The terms are canonical (protocol/SPEC.md §8.6) and list each party with its registered signing key.
    expect(parseAgreement(terms)).toEqual(terms);
    expect(terms.parties).toEqual([
      { agency: 'ES-CNP', signingKey: bytesToHex(es.publicKey) },
      { agency: 'PT-PJ', signingKey: bytesToHex(pt.publicKey) },
    ]);

    const listed = await h.json(es, 'GET', '/v1/agreements');
    expect(listed).toEqual({ status: 200, body: { agreements: [{ terms, status: 'proposed', acceptances: [], rejections: [] }] } });
    expect((await h.json(fr, 'GET', '/v1/agreements')).body).toEqual({ agreements: [] });
    expect((await h.json(es, 'GET', '/v1/me')).body.pairs).toEqual([]);
    expect((await h.json(es, 'GET', `/v1/pairs/${PAIR}/status`)).body.type).toBe('urn:concordat:problem:no-agreement');

    const first = await acceptAs(h, es, terms);
    expect(first.status).toBe(200);
    expect(first.body.agreement).toMatchObject({ status: 'proposed', acceptances: [{ agency: 'ES-CNP', signature: bytesToHex(acceptAgreement(terms, 'ES-CNP', es.secretKey)), acceptedAt: h.clock.now.toISOString() }] });
    // Idempotent: the same signature again is the same acceptance.
    expect((await acceptAs(h, es, terms)).body.agreement.acceptances).toHaveLength(1);
    expect((await h.json(es, 'GET', '/v1/me')).body.pairs).toEqual([]);

    const second = await acceptAs(h, pt, terms);
    expect(second.body.agreement).toMatchObject({ status: 'active', acceptances: [{ agency: 'ES-CNP' }, { agency: 'PT-PJ' }] });
    const me = await h.json(es, 'GET', '/v1/me');
    expect(me.body.pairs).toMatchObject([{ pair: PAIR, agreement: 'es-pt', agreementVersion: 1, partner: 'PT-PJ', myEpochKey: null, partnerEpochKey: null }]);

    const audit = await actions();
    expect(audit.filter((e) => e.action.startsWith('agreement.')).map((e) => [e.action, e.actor])).toEqual([
      ['agreement.proposed', 'admin'],
      ['agreement.accepted', 'ES-CNP'],
      ['agreement.accepted', 'PT-PJ'],
      ['agreement.activated', 'coordinator'],
    ]);
  });

  it('refuses an acceptance whose signature is not the caller’s over these terms, and a caller who is not a party', async () => {
    const proposed = await proposeAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const terms = proposed.terms as AgreementTerms;
    const path = `/v1/agreements/es-pt/versions/1/acceptance`;
    const other = parseAgreement({ ...terms, maxSetSize: 5 });
    const cases: [string, string][] = [
      ['zeros', '00'.repeat(64)],
      ['other terms', bytesToHex(acceptAgreement(other, 'ES-CNP', es.secretKey))],
      ['PT’s signature', bytesToHex(acceptAgreement(terms, 'PT-PJ', pt.secretKey))],
    ];
    for (const [what, signature] of cases) {
      const r = await h.json(es, 'POST', path, { body: { signature } });
      expect(r.status, what).toBe(422);
      expect(r.body, what).toMatchObject({ type: 'urn:concordat:problem:bad-signature', field: 'body.signature' });
    }
    const refused = (await actions()).filter((e) => e.action === 'agreement.accept_refused');
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ actor: 'ES-CNP', subject: 'es-pt', outcome: 'bad-signature', detail: { version: 1 } });
    // A non-party learns nothing, not even that the version exists.
    const nonParty = await h.json(fr, 'POST', path, { body: { signature: bytesToHex(acceptAgreement(terms, 'ES-CNP', es.secretKey)) } });
    expect(nonParty.status).toBe(404);
    // The same problem as for a version that does not exist, but for the request id every answer has of its own.
    const { requestId: _a, ...missing } = (await h.json(fr, 'POST', `/v1/agreements/nope/versions/1/acceptance`, { body: { signature: '00'.repeat(64) } })).body;
    const { requestId: _b, ...refusedNonParty } = nonParty.body;
    expect(missing).toEqual(refusedNonParty);
    expect((await h.json(es, 'POST', `/v1/agreements/es-pt/versions/2/acceptance`, { body: { signature: '00'.repeat(64) } })).status).toBe(404);
    expect((await h.json(es, 'POST', path, { body: { signature: 'zz' } })).body.field).toBe('body.signature');
    expect((await h.store.getAgreementVersion('es-pt', 1))?.acceptances).toEqual([]);
  });

  it('a rejected version stays rejected and makes no pair', async () => {
    const proposed = await proposeAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    expect((await acceptAs(h, es, proposed.terms)).status).toBe(200);
    const r = await h.json(pt, 'POST', '/v1/agreements/es-pt/versions/1/rejection', { body: {} });
    expect(r.status).toBe(200);
    expect(r.body.agreement).toMatchObject({ status: 'rejected', rejections: [{ agency: 'PT-PJ', rejectedAt: h.clock.now.toISOString() }] });
    expect((await h.json(pt, 'POST', '/v1/agreements/es-pt/versions/1/rejection', { body: {} })).status).toBe(200);
    const late = await acceptAs(h, pt, proposed.terms);
    expect(late).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:conflict' } });
    expect((await h.json(es, 'GET', '/v1/me')).body.pairs).toEqual([]);
    // Rejected versions are no longer listed to the parties; the admin still sees them.
    expect((await h.json(es, 'GET', '/v1/agreements')).body.agreements).toEqual([]);
    expect((await h.json(h.admin, 'GET', '/v1/admin/agreements')).body.agreements.map((a: { status: string }) => a.status)).toEqual(['rejected']);
    expect((await actions()).filter((e) => e.action === 'agreement.rejected').map((e) => e.actor)).toEqual(['PT-PJ']);
    expect((await h.json(fr, 'POST', '/v1/agreements/es-pt/versions/1/rejection', { body: {} })).status).toBe(404);
  });

  it('a new version governs only once every party accepted it; the old one is then superseded', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], maxSetSize: 100 });
    const v2 = await proposeAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], maxSetSize: 200 });
    expect(v2).toMatchObject({ version: 2, status: 'proposed' });
    // Version 1 keeps governing: pairs, limits and the version /v1/me names.
    expect((await h.json(es, 'GET', '/v1/me')).body.pairs).toMatchObject([{ agreementVersion: 1, maxSetSize: 100 }]);
    expect((await h.json(es, 'GET', '/v1/agreements')).body.agreements.map((a: { terms: AgreementTerms; status: string }) => [a.terms.version, a.status])).toEqual([
      [1, 'active'],
      [2, 'proposed'],
    ]);
    const kp = epochKeyPair();
    await publishKey(h, es, kp);
    expect((await h.json(es, 'GET', '/v1/me')).body.pairs[0].myEpochKey).not.toBeNull();
    await acceptAs(h, es, v2.terms);
    await acceptAs(h, pt, v2.terms);
    const me = await h.json(es, 'GET', '/v1/me');
    // A key signed under version 1 is not the pair's key under version 2: published again, signed anew.
    expect(me.body.pairs).toMatchObject([{ agreementVersion: 2, maxSetSize: 200, myEpochKey: null }]);
    expect((await h.json(es, 'GET', '/v1/agreements')).body.agreements.map((a: { terms: AgreementTerms }) => a.terms.version)).toEqual([2]);
    expect((await h.store.getAgreementVersion('es-pt', 1))?.status).toBe('superseded');
    const activated = (await actions()).filter((e) => e.action === 'agreement.activated');
    expect(activated.at(-1)).toMatchObject({ subject: 'es-pt', detail: { version: 2, superseded: [1] } });
  });
});

describe('signed per-pair epoch keys', () => {
  it('refuses a key whose statement is not signed by the caller for this pair, epoch and agreement version', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await addAgreement(h, { id: 'es-fr', parties: ['ES-CNP', 'FR-OCRTEH'] });
    const kp = epochKeyPair();
    const ref = { id: 'es-pt', version: 1 };
    const put = (signature: string) => h.json(es, 'PUT', `/v1/pairs/${PAIR}/epoch-key`, { body: { epoch: 'e1', publicKey: bytesToHex(kp.pk), signature } });
    const cases: [string, string][] = [
      ['zeros', '00'.repeat(64)],
      ['another pair', epochKeySignature(es, 'es-fr~ES-CNP~FR-OCRTEH', { id: 'es-fr', version: 1 }, kp.pk)],
      ['another version', epochKeySignature(es, PAIR, { id: 'es-pt', version: 2 }, kp.pk)],
      ['another epoch', epochKeySignature(es, PAIR, ref, kp.pk, 'e2')],
      ['another key', epochKeySignature(es, PAIR, ref, epochKeyPair().pk)],
      ['another agency', epochKeySignature({ ...pt, keyid: 'ES-CNP' }, PAIR, ref, kp.pk)],
    ];
    for (const [what, signature] of cases) {
      const r = await put(signature);
      expect(r.status, what).toBe(422);
      expect(r.body, what).toMatchObject({ type: 'urn:concordat:problem:bad-signature', field: 'body.signature' });
    }
    expect(await h.store.getPairEpochKey('ES-CNP', 'e1', PAIR)).toBeUndefined();
    const refused = (await actions()).filter((e) => e.action === 'epoch_key.refused');
    expect(refused).toHaveLength(cases.length);
    expect(refused[0]).toMatchObject({ actor: 'ES-CNP', subject: PAIR, outcome: 'bad-signature' });
    expect((await put(epochKeySignature(es, PAIR, ref, kp.pk))).status).toBe(201);
    // Each pair has its own key and statement; PT sees ES's, FR does not.
    expect((await h.json(pt, 'GET', '/v1/me')).body.pairs[0].partnerEpochKey).toEqual({ publicKey: bytesToHex(kp.pk), signature: epochKeySignature(es, PAIR, ref, kp.pk) });
    expect((await h.json(fr, 'GET', '/v1/me')).body.pairs[0].partnerEpochKey).toBeNull();
    // A pair the caller is not in is refused before any signature is looked at.
    expect((await publishPairKey(h, fr, PAIR, kp)).status).toBe(403);
  });
});

describe('signed queries and refusals', () => {
  beforeEach(async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await publishKey(h, es, epochKeyPair());
    await publishKey(h, pt, epochKeyPair());
  });
  const blinded = () => [bytesToHex(epochKeyPair().pk), bytesToHex(epochKeyPair().pk)];
  const base = () => ({ partners: ['PT-PJ'], kind: 'email', purpose: 'terrorism', caseRef: 'CASE-1', officer: 'officer-1', blinded: blinded() });

  it('refuses a leg whose statement the requester did not sign as sent, creating nothing', async () => {
    const r = await h.json(es, 'POST', '/v1/queries', { body: base(), documentKey: pt.secretKey });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: 'urn:concordat:problem:bad-signature', field: 'body.legs[0].signature' });
    // Signed as sent, then one member changed: the statement no longer verifies.
    const good = await h.json(es, 'POST', '/v1/queries', { body: base() });
    expect(good.status).toBe(201);
    const stored = await h.store.getQuery(good.body.queryId);
    expect(stored?.legs[0]).toMatchObject({ partner: 'PT-PJ', agreementVersion: 1, epoch: 'e1', status: 'pending' });
    expect((await h.json(pt, 'GET', '/v1/queries/inbox')).body.queries).toHaveLength(1);
    const refused = (await actions()).filter((e) => e.action === 'query.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor: 'ES-CNP', outcome: 'bad-signature', detail: { partner: 'PT-PJ' } });
  });

  it('refuses a query id that is taken, a leg naming another pair or version, and a stale epoch', async () => {
    const first = await h.json(es, 'POST', '/v1/queries', { body: base() });
    expect(first.status).toBe(201);
    expect(first.body.queryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const stored = (await h.store.getQuery(first.body.queryId))!;
    const leg = { partner: 'PT-PJ', agreement: { id: 'es-pt', version: 1 }, pair: PAIR, epoch: 'e1', signature: bytesToHex(stored.legs[0]!.signature!) };
    const { partners: _p, ...rest } = base();
    const again = await h.json(es, 'POST', '/v1/queries', { body: { ...rest, queryId: first.body.queryId, createdAt: h.clock.now.toISOString(), legs: [leg] }, raw: true });
    expect(again.status).toBe(422);
    const body = { ...rest, blinded: (await h.json(pt, 'GET', '/v1/queries/inbox')).body.queries[0].blinded, queryId: first.body.queryId, createdAt: stored.statedAt, legs: [leg] };
    expect(await h.json(es, 'POST', '/v1/queries', { body, raw: true })).toMatchObject({ status: 409, body: { field: 'body.queryId' } });
    const fresh = { ...body, queryId: crypto.randomUUID() };
    expect(await h.json(es, 'POST', '/v1/queries', { body: { ...fresh, legs: [{ ...leg, agreement: { id: 'es-pt', version: 2 } }] }, raw: true })).toMatchObject({ status: 409 });
    expect(await h.json(es, 'POST', '/v1/queries', { body: { ...fresh, legs: [{ ...leg, pair: 'es-pt~ES-CNP~XX-YY' }] }, raw: true })).toMatchObject({ status: 409 });
    expect(await h.json(es, 'POST', '/v1/queries', { body: { ...fresh, legs: [{ ...leg, epoch: 'e2' }] }, raw: true })).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:stale-epoch' } });
    expect((await h.json(es, 'POST', '/v1/queries', { body: { ...fresh, queryId: 'q-1' }, raw: true })).body.field).toBe('body.queryId');
  });

  it('lets the responder refuse its leg: the requester sees `refused` with the reason; nothing is answered afterwards', async () => {
    const q = await h.json(es, 'POST', '/v1/queries', { body: base() });
    const id = q.body.queryId as string;
    const path = `/v1/queries/${id}/refusal`;
    expect((await h.json(fr, 'POST', path, { body: { reason: 'signature' } })).status).toBe(403);
    expect((await h.json(es, 'POST', path, { body: { reason: 'signature' } })).status).toBe(403);
    expect((await h.json(pt, 'POST', path, { body: { reason: 'Not A Slug' } })).body.field).toBe('body.reason');
    expect(await h.json(pt, 'POST', path, { body: { reason: 'quota' } })).toEqual({ status: 200, body: { queryId: id, status: 'refused', reason: 'quota' } });
    expect((await h.json(pt, 'POST', path, { body: { reason: 'quota' } })).status).toBe(200);
    expect(await h.json(pt, 'POST', path, { body: { reason: 'signature' } })).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:conflict' } });
    expect((await h.json(pt, 'GET', '/v1/queries/inbox')).body.queries).toEqual([]);
    const state = await h.json(es, 'GET', `/v1/queries/${id}`);
    expect(state.body.legs).toEqual([{ partner: 'PT-PJ', status: 'refused', reason: 'quota', pair: PAIR, agreement: { id: 'es-pt', version: 1 } }]);
    const answer = await h.json(pt, 'POST', `/v1/queries/${id}/answer`, { body: { epoch: 'e1', evaluated: base().blinded, proof: '00'.repeat(64) } });
    expect(answer).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:conflict' } });
    expect((await h.json(pt, 'POST', `/v1/queries/00000000-0000-4000-8000-000000000000/refusal`, { body: { reason: 'quota' } })).status).toBe(404);
    const audit = (await actions()).filter((e) => e.action === 'query.responder_refused');
    expect(audit).toEqual([expect.objectContaining({ actor: 'PT-PJ', subject: id, outcome: 'quota', detail: expect.objectContaining({ requester: 'ES-CNP', reason: 'quota' }) })]);
    expect(JSON.stringify(audit)).not.toContain('officer-1');
  });
});
