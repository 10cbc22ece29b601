// Count mode releases only a count, and probing is bounded (protocol/SPEC.md
// §3.3): a count pair's count comes from a snapshot taken at most once per
// interval and only after the minimum churn; a side uploads at most
// UPLOAD_CAP_FACTOR × maxSetSize + UPLOAD_CAP_ALLOWANCE positions per epoch;
// heavy withdrawal raises one audited churn alert per side and epoch.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import type { Engine } from '../../protocol/engine/index.js';
import { addAgreement, epochKeyPair, makeHarness, type Harness, type Signer } from '../coordinator-harness.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { emails, SimAgency as BaseSim, type Item } from '../coordinator-sim.js';
import { uploadCap } from '../../wire/index.js';

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
const HOUR = 3_600_000;

function elements(n: number, tag: string): Uint8Array {
  const inputs = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`email\u0000${tag}${i}@example.org`));
  return engine.blind(CONCORDAT_SUITE, epochKeyPair().sk, inputs);
}

let h: Harness;
let es: SimAgency;
let pt: SimAgency;
let shared: Item[];

async function setup(mode: 'reveal' | 'count', maxSetSize: number) {
  h = await makeHarness();
  shared = emails('shared', 5, 'example.org');
  es = new SimAgency(h, await h.addAgency('ES-CNP', 'ESP'), [...emails('es.only', 40, 'es.example'), ...shared]);
  pt = new SimAgency(h, await h.addAgency('PT-PJ', 'PRT'), [...emails('pt.only', 30, 'pt.example'), ...shared]);
  await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], mode, maxSetSize });
  await es.publish();
  await pt.publish();
}

afterEach(async () => {
  await h.close();
});

const withdraw = async (a: SimAgency, positions: number[]) =>
  expect((await h.json(a.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions } })).status).toBe(200);

describe('count snapshots', () => {
  beforeEach(async () => {
    // maxSetSize 1,000: the minimum churn is max(16, 1 % of 1,000) = 16.
    await setup('count', 1000);
    await es.upload(PAIR, pt.kp.pk, es.items, 8, 20);
    await pt.upload(PAIR, es.kp.pk, pt.items, 8, 20);
    await es.work();
    await pt.work();
  });

  it('withdrawing one matched item and re-reading reveals nothing until the next snapshot', async () => {
    const t0 = h.clock.now.toISOString();
    const first = (await es.results()).pairs[0];
    expect(first).toMatchObject({ mode: 'count', state: 'complete', count: shared.length, countTakenAt: t0 });

    // The probe: withdraw one matched position, re-read. The count the live matches would give is 4.
    h.clock.now = new Date(h.clock.now.getTime() + HOUR);
    await withdraw(es, [es.positionOf(shared[0] as Item)]);
    expect(Number((await h.pairRows(PAIR, 'SELECT count(*) AS n FROM matches'))[0]?.n)).toBe(shared.length - 1);
    for (const a of [es, pt]) expect((await a.results()).pairs[0]).toMatchObject({ state: 'complete', count: shared.length, countTakenAt: t0 });

    // Enough churn (16 positions changed) but not the interval: still the first count.
    const unmatched = es.slots.flatMap((s, i) => (s.type === 'item' && s.item.raw.startsWith('es.only') ? [i] : [])).slice(0, 15);
    await withdraw(es, unmatched);
    h.clock.now = new Date(new Date(t0).getTime() + 23 * HOUR);
    expect((await es.results()).pairs[0]).toMatchObject({ count: shared.length, countTakenAt: t0 });

    // The interval passed and the churn reached the minimum: a new count.
    h.clock.now = new Date(new Date(t0).getTime() + 24 * HOUR);
    const t1 = h.clock.now.toISOString();
    expect((await pt.results()).pairs[0]).toMatchObject({ count: shared.length - 1, countTakenAt: t1 });
    expect((await es.results()).pairs[0]).toMatchObject({ count: shared.length - 1, countTakenAt: t1 });

    // A day later one more matched item withdrawn: the interval passed, the churn (1) did not reach 16.
    h.clock.now = new Date(new Date(t1).getTime() + 48 * HOUR);
    await withdraw(es, [es.positionOf(shared[1] as Item)]);
    expect((await es.results()).pairs[0]).toMatchObject({ count: shared.length - 1, countTakenAt: t1 });

    const audit = await h.store.readAudit(0, 100_000);
    const snaps = audit.filter((e) => e.action === 'pair.count_snapshot');
    expect(snaps.map((e) => e.at)).toEqual([t0, t1]);
    expect(snaps[1]).toMatchObject({ actor: 'coordinator', subject: PAIR, detail: { epoch: 'e1', minChurn: 16 } });
    expect(JSON.stringify(snaps)).not.toMatch(/"count"/);
  });

  it('takes no count of a pair waiting for tokens, and purges snapshots with the epoch data', async () => {
    await es.results();
    // A new chunk makes the pair wait: nothing is released and no snapshot is taken meanwhile.
    h.clock.now = new Date(h.clock.now.getTime() + 25 * HOUR);
    await es.upload(PAIR, pt.kp.pk, emails('es.late', 20, 'es.example'), 0, 20);
    const waiting = (await es.results()).pairs[0];
    expect(waiting.state).toBe('waiting');
    expect(waiting.count).toBeUndefined();
    expect(waiting.countTakenAt).toBeUndefined();
    expect(await h.pairRows(PAIR, 'SELECT count(*) AS n FROM count_snapshots')).toEqual([{ n: 1 }]);

    const ps = h.store.pair(PAIR);
    expect(await ps.getCountSnapshot('e1')).toMatchObject({ count: shared.length });
    await ps.purgeEpochs(['e1'], undefined);
    expect(await h.pairRows(PAIR, 'SELECT count(*) AS n FROM count_snapshots')).toEqual([{ n: 0 }]);
  });
});

