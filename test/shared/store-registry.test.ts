// Store contract: the coordinator's own rows (initialise, secrets, admin
// key, configuration, nonces) and the registry (agencies, agreements, pairs).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../protocol/rng.js';
import { DEFAULT_PROBING, defaultConfig } from '../../src/config.js';
import type { Store } from '../../src/store/types.js';
import { openTestStore, type TestStore } from '../coordinator-runtime.js';
import { acceptanceSig, activate, agency, AT, initialisedStore, pairsOf, proposal, terms } from './store-fixture.js';

let t: TestStore;
let store: Store;
afterEach(async () => {
  await t.close();
});

describe('initialise and secrets', () => {
  beforeEach(async () => {
    t = await openTestStore();
    store = t.store;
  });

  it('has no secrets, no epoch and the default configuration before initialise', async () => {
    expect(await store.getSecrets()).toBeUndefined();
    await expect(store.currentEpoch()).rejects.toThrow(/not initialised/);
    expect(await store.getConfig()).toEqual(defaultConfig());
  });

  it('stores the secrets, the first epoch and a given configuration once; a second initialise throws', async () => {
    const adminKey = randomBytes(32);
    const handleKey = randomBytes(32);
    const config = { purposes: ['cybercrime'], retention: { dataDays: 3, idleDays: 45, auditDays: 90 }, epochs: { rotateDays: 30 }, probing: { ...DEFAULT_PROBING } };
    await store.initialise({ adminKey, handleKey, epoch: { id: 'e1', startedAt: AT }, at: AT, config });
    expect(await store.getSecrets()).toEqual({ adminKey, handleKey });
    expect(await store.currentEpoch()).toEqual({ id: 'e1', startedAt: AT });
    expect(await store.getConfig()).toEqual(config);
    await expect(store.initialise({ adminKey: randomBytes(32), handleKey, epoch: { id: 'e1', startedAt: AT }, at: AT })).rejects.toThrow(
      'coordinator: this database is already initialised',
    );
    expect((await store.getSecrets())?.adminKey).toEqual(adminKey);
  });

  it('replaces the admin key and the configuration', async () => {
    await store.initialise({ adminKey: randomBytes(32), handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: AT }, at: AT });
    const next = randomBytes(32);
    await (store as Store & { setAdminKey(k: Uint8Array): Promise<void> }).setAdminKey(next);
    expect((await store.getSecrets())?.adminKey).toEqual(next);
    const config = { purposes: ['terrorism', 'cybercrime'], retention: { dataDays: null, idleDays: 45, auditDays: 30 }, epochs: { rotateDays: 30 }, probing: { ...DEFAULT_PROBING } };
    await store.putConfig(config, AT);
    await store.putConfig(config, AT);
    expect(await store.getConfig()).toEqual(config);
    expect(await t.controlRows('SELECT count(*) AS n FROM config')).toEqual([{ n: 1 }]);
  });
});

describe('nonces', () => {
  beforeEach(async () => {
    t = await initialisedStore();
    store = t.store;
  });

  it('accepts a (keyid, nonce) once, per keyid', async () => {
    expect(await store.useNonce('ES', 'n1', 1000, 1000)).toBe(true);
    expect(await store.useNonce('ES', 'n1', 1000, 1001)).toBe(false);
    expect(await store.useNonce('PT', 'n1', 1000, 1001)).toBe(true);
    const racing = await Promise.all(Array.from({ length: 8 }, () => store.useNonce('FR', 'n2', 1000, 1002)));
    expect(racing.filter(Boolean)).toHaveLength(1);
  });

  it('prunes nonces created more than ten minutes before now, at most once a minute', async () => {
    expect(await store.useNonce('ES', 'old', 1000, 1000)).toBe(true);
    // 30 s after the last prune: nothing is pruned yet.
    expect(await store.useNonce('ES', 'a', 1610, 1030)).toBe(true);
    expect(await t.controlRows("SELECT nonce FROM nonces WHERE nonce = 'old'")).toHaveLength(1);
    expect(await store.useNonce('ES', 'b', 1700, 1700)).toBe(true);
    expect(await t.controlRows('SELECT nonce FROM nonces ORDER BY nonce')).toEqual([{ nonce: 'a' }, { nonce: 'b' }]);
  });
});

