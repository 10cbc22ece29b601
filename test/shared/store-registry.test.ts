// Store contract: the coordinator's own rows (initialise, secrets, admin
// key, configuration, nonces) and the registry (agencies, agreements, pairs).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../protocol/rng.js';
import { defaultConfig } from '../../src/config.js';
import type { Store } from '../../src/store/types.js';
import { openTestStore, type TestStore } from '../coordinator-runtime.js';
import { agency, agreement, AT, initialisedStore, pairsOf } from './store-fixture.js';

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
    const config = { purposes: ['cybercrime'], retention: { dataDays: 3, auditDays: 90 } };
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
    const config = { purposes: ['terrorism', 'cybercrime'], retention: { dataDays: null, auditDays: 30 } };
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

  it('inserts an agreement with all its pairs, or nothing', async () => {
    for (const id of ['A', 'B', 'C']) await store.putAgency(agency(id));
    const abc = agreement('abc', ['C', 'A', 'B']);
    expect(await store.insertAgreement(abc, pairsOf('abc', abc.parties))).toBe(true);
    expect(await store.insertAgreement(agreement('abc', ['A', 'B']), pairsOf('abc', ['A', 'B']))).toBe(false);
    expect(await store.getAgreement('abc')).toEqual(abc);
    expect(await store.getAgreement('nope')).toBeUndefined();
    expect((await store.listPairs()).map((p) => p.id)).toEqual(['abc~A~B', 'abc~A~C', 'abc~B~C']);
    expect(await store.getPair('abc~A~C')).toEqual({ id: 'abc~A~C', agreementId: 'abc', agencies: ['A', 'C'] });
    expect(await store.getPair('abc~C~A')).toBeUndefined();
    // A pair id taken by another agreement fails the whole insert: no agreement row is left behind.
    await expect(store.insertAgreement(agreement('xy', ['A', 'B']), [{ id: 'abc~A~B', agreementId: 'xy', agencies: ['A', 'B'] }])).rejects.toThrow();
    expect(await store.getAgreement('xy')).toBeUndefined();
  });

  it('inserts an agreement of many parties in one piece (more pairs than one statement binds)', async () => {
    const parties = Array.from({ length: 12 }, (_, i) => `P${String(i).padStart(2, '0')}`);
    for (const id of parties) await store.putAgency(agency(id));
    const pairs = pairsOf('many', parties);
    expect(pairs).toHaveLength(66);
    expect(await store.insertAgreement(agreement('many', parties), pairs)).toBe(true);
    expect(await store.listPairs()).toEqual(pairs.sort((a, b) => (a.id < b.id ? -1 : 1)));
  });

  it('lists agreements by id and the pairs an agency is part of', async () => {
    for (const id of ['ES', 'PT', 'FR']) await store.putAgency(agency(id));
    await store.insertAgreement(agreement('pt-fr', ['PT', 'FR']), pairsOf('pt-fr', ['PT', 'FR']));
    await store.insertAgreement(agreement('es-pt', ['ES', 'PT']), pairsOf('es-pt', ['ES', 'PT']));
    expect((await store.listAgreements()).map((a) => a.id)).toEqual(['es-pt', 'pt-fr']);
    expect((await store.listPairsOf('PT')).map((p) => p.id)).toEqual(['es-pt~ES~PT', 'pt-fr~FR~PT']);
    expect((await store.listPairsOf('ES')).map((p) => p.id)).toEqual(['es-pt~ES~PT']);
    expect(await store.listPairsOf('XX')).toEqual([]);
  });
});