describe('per-epoch upload cap', () => {
  it('refuses, with 409 upload-cap and an audit entry, a chunk that would take the side over the cap, storing nothing', async () => {
    await setup('reveal', 1000);
    const cap = uploadCap(1000);
    expect(cap).toBe(6096);
    // Upload, withdraw, repeat: the live set never exceeds 1,000, the epoch's uploads reach the cap exactly.
    const sizes = [1000, 1000, 1000, 1000, 1000, 1000, 96];
    let index = 0;
    let position = 0;
    for (const n of sizes) {
      const r = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/${index}`, { body: elements(n, `c${index}.`) });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      await withdraw(
        es,
        Array.from({ length: n }, (_, i) => position + i),
      );
      index++;
      position += n;
    }
    expect(position).toBe(cap);
    const over = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/${index}`, { body: elements(1, 'over') });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ type: 'urn:concordat:problem:upload-cap', field: 'body' });
    expect(over.body.detail).toContain('6096');
    const audit = (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'pair.upload_cap');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'ES-CNP', subject: PAIR, outcome: 'upload-cap', detail: { epoch: 'e1', index, uploaded: cap, count: 1, cap } });
    expect(await h.pairRows(PAIR, 'SELECT count(*) AS n, sum(count) AS size FROM chunks WHERE side = 0')).toEqual([{ n: sizes.length, size: cap }]);
    const st = await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/status`);
    expect(st.body.mine).toMatchObject({ size: cap, removed: cap });
    // The partner's side has its own cap.
    expect((await h.json(pt.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: elements(1, 'pt') })).status).toBe(201);
  });
});

describe('churn alert', () => {
  it('writes one audited alert per side and epoch when its removals first exceed 25 % of the maximum set size', async () => {
    await setup('reveal', 1000);
    expect((await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: elements(400, 'a') })).status).toBe(201);
    expect((await h.json(pt.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: elements(300, 'b') })).status).toBe(201);
    const alerts = async () => (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'pair.churn_alert');
    await withdraw(es, Array.from({ length: 250 }, (_, i) => i));
    expect(await alerts()).toEqual([]);
    await withdraw(es, [250]);
    const t = h.clock.now.toISOString();
    await withdraw(es, [251, 252, 253]);
    await withdraw(es, Array.from({ length: 100 }, (_, i) => 254 + i));
    expect(await alerts()).toMatchObject([{ actor: 'coordinator', subject: PAIR, outcome: 'ok', detail: { epoch: 'e1', side: 'ES-CNP', removed: 251, threshold: 250 } }]);
    expect(await h.pairRows(PAIR, 'SELECT side, churn_alert_at AS at FROM side_state WHERE churn_alert_at IS NOT NULL')).toEqual([{ side: 0, at: t }]);
    // The other side is counted on its own.
    await withdraw(pt, Array.from({ length: 251 }, (_, i) => i));
    expect((await alerts()).map((e) => e.detail.side)).toEqual(['ES-CNP', 'PT-PJ']);
  });
});

describe('probing settings', () => {
  it('are in the deployment configuration, validated by field', async () => {
    await setup('reveal', 1000);
    const cfg = await h.json(h.admin, 'GET', '/v1/admin/config');
    expect(cfg.body.probing).toEqual({ snapshotHours: 24, snapshotMinChurn: 16, snapshotMinChurnPercent: 1, churnAlertPercent: 25 });
    for (const [probing, field] of [
      [{ snapshotHours: 0 }, 'body.probing.snapshotHours'],
      [{ snapshotMinChurn: 1.5 }, 'body.probing.snapshotMinChurn'],
      [{ churnAlertPercent: 0 }, 'body.probing.churnAlertPercent'],
      // Whole percents: the audited config is canonical JSON, which holds integers only (a fraction was a 500).
      [{ churnAlertPercent: 53.5 }, 'body.probing.churnAlertPercent'],
      [{ snapshotMinChurnPercent: 4.087253543678886e-166 }, 'body.probing.snapshotMinChurnPercent'],
      [{ other: 1 }, 'body.probing'],
    ] as const) {
      const r = await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { probing } });
      expect(r.status, JSON.stringify(probing)).toBe(422);
      expect(r.body.field).toBe(field);
    }
    // A change is stored and outlives the request; members not given keep their values.
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { probing: { snapshotHours: 12 } } })).status).toBe(200);
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { probing: { churnAlertPercent: 40 } } })).status).toBe(200);
    expect((await h.json(h.admin, 'GET', '/v1/admin/config')).body.probing).toEqual({ snapshotHours: 12, snapshotMinChurn: 16, snapshotMinChurnPercent: 1, churnAlertPercent: 40 });
  });
});
