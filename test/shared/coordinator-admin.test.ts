import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocol/bytes.js';
import { addAgreement, epochKeyPair, epochKeySignature, makeHarness, newSigner, publishKey, type Harness, type Signer } from '../coordinator-harness.js';

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

describe('admin: agencies', () => {
  it('is idempotent for identical data and refuses other data under the same id', async () => {
    const body = { id: 'ES-CNP', name: 'ES-CNP agency', country: 'ESP', signingKey: bytesToHex(es.publicKey) };
    const same = await h.json(h.admin, 'POST', '/v1/admin/agencies', { body });
    expect(same.status).toBe(200);
    expect(same.body.agency).toMatchObject({ id: 'ES-CNP', country: 'ESP', signingKey: bytesToHex(es.publicKey) });
    const other = await h.json(h.admin, 'POST', '/v1/admin/agencies', { body: { ...body, name: 'Someone else' } });
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('urn:concordat:problem:conflict');
  });

  it('validates ids, countries and keys', async () => {
    const k = bytesToHex(newSigner('x').publicKey);
    const cases: [Record<string, unknown>, string][] = [
      [{ id: 'es-cnp', name: 'x', country: 'ESP', signingKey: k }, 'body.id'],
      [{ id: 'ES-CNP2', name: 'x', country: 'XXX', signingKey: k }, 'body.country'],
      [{ id: 'ES-CNP2', name: 'x', country: 'ESP', signingKey: 'ab' }, 'body.signingKey'],
      [{ id: 'ES-CNP2', name: '', country: 'ESP', signingKey: k }, 'body.name'],
      [{ id: 'ES-CNP2', name: 'x', country: 'ESP', signingKey: k, extra: true }, 'body'],
    ];
    for (const [body, field] of cases) {
      const r = await h.json(h.admin, 'POST', '/v1/admin/agencies', { body });
      expect(r.status, field).toBe(422);
      expect(r.body.field).toBe(field);
    }
  });
});

describe('admin: agreements', () => {
  it('creates pairs for every two parties, is idempotent, and makes other terms the next version', async () => {
    const a = await addAgreement(h, { id: 'iberia-fr', parties: ['PT-PJ', 'FR-OCRTEH', 'ES-CNP'], validFrom: '2026-01-01' });
    expect(a.pairs).toEqual(['iberia-fr~ES-CNP~FR-OCRTEH', 'iberia-fr~ES-CNP~PT-PJ', 'iberia-fr~FR-OCRTEH~PT-PJ']);
    expect(a).toMatchObject({ mode: 'reveal', maxSetSize: 10_000_000, kinds: ['email', 'passport'], validFrom: '2026-01-01' });
    const again = await h.json(h.admin, 'POST', '/v1/admin/agreements', {
      body: { id: 'iberia-fr', parties: ['ES-CNP', 'FR-OCRTEH', 'PT-PJ'], kinds: ['passport', 'email'], mode: 'reveal', validFrom: '2026-01-01', validUntil: '2026-12-31', legalBasis: 'Test treaty art. 1' },
    });
    expect(again.status).toBe(200);
    expect(again.body.agreement).toMatchObject({ version: 1, status: 'active' });
    const next = await h.json(h.admin, 'POST', '/v1/admin/agreements', {
      body: { id: 'iberia-fr', parties: ['ES-CNP', 'PT-PJ'], kinds: ['email'], mode: 'count', validUntil: '2026-12-31', legalBasis: 'x' },
    });
    expect(next.status).toBe(201);
    expect(next.body.agreement).toMatchObject({ version: 2, status: 'proposed', acceptances: [], rejections: [], mode: 'count', parties: ['ES-CNP', 'PT-PJ'] });
    expect(next.body.agreement.terms).toMatchObject({ id: 'iberia-fr', version: 2, mode: 'count', parties: [{ agency: 'ES-CNP', signingKey: bytesToHex(es.publicKey) }, { agency: 'PT-PJ', signingKey: bytesToHex(pt.publicKey) }] });
    const list = await h.json(h.admin, 'GET', '/v1/admin/agreements');
    expect(list.body.agreements.map((x: { id: string; version: number; status: string }) => [x.id, x.version, x.status])).toEqual([
      ['iberia-fr', 1, 'active'],
      ['iberia-fr', 2, 'proposed'],
    ]);
  });

  it('refuses unknown parties and kinds, duplicates and bad windows', async () => {
    const base = { id: 'x', parties: ['ES-CNP', 'PT-PJ'], kinds: ['email'], mode: 'reveal', validUntil: '2026-12-31', legalBasis: 'x' };
    const cases: [Record<string, unknown>, string][] = [
      [{ parties: ['ES-CNP', 'DE-BKA'] }, 'body.parties[1]'],
      [{ parties: ['ES-CNP', 'ES-CNP'] }, 'body.parties'],
      [{ parties: ['ES-CNP'] }, 'body.parties'],
      [{ kinds: ['shoe_size'] }, 'body.kinds[0]'],
      [{ validUntil: '2026-02-30' }, 'body.validUntil'],
      [{ validFrom: '2026-06-01', validUntil: '2026-05-01' }, 'body.validUntil'],
      [{ validUntil: '2025-12-31' }, 'body.validUntil'],
      [{ mode: 'both' }, 'body.mode'],
      [{ legalBasis: 'x'.repeat(501) }, 'body.legalBasis'],
    ];
    for (const [patch, field] of cases) {
      const r = await h.json(h.admin, 'POST', '/v1/admin/agreements', { body: { ...base, ...patch } });
      expect(r.status, JSON.stringify(patch)).toBe(422);
      expect(r.body.field).toBe(field);
    }
  });
});

