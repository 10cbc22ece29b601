// The maintenance the coordinator runs on its own, with the defaults of a
// fresh deployment (src/config.ts): a pair's blinded data goes once its
// agreement ended or after retention.idleDays without an upload, an ended
// epoch's data after retention.dataDays (its matches carried for handle
// continuity), and the epoch rotates every epochs.rotateDays, once however
// many ticks race. Runs on every store; the clock is the harness's.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../protocol/engine/index.js';
import { createServices } from '../../src/app.js';
import { defaultConfig } from '../../src/config.js';
import type { Services } from '../../src/context.js';
import { maintenanceTick } from '../../src/maintenance.js';
import { addAgreement, makeHarness, type Harness } from '../coordinator-harness.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { PAIR, setupScene } from '../coordinator-scenario.js';
import type { SimAgency } from '../coordinator-sim.js';

const DAY = 86_400_000;

let engine: Engine;
beforeAll(async () => {
  engine = await loadTestEngine();
});

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** The services scheduled work runs on, over the harness's store and clock (as `coordinator serve` builds them). */
function services(): Services {
  return createServices({ store: h.store, now: () => h.clock.now });
}

async function pairCount(sql: string): Promise<number> {
  return Number((await h.pairRows(PAIR, sql))[0]?.n);
}

/** Every bulk row the pair holds, of every epoch. */
async function bulkRows(): Promise<number> {
  let n = 0;
  for (const t of ['chunks', 'tokens', 'removals', 'canaries', 'matches', 'carried_matches']) n += await pairCount(`SELECT count(*) AS n FROM ${t}`);
  return n;
}

async function purge(): Promise<Record<string, number>> {
  const r = await h.json(h.admin, 'POST', '/v1/admin/purge', { body: {} });
  expect(r.status).toBe(200);
  return r.body.purged;
}

async function audit(action: string) {
  return (await h.store.readAudit(0, 100_000)).filter((e) => e.action === action);
}

const at = (days: number, ms = 0) => new Date(Date.parse('2026-03-10T12:00:00Z') + days * DAY + ms);

describe('retention with the defaults', () => {
  it('has finite defaults: data 7 days past its epoch, 45 idle days, rotation every 30 days', () => {
    expect(defaultConfig()).toMatchObject({ retention: { dataDays: 7, idleDays: 45 }, epochs: { rotateDays: 30 } });
  });

  it("purges a pair's data of every epoch once its agreement's validity ended, not a day before; hits stay", async () => {
    h = await makeHarness();
    await setupScene(h, engine, { validUntil: '2026-03-20' });
    const held = await bulkRows();
    expect(held).toBeGreaterThan(0);
    const hits = (await h.controlRows('SELECT count(*) AS n FROM nightly_hits'))[0]?.n;
    expect(hits).toBeGreaterThan(0);

    // The last day of validity: in force.
    h.clock.now = new Date('2026-03-20T23:59:00Z');
    expect((await purge()).chunks).toBe(0);
    expect(await bulkRows()).toBe(held);
    expect(await audit('pair.purged')).toEqual([]);

    h.clock.now = new Date('2026-03-21T00:00:00Z');
    const p = await purge();
    expect(p.chunks).toBeGreaterThan(0);
    expect(p.tokens).toBeGreaterThan(0);
    expect(await bulkRows()).toBe(0);
    const [entry, ...more] = await audit('pair.purged');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ actor: 'admin', subject: PAIR, detail: { reason: 'agreement-ended', epochs: ['e1'], chunks: p.chunks, tokens: p.tokens } });
    expect((await audit('retention.purged')).at(-1)?.detail).toMatchObject({ pairsPurged: 1, idleDays: 45, dataDays: 7 });
    // Hits are control-plane rows: they outlive the pair's data.
    expect((await h.controlRows('SELECT count(*) AS n FROM nightly_hits'))[0]?.n).toBe(hits);
    // Once is enough.
    expect((await purge()).chunks).toBe(0);
    expect(await audit('pair.purged')).toHaveLength(1);
  });

  it('purges the data of a pair whose agreement was superseded by a version without both parties', async () => {
    h = await makeHarness();
    await setupScene(h, engine);
    expect(await bulkRows()).toBeGreaterThan(0);
    expect((await purge()).chunks).toBe(0);
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'FR-OCRTEH'] });
    expect((await purge()).chunks).toBeGreaterThan(0);
    expect(await bulkRows()).toBe(0);
    expect((await audit('pair.purged')).map((e) => [e.subject, e.detail.reason])).toEqual([[PAIR, 'agreement-ended']]);
  });

  it('purges a pair neither side uploaded to for 45 days, counting from the latest upload of either side', async () => {
    h = await makeHarness();
    const { pt } = await setupScene(h, engine);
    const heldChunks = await pairCount('SELECT count(*) AS n FROM chunks');

    // Day 44: PT withdraws one of its positions, an upload.
    h.clock.now = at(44);
    expect((await h.json(pt.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [0] } })).status).toBe(200);
    // 45 days after the nightly run the pair is not idle: PT uploaded on day 44.
    h.clock.now = at(45, 3_600_000);
    expect((await purge()).chunks).toBe(0);
    // Nothing went: the chunks are all there and the removal is kept (it may have retracted a match, so count the tables themselves).
    expect(await pairCount('SELECT count(*) AS n FROM chunks')).toBe(heldChunks);
    expect(await pairCount('SELECT count(*) AS n FROM removals')).toBe(1);
    h.clock.now = at(44 + 45, -60_000);
    expect((await purge()).chunks).toBe(0);
    expect(await audit('pair.purged')).toEqual([]);

    h.clock.now = at(44 + 45);
    const p = await purge();
    expect(p).toMatchObject({ pairEpochs: 1, removals: 1 });
    expect(p.chunks).toBeGreaterThan(0);
    expect(await bulkRows()).toBe(0);
    expect((await audit('pair.purged')).map((e) => e.detail)).toEqual([
      expect.objectContaining({ reason: 'idle', lastUpload: at(44).toISOString(), idleDays: 45, epochs: ['e1'], removals: 1 }),
    ]);
  });

  it("purges an ended epoch's data 7 days after it ended and keeps its matches for handle continuity", async () => {
    h = await makeHarness();
    await setupScene(h, engine);
    const matches = await pairCount("SELECT count(*) AS n FROM matches WHERE epoch = 'e1'");
    expect(matches).toBeGreaterThan(0);
    h.clock.now = at(10);
    expect((await h.json(h.admin, 'POST', '/v1/admin/epochs/rotate', { body: {} })).status).toBe(201);
    // Nobody syncs in e2 yet: the pair is not complete there, so only retention purges e1.
    h.clock.now = at(17, -60_000);
    expect((await purge()).pairEpochs).toBe(0);
    h.clock.now = at(17);
    const p = await purge();
    expect(p.pairEpochs).toBe(1);
    expect(await pairCount("SELECT count(*) AS n FROM chunks WHERE epoch = 'e1'")).toBe(0);
    // The matches of the epoch right before the current one stay as positions and handles, for links still to come.
    expect(await pairCount("SELECT count(*) AS n FROM carried_matches WHERE epoch = 'e1'")).toBe(matches);
    expect((await audit('epoch.purged')).at(-1)).toMatchObject({ subject: PAIR, detail: { reason: 'retention', epochs: ['e1'] } });
  });
});