describe('agencies, agreements and pairs', () => {
  beforeEach(async () => {
    t = await initialisedStore();
    store = t.store;
  });

  it('puts an agency once: created, then same for identical data, conflict for other data', async () => {
    expect(await store.putAgency(agency('ES'))).toBe('created');
    expect(await store.putAgency(agency('ES'))).toBe('same');
    expect(await store.putAgency(agency('ES', { name: 'other' }))).toBe('conflict');
    expect(await store.putAgency(agency('ES', { country: 'PRT' }))).toBe('conflict');
    expect(await store.putAgency(agency('ES', { signingKey: new Uint8Array(32) }))).toBe('conflict');
    expect(await store.getAgency('ES')).toEqual(agency('ES'));
    expect(await store.getAgency('PT')).toBeUndefined();
    const racing = await Promise.all(Array.from({ length: 6 }, () => store.putAgency(agency('PT'))));
    expect(racing.sort()).toEqual(['created', 'same', 'same', 'same', 'same', 'same']);
  });

  it('inserts an agreement version with the pairs of its parties; a version lands once', async () => {
    for (const id of ['A', 'B', 'C']) await store.putAgency(agency(id));
    const abc = proposal('abc', ['C', 'A', 'B']);
    expect(await store.insertAgreementVersion(abc, pairsOf('abc', ['A', 'B', 'C']))).toBe(true);
    expect(await store.insertAgreementVersion(proposal('abc', ['A', 'B']), pairsOf('abc', ['A', 'B']))).toBe(false);
    const v1 = await store.getAgreementVersion('abc', 1);
    expect(v1).toMatchObject({ agreementId: 'abc', version: 1, status: 'proposed', acceptances: [], rejections: [] });
    // The terms come back exactly as canonical terms, so a party signs what the others signed.
    expect(v1?.terms).toEqual(terms('abc', ['A', 'B', 'C']));
    expect(await store.getAgreement('abc')).toMatchObject({ id: 'abc', version: 1, status: 'proposed', parties: ['A', 'B', 'C'] });
    expect(await store.getAgreement('nope')).toBeUndefined();
    expect(await store.getAgreementVersion('abc', 2)).toBeUndefined();
    expect((await store.listPairs()).map((p) => p.id)).toEqual(['abc~A~B', 'abc~A~C', 'abc~B~C']);
    expect(await store.getPair('abc~A~C')).toEqual({ id: 'abc~A~C', agreementId: 'abc', agencies: ['A', 'C'] });
    expect(await store.getPair('abc~C~A')).toBeUndefined();
  });

  it('inserts an agreement of many parties in one piece (more pairs than one statement binds)', async () => {
    const parties = Array.from({ length: 12 }, (_, i) => `P${String(i).padStart(2, '0')}`);
    for (const id of parties) await store.putAgency(agency(id));
    const pairs = pairsOf('many', parties);
    expect(pairs).toHaveLength(66);
    expect(await store.insertAgreementVersion(proposal('many', parties), pairs)).toBe(true);
    expect(await store.listPairs()).toEqual(pairs.sort((a, b) => (a.id < b.id ? -1 : 1)));
  });

  it('records acceptances once; activation needs a proposed version and supersedes the earlier ones', async () => {
    for (const id of ['A', 'B']) await store.putAgency(agency(id));
    await store.insertAgreementVersion(proposal('ab', ['A', 'B']), pairsOf('ab', ['A', 'B']));
    const sig = acceptanceSig('A');
    expect(await store.acceptAgreementVersion('ab', 1, { agency: 'A', signature: sig, acceptedAt: AT })).toBe('created');
    expect(await store.acceptAgreementVersion('ab', 1, { agency: 'A', signature: sig, acceptedAt: '2026-03-10T13:00:00.000Z' })).toBe('same');
    expect(await store.acceptAgreementVersion('ab', 1, { agency: 'A', signature: new Uint8Array(64), acceptedAt: AT })).toBe('conflict');
    expect(await store.acceptAgreementVersion('ab', 9, { agency: 'A', signature: sig, acceptedAt: AT })).toBe('not-found');
    expect((await store.getAgreementVersion('ab', 1))?.acceptances).toEqual([{ agency: 'A', signature: sig, acceptedAt: AT }]);
    await activate(store, 'ab', 1);
    expect(await store.getAgreement('ab')).toMatchObject({ version: 1, status: 'active' });

    // Version 2 is proposed: version 1 keeps governing until version 2 is active.
    await store.insertAgreementVersion(proposal('ab', ['A', 'B'], { version: 2, maxSetSize: 5 }), pairsOf('ab', ['A', 'B']));
    expect(await store.getAgreement('ab')).toMatchObject({ version: 1, status: 'active', maxSetSize: 1000 });
    expect(await store.activateAgreementVersion('ab', 2, AT)).toEqual({ activated: true, superseded: [1] });
    expect(await store.activateAgreementVersion('ab', 2, AT)).toEqual({ activated: false, superseded: [] });
    expect(await store.getAgreement('ab')).toMatchObject({ version: 2, status: 'active', maxSetSize: 5 });
    expect((await store.getAgreementVersion('ab', 1))?.status).toBe('superseded');
    // A superseded version takes no acceptance and never becomes active again.
    expect(await store.acceptAgreementVersion('ab', 1, { agency: 'B', signature: new Uint8Array(64).fill(1), acceptedAt: AT })).toBe('conflict');
    expect((await store.activateAgreementVersion('ab', 1, AT)).activated).toBe(false);
    expect((await store.listAgreementVersions('ab')).map((v) => [v.version, v.status])).toEqual([
      [1, 'superseded'],
      [2, 'active'],
    ]);
  });

  it('an older proposal accepted late does not displace a later active version', async () => {
    for (const id of ['A', 'B']) await store.putAgency(agency(id));
    await store.insertAgreementVersion(proposal('ab', ['A', 'B']), pairsOf('ab', ['A', 'B']));
    await store.insertAgreementVersion(proposal('ab', ['A', 'B'], { version: 2 }), pairsOf('ab', ['A', 'B']));
    expect(await store.activateAgreementVersion('ab', 2, AT)).toEqual({ activated: true, superseded: [1] });
    expect(await store.activateAgreementVersion('ab', 1, AT)).toEqual({ activated: false, superseded: [] });
    expect(await store.getAgreement('ab')).toMatchObject({ version: 2, status: 'active' });
  });

  it('rejects a proposed version only: rejected, same, conflict', async () => {
    for (const id of ['A', 'B']) await store.putAgency(agency(id));
    await store.insertAgreementVersion(proposal('ab', ['A', 'B']), pairsOf('ab', ['A', 'B']));
    expect(await store.rejectAgreementVersion('ab', 1, { agency: 'B', rejectedAt: AT })).toBe('rejected');
    expect(await store.rejectAgreementVersion('ab', 1, { agency: 'B', rejectedAt: AT })).toBe('same');
    // Another party may still record its own rejection of a rejected version.
    expect(await store.rejectAgreementVersion('ab', 1, { agency: 'A', rejectedAt: AT })).toBe('same');
    expect(await store.rejectAgreementVersion('ab', 2, { agency: 'A', rejectedAt: AT })).toBe('not-found');
    expect(await store.getAgreementVersion('ab', 1)).toMatchObject({
      status: 'rejected',
      rejections: [
        { agency: 'A', rejectedAt: AT },
        { agency: 'B', rejectedAt: AT },
      ],
    });
    expect((await store.activateAgreementVersion('ab', 1, AT)).activated).toBe(false);
    await store.insertAgreementVersion(proposal('ab', ['A', 'B'], { version: 2 }), pairsOf('ab', ['A', 'B']));
    await activate(store, 'ab', 2);
    expect(await store.rejectAgreementVersion('ab', 2, { agency: 'A', rejectedAt: AT })).toBe('conflict');
  });

  it('lists agreement versions by id and the pairs an agency is part of', async () => {
    for (const id of ['ES', 'PT', 'FR']) await store.putAgency(agency(id));
    await store.insertAgreementVersion(proposal('pt-fr', ['PT', 'FR']), pairsOf('pt-fr', ['PT', 'FR']));
    await store.insertAgreementVersion(proposal('es-pt', ['ES', 'PT']), pairsOf('es-pt', ['ES', 'PT']));
    expect((await store.listAgreementVersions()).map((a) => a.agreementId)).toEqual(['es-pt', 'pt-fr']);
    expect((await store.listPairsOf('PT')).map((p) => p.id)).toEqual(['es-pt~ES~PT', 'pt-fr~FR~PT']);
    expect((await store.listPairsOf('ES')).map((p) => p.id)).toEqual(['es-pt~ES~PT']);
    expect(await store.listPairsOf('XX')).toEqual([]);
  });
});