describe('authorisation', () => {
  it('lists only pairs of valid agreements including the caller, with epoch keys', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const kp = epochKeyPair();
    await publishKey(h, pt, kp);
    const me = await h.json(es, 'GET', '/v1/me');
    expect(me.body.pairs).toEqual([
      {
        pair: 'es-pt~ES-CNP~PT-PJ',
        agreement: 'es-pt',
        partner: 'PT-PJ',
        mode: 'reveal',
        kinds: ['email', 'passport'],
        validUntil: '2026-12-31',
        maxSetSize: 10_000_000,
        agreementVersion: 1,
        myEpochKey: null,
        partnerEpochKey: { publicKey: bytesToHex(kp.pk), signature: epochKeySignature(pt, 'es-pt~ES-CNP~PT-PJ', { id: 'es-pt', version: 1 }, kp.pk) },
        purposes: ['cybercrime', 'drug_trafficking', 'human_trafficking', 'money_laundering', 'organised_crime', 'terrorism'],
        queryQuota: { perDay: 50, maxValues: 100 },
        queriesLeftToday: 50,
      },
    ]);
    expect((await h.json(fr, 'GET', '/v1/me')).body.pairs).toEqual([]);
  });

  it('refuses an agency that is not a party, exactly as for a pair that does not exist', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await publishKey(h, fr, epochKeyPair());
    const paths = (pair: string) => [
      ['GET', `/v1/pairs/${pair}/status`],
      ['GET', `/v1/pairs/${pair}/partner-set/chunks/0`],
      ['PUT', `/v1/pairs/${pair}/set/chunks/0`],
      ['PUT', `/v1/pairs/${pair}/partner-set/chunks/0/tokens`],
      ['POST', `/v1/pairs/${pair}/set/removals`],
      ['PUT', `/v1/pairs/${pair}/set/canaries`],
      ['POST', `/v1/pairs/${pair}/set/canaries/done`],
    ];
    const bodies: string[] = [];
    for (const pair of ['es-pt~ES-CNP~PT-PJ', 'zz~ES-CNP~PT-PJ']) {
      for (const [method, path] of paths(pair)) {
        const r = await h.json(fr, method as string, path as string, method === 'GET' ? {} : { body: new Uint8Array(32).fill(1) });
        expect(r.status, path).toBe(403);
        expect(r.body.type).toBe('urn:concordat:problem:no-agreement');
        // Every answer has its own request id; the rest must not tell the two pairs apart.
        const { requestId: _id, ...rest } = r.body;
        bodies.push(JSON.stringify(rest));
      }
    }
    expect(new Set(bodies).size).toBe(1);
    const audit = await h.store.readAudit(0, 1000);
    const refusals = audit.filter((e) => e.action === 'pair.refused' && e.actor === 'FR-OCRTEH');
    expect(refusals.length).toBe(14);
    expect(refusals[0]).toMatchObject({ outcome: 'no-agreement', subject: 'es-pt~ES-CNP~PT-PJ' });
    const work = await h.json(fr, 'GET', '/v1/work');
    expect(work.body).toEqual({ tasks: [] });
    const results = await h.json(fr, 'GET', '/v1/results');
    expect(results.body).toEqual({ epoch: 'e1', pairs: [] });
  });

  it('stops all data flows once the agreement expires, and before it starts', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], validUntil: '2026-03-31' });
    await addAgreement(h, { id: 'es-fr', parties: ['ES-CNP', 'FR-OCRTEH'], validFrom: '2026-04-02', validUntil: '2026-05-31' });
    await publishKey(h, es, epochKeyPair());
    const pair = 'es-pt~ES-CNP~PT-PJ';
    expect((await h.json(es, 'GET', `/v1/pairs/${pair}/status`)).status).toBe(200);
    expect((await h.json(es, 'GET', `/v1/pairs/es-fr~ES-CNP~FR-OCRTEH/status`)).status).toBe(403);
    h.clock.now = new Date('2026-03-31T23:59:59Z');
    expect((await h.json(es, 'GET', `/v1/pairs/${pair}/status`)).status).toBe(200);
    h.clock.now = new Date('2026-04-01T00:00:00Z');
    const r = await h.json(es, 'GET', `/v1/pairs/${pair}/status`);
    expect(r.status).toBe(403);
    expect(r.body.type).toBe('urn:concordat:problem:no-agreement');
    expect((await h.json(es, 'GET', '/v1/me')).body.pairs).toEqual([]);
    expect((await h.json(es, 'GET', '/v1/results')).body.pairs).toEqual([]);
    h.clock.now = new Date('2026-04-02T00:00:00Z');
    // Keys are per pair: the pair that starts today gets its own.
    await publishKey(h, es, epochKeyPair());
    expect((await h.json(es, 'GET', `/v1/pairs/es-fr~ES-CNP~FR-OCRTEH/status`)).status).toBe(200);
  });

  it('requires the pair’s epoch key before any pair route, and checks epoch keys', async () => {
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const pair = 'es-pt~ES-CNP~PT-PJ';
    const r = await h.json(es, 'GET', `/v1/pairs/${pair}/status`);
    expect(r.status).toBe(409);
    expect(r.body.type).toBe('urn:concordat:problem:epoch-key-required');
    expect(r.body.detail).toBe('publish the epoch key for this pair first');
    const kp = epochKeyPair();
    const ref = { id: 'es-pt', version: 1 };
    const put = (body: Record<string, unknown>) => h.json(es, 'PUT', `/v1/pairs/${pair}/epoch-key`, { body });
    const signed = (publicKey: Uint8Array, epoch = 'e1') => ({ epoch, publicKey: bytesToHex(publicKey), signature: epochKeySignature(es, pair, ref, publicKey, epoch) });
    const stale = await put({ ...signed(kp.pk), epoch: 'e0' });
    expect(stale.status).toBe(409);
    expect(stale.body.type).toBe('urn:concordat:problem:stale-epoch');
    const identity = await put({ ...signed(kp.pk), publicKey: '00'.repeat(32) });
    expect(identity.status).toBe(422);
    expect(identity.body.field).toBe('body.publicKey');
    const created = await put(signed(kp.pk));
    expect(created).toMatchObject({ status: 201, body: { pair, agreement: ref, epoch: 'e1', publicKey: bytesToHex(kp.pk), signature: signed(kp.pk).signature } });
    expect((await put(signed(kp.pk))).status).toBe(200);
    const other = await put(signed(epochKeyPair().pk));
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('urn:concordat:problem:conflict');
    expect((await h.json(es, 'GET', `/v1/pairs/${pair}/status`)).status).toBe(200);
    // The v1 route is gone: keys are per pair now.
    expect((await h.json(es, 'PUT', '/v1/epoch-key', { body: { epoch: 'e1', publicKey: bytesToHex(kp.pk) } })).status).toBe(404);
  });
});
