// Store contract: nightly hits, query hits and the holders' statuses
// (src/API.md, "Hits (nightly matches and query hits, two-step status)").
import { describe, expect, it } from 'vitest';
import type { HitStatusRecord, MatchedHandle } from '../../src/store/types.js';
import { AT, DAY, eachStore, newQuery, quotaOf } from './store-fixture.js';

const fx = eachStore({ registered: true });

const PAIR = 'es-pt~ES~PT';
const matched = (handle: string, posA: number, posB: number, firstSeen = AT): MatchedHandle => ({ handle, posA, posB, firstSeen });
const status = (handle: string, agency: string, s: HitStatusRecord['status']): HitStatusRecord => ({ handle, agency, status: s, officer: 'o-1', note: null, updatedAt: AT });

describe('nightly hits', () => {
  it('inserts and refreshes hits, never changing when one was first seen', async () => {
    expect(await fx.store.upsertNightlyHits(PAIR, 'e1', [])).toBe(0);
    expect(await fx.store.upsertNightlyHits(PAIR, 'e1', [matched('h1', 1, 2), matched('h2', 3, 4)])).toBe(2);
    expect(await fx.store.upsertNightlyHits(PAIR, 'e2', [matched('h1', 5, 6, '2026-04-01T00:00:00.000Z')])).toBe(1);
    expect((await fx.store.listNightlyHits([PAIR])).sort((a, b) => (a.handle < b.handle ? -1 : 1))).toEqual([
      { pairId: PAIR, handle: 'h1', epoch: 'e2', posA: 5, posB: 6, createdAt: AT },
      { pairId: PAIR, handle: 'h2', epoch: 'e1', posA: 3, posB: 4, createdAt: AT },
    ]);
    expect(await fx.store.listNightlyHits(['es-fr~ES~FR'])).toEqual([]);
    expect(await fx.store.listNightlyHits([])).toEqual([]);
  });

  it('prunes the epoch’s hits no longer matched, unless a holder already decided on them', async () => {
    await fx.store.upsertNightlyHits(PAIR, 'e1', [matched('keep', 1, 1), matched('gone', 2, 2), matched('decided', 3, 3)]);
    await fx.store.upsertNightlyHits(PAIR, 'e2', [matched('later', 4, 4)]);
    await fx.store.upsertNightlyHits('es-fr~ES~FR', 'e1', [matched('other-pair', 1, 1)]);
    expect(await fx.store.setHitStatus(status('decided', 'PT', 'confirmed'))).toBe('set');
    expect(await fx.store.pruneNightlyHits(PAIR, 'e1', ['keep'])).toBe(1);
    expect((await fx.store.listNightlyHits([PAIR, 'es-fr~ES~FR'])).map((h) => h.handle).sort()).toEqual(['decided', 'keep', 'later', 'other-pair']);
    expect(await fx.store.pruneNightlyHits(PAIR, 'e1', ['keep'])).toBe(0);
  });

  it('lists hits of many pairs and statuses of many handles, more than one bound list holds', async () => {
    const pairIds = Array.from({ length: 2500 }, (_, i) => `p${i}`);
    // Nightly hits name pairs by id only; these need no pair rows.
    for (const p of pairIds.slice(0, 3)) await fx.store.upsertNightlyHits(p, 'e1', [matched(`h-${p}`, 0, 0)]);
    await fx.store.upsertNightlyHits('p2499', 'e1', [matched('h-last', 0, 0)]);
    expect((await fx.store.listNightlyHits(pairIds)).map((h) => h.handle).sort()).toEqual(['h-last', 'h-p0', 'h-p1', 'h-p2']);
    const many = Array.from({ length: 4100 }, (_, i) => matched(`m${i}`, i, i));
    expect(await fx.store.upsertNightlyHits(PAIR, 'e1', many)).toBe(4100);
    expect(await fx.store.listNightlyHits([PAIR])).toHaveLength(4100);
    await fx.store.setHitStatus(status('m4099', 'ES', 'declined'));
    await fx.store.setHitStatus(status('m0', 'PT', 'confirmed'));
    const handles = many.map((m) => m.handle);
    expect((await fx.store.hitStatuses([...handles, ...handles])).map((s) => s.handle).sort()).toEqual(['m0', 'm4099']);
    expect(await fx.store.pruneNightlyHits(PAIR, 'e1', [])).toBe(4098);
  });
});

describe('statuses and query hits', () => {
  it('sets a holder’s final status once: set, same, conflict', async () => {
    expect(await fx.store.setHitStatus(status('h', 'PT', 'confirmed'))).toBe('set');
    expect(await fx.store.setHitStatus({ ...status('h', 'PT', 'confirmed'), note: 'again', officer: 'o-2' })).toBe('same');
    expect(await fx.store.setHitStatus(status('h', 'PT', 'declined'))).toBe('conflict');
    expect(await fx.store.setHitStatus(status('h', 'ES', 'declined'))).toBe('set');
    expect((await fx.store.hitStatuses(['h'])).sort((a, b) => (a.agency < b.agency ? -1 : 1))).toEqual([status('h', 'ES', 'declined'), status('h', 'PT', 'confirmed')]);
    expect(await fx.store.hitStatuses([])).toEqual([]);
    const racing = await Promise.all((['confirmed', 'declined', 'confirmed', 'declined'] as const).map((s) => fx.store.setHitStatus(status('r', 'PT', s))));
    expect(racing.filter((r) => r === 'set')).toHaveLength(1);
  });

  it('lists query hits the agency asked for or holds, and finds nightly and query hits by handle', async () => {
    const q = newQuery(['PT', 'FR']);
    await fx.store.createQuery(q, quotaOf(['PT', 'FR'], 5), DAY);
    await fx.store.recordOutcome(q.id, 'PT', { hits: [{ index: 0, handle: 'shared', pairId: PAIR, epoch: 'e1', position: 4 }], noHits: 1, error: null, at: AT });
    await fx.store.recordOutcome(q.id, 'FR', { hits: [{ index: 1, handle: 'fr-only', pairId: 'es-fr~ES~FR', epoch: 'e1', position: null }], noHits: 1, error: null, at: AT });
    await fx.store.upsertNightlyHits(PAIR, 'e1', [matched('shared', 4, 9)]);
    const hit = { queryId: q.id, partner: 'PT', requester: 'ES', index: 0, handle: 'shared', pairId: PAIR, epoch: 'e1', position: 4, caseRef: 'OP-1', purpose: 'terrorism', createdAt: AT };
    expect(await fx.store.listQueryHits('PT')).toEqual([hit]);
    expect((await fx.store.listQueryHits('ES')).map((h) => h.handle).sort()).toEqual(['fr-only', 'shared']);
    expect(await fx.store.listQueryHits('XX')).toEqual([]);
    expect(await fx.store.hitsByHandle('shared')).toEqual({ nightly: [{ pairId: PAIR, handle: 'shared', epoch: 'e1', posA: 4, posB: 9, createdAt: AT }], query: [hit] });
    expect(await fx.store.hitsByHandle('none')).toEqual({ nightly: [], query: [] });
  });
});
