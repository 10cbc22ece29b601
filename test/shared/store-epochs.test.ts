// Store contract: epochs and the agencies' signed per-pair epoch keys.
import { describe, expect, it } from 'vitest';
import { agency, AT, eachStore } from './store-fixture.js';

const fx = eachStore();

describe('epochs', () => {
  it('rotates to e<n+1> and names the previous epoch', async () => {
    expect(await fx.store.rotateEpoch('2026-03-11T00:00:00.000Z')).toEqual({ epoch: { id: 'e2', startedAt: '2026-03-11T00:00:00.000Z' }, previous: 'e1' });
    expect(await fx.store.rotateEpoch('2026-03-12T00:00:00.000Z')).toEqual({ epoch: { id: 'e3', startedAt: '2026-03-12T00:00:00.000Z' }, previous: 'e2' });
    expect(await fx.store.currentEpoch()).toEqual({ id: 'e3', startedAt: '2026-03-12T00:00:00.000Z' });
    expect((await fx.store.listEpochs()).map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
    expect((await fx.store.listEpochs())[0]).toEqual({ id: 'e1', startedAt: AT });
  });

  it('gives racing rotations distinct epochs', async () => {
    const rotated = await Promise.all(Array.from({ length: 5 }, () => fx.store.rotateEpoch(AT)));
    expect(rotated.map((r) => r.epoch.id).sort()).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
    expect((await fx.store.listEpochs()).map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  });
});

describe('per-pair epoch keys', () => {
  it('publishes a key once per agency, epoch and pair: created, same, conflict', async () => {
    await fx.store.putAgency(agency('ES'));
    await fx.store.putAgency(agency('PT'));
    const key = {
      agency: 'ES',
      epoch: 'e1',
      pairId: 'es-pt~ES~PT',
      agreementId: 'es-pt',
      agreementVersion: 1,
      publicKey: new Uint8Array(32).fill(7),
      signature: new Uint8Array(64).fill(9),
      publishedAt: AT,
    };
    expect(await fx.store.putPairEpochKey(key)).toBe('created');
    expect(await fx.store.putPairEpochKey({ ...key, publishedAt: '2026-03-10T13:00:00.000Z' })).toBe('same');
    expect(await fx.store.putPairEpochKey({ ...key, publicKey: new Uint8Array(32).fill(8) })).toBe('conflict');
    expect(await fx.store.putPairEpochKey({ ...key, agreementVersion: 2 })).toBe('conflict');
    expect(await fx.store.getPairEpochKey('ES', 'e1', 'es-pt~ES~PT')).toEqual(key);
    expect(await fx.store.getPairEpochKey('ES', 'e2', 'es-pt~ES~PT')).toBeUndefined();
    expect(await fx.store.getPairEpochKey('PT', 'e1', 'es-pt~ES~PT')).toBeUndefined();
    // Another pair of the same agency and epoch has a key of its own (protocol/SPEC.md §8.5).
    expect(await fx.store.getPairEpochKey('ES', 'e1', 'es-fr~ES~FR')).toBeUndefined();
    expect(await fx.store.putPairEpochKey({ ...key, pairId: 'es-fr~ES~FR', agreementId: 'es-fr', publicKey: new Uint8Array(32).fill(8) })).toBe('created');
    expect(await fx.store.putPairEpochKey({ ...key, epoch: 'e2' })).toBe('created');
  });
});
