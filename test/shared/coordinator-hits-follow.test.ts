// Nightly hits follow the matches (src/API.md, "Hits"): a withdrawn record's
// match stops being a hit in the same change that retracts it, so neither
// party lists it and the partner cannot confirm it; adding the record again
// brings the hit back with its handle. Both runtimes.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../protocol/engine/index.js';
import { verifyAuditChain } from '../../src/audit.js';
import { addAgreement, makeHarness, type Harness, type Signer } from '../coordinator-harness.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { emails, keyOf, SimAgency as BaseSim, type Item } from '../coordinator-sim.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadTestEngine();
});

class SimAgency extends BaseSim {
  constructor(h: Harness, signer: Signer, items: Item[]) {
    super(h, engine, signer, items);
  }
}

const PAIR = 'es-pt~ES-CNP~PT-PJ';

describe('nightly hits follow removals and re-additions', () => {
  let h: Harness;
  let es: SimAgency;
  let pt: SimAgency;
  let shared: Item[];

  beforeEach(async () => {
    h = await makeHarness();
    shared = emails('shared.suspect', 6, 'example.org');
    es = new SimAgency(h, await h.addAgency('ES-CNP', 'ESP'), [...emails('es.only', 40, 'policia.example'), ...shared]);
    pt = new SimAgency(h, await h.addAgency('PT-PJ', 'PRT'), [...emails('pt.only', 30, 'pj.example'), ...shared]);
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], mode: 'reveal' });
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, es.items, 4, 32);
    await pt.upload(PAIR, es.kp.pk, pt.items, 4, 32);
    await es.work();
    await pt.work();
  });
  afterEach(async () => {
    await h.close();
  });

  const nightlyHandles = async (s: SimAgency): Promise<string[]> => {
    const r = await h.json(s.signer, 'GET', '/v1/hits');
    expect(r.status).toBe(200);
    return (r.body.hits as { source: string; handle: string }[])
      .filter((x) => x.source === 'nightly')
      .map((x) => x.handle)
      .sort();
  };

  it('withdrawn matches stop being hits at once, cannot be confirmed, and come back when the record is added again', async () => {
    const matched = es.matchedItems((await es.results()).pairs[0]);
    expect(matched.size).toBe(shared.length);
    const all = [...matched.values()].map((m) => m.handle).sort();
    expect(await nightlyHandles(es)).toEqual(all);
    expect(await nightlyHandles(pt)).toEqual(all);

    const [gone1, gone2] = [shared[0], shared[1]].map((it) => matched.get(keyOf(it as Item)) as { position: number; handle: string });
    const rm = await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [gone1?.position, gone2?.position] } });
    expect(rm).toEqual({ status: 200, body: { removed: 2 } });

    // No sync in between: the removal itself took the hits along.
    const left = all.filter((x) => x !== gone1?.handle && x !== gone2?.handle);
    expect(await nightlyHandles(pt)).toEqual(left);
    expect(await nightlyHandles(es)).toEqual(left);
    const refused = await h.json(pt.signer, 'POST', `/v1/hits/${gone1?.handle}/confirm`, { body: { officer: 'pt-officer-1' } });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ type: 'urn:concordat:problem:not-found', status: 404 });
    expect((await h.controlRows('SELECT count(*) AS n FROM hit_status'))[0]?.n).toBe(0);
    const kept = await h.json(pt.signer, 'POST', `/v1/hits/${left[0]}/confirm`, { body: { officer: 'pt-officer-1' } });
    expect(kept.status).toBe(200);

    // Added again: once the partner tokenises the new chunk the same handle is a hit again.
    await es.upload(PAIR, pt.kp.pk, [shared[0] as Item], 2, 32);
    expect(await pt.work()).toBe(1);
    expect(await nightlyHandles(es)).toEqual([...left, gone1?.handle].sort());
    expect((await h.json(pt.signer, 'POST', `/v1/hits/${gone1?.handle}/confirm`, { body: { officer: 'pt-officer-1' } })).status).toBe(200);

    // Every change was audited once, in one chain.
    const entries = await h.store.readAudit(0, 100_000);
    expect(verifyAuditChain(entries).ok).toBe(true);
    expect(entries.filter((e) => e.action === 'removals.applied')).toHaveLength(1);
    expect(entries.filter((e) => e.action === 'hit.confirmed')).toHaveLength(2);
    expect(await h.pairRows(PAIR, 'SELECT count(*) AS n FROM pair_outbox').then((r) => r[0]?.n)).toBe(0);
  });

  it('a hit a holder already decided stays after its record is withdrawn', async () => {
    const matched = es.matchedItems((await es.results()).pairs[0]);
    const target = matched.get(keyOf(shared[2] as Item)) as { position: number; handle: string };
    expect((await h.json(pt.signer, 'POST', `/v1/hits/${target.handle}/decline`, { body: { officer: 'pt-officer-1' } })).status).toBe(200);
    expect((await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [target.position] } })).status).toBe(200);
    expect(await nightlyHandles(es)).toContain(target.handle);
    expect((await nightlyHandles(es)).length).toBe(shared.length);
  });
});