describe('scheduled epoch rotation', () => {
  it('rotates on the maintenance tick once the epoch is 30 days old, not before, audited by the coordinator', async () => {
    h = await makeHarness();
    const svc = services();
    h.clock.now = at(30, -1);
    expect((await maintenanceTick(svc)).rotated).toBeNull();
    expect((await h.store.currentEpoch()).id).toBe('e1');
    expect(await audit('epoch.rotated')).toEqual([]);

    h.clock.now = at(30);
    expect((await maintenanceTick(svc)).rotated).toBe('e2');
    expect(await h.store.currentEpoch()).toEqual({ id: 'e2', startedAt: at(30).toISOString() });
    expect(await audit('epoch.rotated')).toMatchObject([{ actor: 'coordinator', subject: 'e2', detail: { previous: 'e1', startedAt: at(30).toISOString(), rotateDays: 30 } }]);
    // The tick also ran the retention purge.
    expect((await audit('retention.purged')).map((e) => e.actor)).toEqual(['coordinator', 'coordinator']);
    expect((await h.json(undefined, 'GET', '/')).body.epoch).toBe('e2');

    // The next 30 days count from the new epoch's start.
    h.clock.now = at(59);
    expect((await maintenanceTick(svc)).rotated).toBeNull();
    h.clock.now = at(60);
    expect((await maintenanceTick(svc)).rotated).toBe('e3');
  });

  it('rotates once under concurrent ticks of two coordinators on one store', async () => {
    h = await makeHarness();
    h.clock.now = at(31);
    const ticks = await Promise.all([maintenanceTick(services()), maintenanceTick(services()), maintenanceTick(services())]);
    expect(ticks.map((t) => t.rotated).filter((x) => x !== null)).toEqual(['e2']);
    expect((await h.store.listEpochs()).map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(await audit('epoch.rotated')).toHaveLength(1);
    expect((await h.store.rotateEpochIfStartedBy(at(1).toISOString(), at(31).toISOString()))).toBeUndefined();
  });

  it('leaves an agency that syncs after the rotation to re-key for the new epoch', async () => {
    h = await makeHarness();
    const { es }: { es: SimAgency } = await setupScene(h, engine);
    h.clock.now = at(30);
    await maintenanceTick(services());
    const me = (await h.json(es.signer, 'GET', '/v1/me')).body;
    expect(me.epoch).toEqual({ id: 'e2', startedAt: at(30).toISOString() });
    expect(me.pairs[0]).toMatchObject({ myEpochKey: null });
  });
});
