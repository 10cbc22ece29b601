// Store contract: epochs and the agencies' epoch keys.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { TestStore } from '../coordinator-runtime.js';
import { agency, AT, initialisedStore } from './store-fixture.js';

let t: TestStore;
let store: Store;
beforeEach(async () => {
  t = await initialisedStore();
  store = t.store;
});
afterEach(async () => {
  await t.close();
});

describe('epochs', () => {
  it('rotates to e<n+1> and names the previous epoch', async () => {
    expect(await store.rotateEpoch('2026-03-11T00:00:00.000Z')).toEqual({ epoch: { id: 'e2', startedAt: '2026-03-11T00:00:00.000Z' }, previous: 'e1' });
    expect(await store.rotateEpoch('2026-03-12T00:00:00.000Z')).toEqual({ epoch: { id: 'e3', startedAt: '2026-03-12T00:00:00.000Z' }, previous: 'e2' });
    expect(await store.currentEpoch()).toEqual({ id: 'e3', startedAt: '2026-03-12T00:00:00.000Z' });
    expect((await store.listEpochs()).map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
    expect((await store.listEpochs())[0]).toEqual({ id: 'e1', startedAt: AT });
  });

  it('gives racing rotations distinct epochs', async () => {
    const rotated = await Promise.all(Array.from({ length: 5 }, () => store.rotateEpoch(AT)));
    expect(rotated.map((r) => r.epoch.id).sort()).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
    expect((await store.listEpochs()).map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  });
});

describe('epoch keys', () => {
  it('publishes a key once per agency and epoch: created, same, conflict', async () => {
    await store.putAgency(agency('ES'));
    await store.putAgency(agency('PT'));
    const key = { agency: 'ES', epoch: 'e1', publicKey: new Uint8Array(32).fill(7), publishedAt: AT };
    expect(await store.putEpochKey(key)).toBe('created');
    expect(await store.putEpochKey({ ...key, publishedAt: '2026-03-10T13:00:00.000Z' })).toBe('same');
    expect(await store.putEpochKey({ ...key, publicKey: new Uint8Array(32).fill(8) })).toBe('conflict');
    expect(await store.getEpochKey('ES', 'e1')).toEqual(key);
    expect(await store.getEpochKey('ES', 'e2')).toBeUndefined();
    expect(await store.getEpochKey('PT', 'e1')).toBeUndefined();
    expect(await store.putEpochKey({ ...key, epoch: 'e2' })).toBe('created');
  });
});
