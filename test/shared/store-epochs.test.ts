// Store contract: epochs and the agencies' epoch keys.
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

describe('epoch keys', () => {
  it('publishes a key once per agency and epoch: created, same, conflict', async () => {
    await fx.store.putAgency(agency('ES'));
    await fx.store.putAgency(agency('PT'));
    const key = { agency: 'ES', epoch: 'e1', publicKey: new Uint8Array(32).fill(7), publishedAt: AT };
    expect(await fx.store.putEpochKey(key)).toBe('created');
    expect(await fx.store.putEpochKey({ ...key, publishedAt: '2026-03-10T13:00:00.000Z' })).toBe('same');
    expect(await fx.store.putEpochKey({ ...key, publicKey: new Uint8Array(32).fill(8) })).toBe('conflict');
    expect(await fx.store.getEpochKey('ES', 'e1')).toEqual(key);
    expect(await fx.store.getEpochKey('ES', 'e2')).toBeUndefined();
    expect(await fx.store.getEpochKey('PT', 'e1')).toBeUndefined();
    expect(await fx.store.putEpochKey({ ...key, epoch: 'e2' })).toBe('created');
  });
});
