// Governance around the exchange: deployment configuration, epoch rotation
// with purge and handle continuity, retention and the audit chain after a
// purge. Runs on every store; the CLI's audit verify and export on the SQLite
// file, and the migration of a database from before part 2, are in
// coordinator-sqlite.test.ts.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocol/bytes.js';
import type { Engine } from '../../protocol/engine/index.js';
import { verifyAuditChain } from '../../src/audit.js';
import { addAgreement, makeHarness, type Harness, type Signer } from '../coordinator-harness.js';
import { loadTestEngine } from '../coordinator-runtime.js';
import { PAIR, esOnly, ptOnly, query as sceneQuery, setupScene, shared } from '../coordinator-scenario.js';
import { item, keyOf, type Item, type MatchEntry, type SimAgency } from '../coordinator-sim.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadTestEngine();
});

let h: Harness;
let es: SimAgency;
let pt: SimAgency;
let fr: Signer;

afterEach(async () => {
  await h?.close();
});

async function setup(agreement: Record<string, unknown> = {}): Promise<void> {
  h = await makeHarness({ notifier: true });
  ({ es, pt, fr } = await setupScene(h, engine, agreement));
}

function query(values: Item[]) {
  return sceneQuery({ h, es, pt, fr }, values);
}

/** One number from a count query on the pair's tables. */
async function pairCount(sql: string): Promise<number> {
  return Number((await h.pairRows(PAIR, sql))[0]?.n);
}

describe('deployment configuration', () => {
  it('has defaults, changes through the admin API, and closes the list of purposes', async () => {
    await setup({ purposes: ['terrorism', 'cybercrime'] });
    const cfg = await h.json(h.admin, 'GET', '/v1/admin/config');
    expect(cfg).toEqual({
      status: 200,
      body: {
        purposes: ['terrorism', 'drug_trafficking', 'human_trafficking', 'cybercrime', 'money_laundering', 'organised_crime'],
        retention: { dataDays: 7, idleDays: 45, auditDays: 730 },
        epochs: { rotateDays: 30 },
        probing: { snapshotHours: 24, snapshotMinChurn: 16, snapshotMinChurnPercent: 1, churnAlertPercent: 25 },
      },
    });
    expect((await h.json(es.signer, 'GET', '/v1/admin/config')).status).toBe(403);
    const set = await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { purposes: ['terrorism', 'fraud'], retention: { dataDays: 10 } } });
    expect(set.body).toMatchObject({ purposes: ['terrorism', 'fraud'], retention: { dataDays: 10, idleDays: 45, auditDays: 730 } });
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { auditDays: 90 } } })).body.retention).toEqual({ dataDays: 10, idleDays: 45, auditDays: 90 });
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { dataDays: null } } })).body.retention).toEqual({ dataDays: null, idleDays: 45, auditDays: 90 });
    // The idle retention and the rotation period are stored; null turns each off.
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { idleDays: 60 }, epochs: { rotateDays: 14 } } })).status).toBe(200);
    expect((await h.json(h.admin, 'GET', '/v1/admin/config')).body).toMatchObject({ retention: { dataDays: null, idleDays: 60, auditDays: 90 }, epochs: { rotateDays: 14 } });
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { idleDays: null }, epochs: { rotateDays: null } } })).status).toBe(200);
    expect((await h.json(h.admin, 'GET', '/v1/admin/config')).body).toMatchObject({ retention: { idleDays: null }, epochs: { rotateDays: null } });
    for (const [body, field] of [
      [{ purposes: [] }, 'body.purposes'],
      [{ purposes: ['Terror'] }, 'body.purposes[0]'],
      [{ purposes: ['a', 'a'] }, 'body.purposes'],
      [{ retention: { auditDays: 0 } }, 'body.retention.auditDays'],
      [{ retention: { dataDays: -1 } }, 'body.retention.dataDays'],
      [{ retention: { idleDays: 0 } }, 'body.retention.idleDays'],
      [{ epochs: { rotateDays: -1 } }, 'body.epochs.rotateDays'],
      [{ epochs: { rotateDays: 1.5 } }, 'body.epochs.rotateDays'],
      [{ epochs: { other: 1 } }, 'body.epochs'],
      [{ other: 1 }, 'body'],
    ] as const) {
      const r = await h.json(h.admin, 'PUT', '/v1/admin/config', { body });
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.body.field).toBe(field);
    }
    // Agreements take purposes from the deployment list only; the default is the whole list.
    const bad = await h.json(h.admin, 'POST', '/v1/admin/agreements', {
      body: { id: 'es-fr', parties: ['ES-CNP', 'FR-OCRTEH'], kinds: ['email'], mode: 'reveal', validUntil: '2026-12-31', legalBasis: 'x', purposes: ['fraud', 'cybercrime'] },
    });
    expect(bad).toMatchObject({ status: 422, body: { field: 'body.purposes[1]' } });
    const ok = await addAgreement(h, { id: 'es-fr', parties: ['ES-CNP', 'FR-OCRTEH'], queryQuota: { perDay: 5 } });
    expect(ok).toMatchObject({ purposes: ['fraud', 'terrorism'], queryQuota: { perDay: 5, maxValues: 100 } });
    // A purpose dropped from the deployment list can no longer be cited, even where an agreement names it.
    expect((await h.json(es.signer, 'GET', '/v1/me')).body.pairs.find((p: any) => p.pair === PAIR).purposes).toEqual(['terrorism']);
    const q = es.blindQuery([item('email', 'a@b.example')]);
    const refused = await h.json(es.signer, 'POST', '/v1/queries', {
      body: { partners: ['PT-PJ'], kind: 'email', purpose: 'cybercrime', caseRef: 'c', officer: 'o', blinded: q.blinded.map(bytesToHex) },
    });
    expect(refused.body.type).toBe('urn:concordat:problem:purpose');
    const audit = await h.store.readAudit(0, 10_000);
    expect(audit.filter((e) => e.action === 'config.updated')).toHaveLength(5);
  });
});

describe('epoch rotation', () => {
  it('refuses stale uploads, purges the old epoch once the new run completes, and keeps handles, first-seen times and hits', async () => {
    await setup();
    const e1Results = { es: (await es.results()).pairs[0], pt: (await pt.results()).pairs[0] };
    const e1 = { es: es.matchedItems(e1Results.es), pt: pt.matchedItems(e1Results.pt), esSlots: es.slots, ptSlots: pt.slots };
    expect(e1.es.size).toBe(5);
    const target = shared[0] as Item;
    const confirmedHandle = e1.es.get(keyOf(target))?.handle as string;
    expect((await h.json(es.signer, 'POST', `/v1/hits/${confirmedHandle}/confirm`, { body: { officer: 'es-officer-2' } })).status).toBe(200);
    const qHit = await query([ptOnly[4] as Item]);
    expect(qHit.handles).toHaveLength(1);
    const e1Seen = h.clock.now.toISOString();

    h.clock.now = new Date(h.clock.now.getTime() + 30 * 86_400_000);
    expect((await h.json(es.signer, 'POST', '/v1/admin/epochs/rotate', { body: {} })).status).toBe(403);
    const rot = await h.json(h.admin, 'POST', '/v1/admin/epochs/rotate', { body: {} });
    expect(rot).toEqual({ status: 201, body: { epoch: { id: 'e2', startedAt: h.clock.now.toISOString() }, previous: 'e1' } });
    expect((await h.json(undefined, 'GET', '/')).body.epoch).toBe('e2');
    const me = (await h.json(es.signer, 'GET', '/v1/me')).body;
    expect(me.epoch).toEqual({ id: 'e2', startedAt: h.clock.now.toISOString() });
    expect(me.pairs[0]).toMatchObject({ myEpochKey: null, partnerEpochKey: null });

    // Uploads for the old epoch are stale; without the header, the new epoch's key is required first.
    const element = es.kp.pk;
    const stale = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: element, headers: { 'Concordat-Epoch': 'e1' } });
    expect(stale).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:stale-epoch', field: 'header.concordat-epoch' } });
    const staleTokens = await h.json(pt.signer, 'PUT', `/v1/pairs/${PAIR}/partner-set/chunks/0/tokens`, { body: new Uint8Array(16), headers: { 'Concordat-Epoch': 'e1' } });
    expect(staleTokens.body.type).toBe('urn:concordat:problem:stale-epoch');
    const noKey = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: element });
    expect(noKey).toMatchObject({ status: 409, body: { type: 'urn:concordat:problem:epoch-key-required' } });
    expect((await es.results()).pairs[0]).toMatchObject({ state: 'waiting' });
    const e1Rows = await pairCount("SELECT count(*) AS n FROM tokens WHERE epoch = 'e1'");
    expect(e1Rows).toBe(es.slots.length + pt.slots.length);

    // New keys from the same seeds, everything re-blinded; a new shared suspect appears in ES's list.
    const newShared = shared[5] as Item;
    es.enterEpoch('e2');
    pt.enterEpoch('e2');
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, [...esOnly, ...shared], 4, 16);
    await pt.upload(PAIR, es.kp.pk, pt.items, 4, 16);
    const linksOf = (sim: SimAgency, prev: Map<string, MatchEntry>) =>
      sim.slots.flatMap((s, position) => (s.type === 'item' && prev.has(keyOf(s.item)) ? [{ position, previous: (prev.get(keyOf(s.item)) as MatchEntry).position }] : []));
    const put = (sim: SimAgency, body: object, epoch = 'e2') => h.json(sim.signer, 'PUT', `/v1/pairs/${PAIR}/set/links`, { body, headers: { 'Concordat-Epoch': epoch } });
    const esLinks = linksOf(es, e1.es);
    expect(esLinks).toHaveLength(5);
    expect((await put(es, { previousEpoch: 'e0', links: esLinks })).body.field).toBe('body.previousEpoch');
    expect((await put(es, { previousEpoch: 'e1', links: [{ position: 10_000, previous: 0 }] })).body.field).toBe('body.links[0].position');
    expect((await put(es, { previousEpoch: 'e1', links: esLinks }, 'e1')).status).toBe(409);
    // ES links before the tokens arrive, PT only after the pair completed: both orders keep the handle.
    expect(await put(es, { previousEpoch: 'e1', links: esLinks })).toEqual({ status: 200, body: { linked: 5 } });
    expect(await put(es, { previousEpoch: 'e1', links: esLinks })).toEqual({ status: 200, body: { linked: 5 } });
    const moved = esLinks[0] as { position: number; previous: number };
    expect((await put(es, { previousEpoch: 'e1', links: [{ position: moved.position, previous: moved.previous + 1 }] })).status).toBe(409);
    await es.work();
    await pt.work();
    expect((await es.results()).pairs[0].state).toBe('complete');

    // Complete in e2: e1's blinded data, tokens and matches are gone, audited.
    for (const t of ['chunks', 'tokens', 'canaries', 'matches', 'side_state', 'pair_state', 'handles']) {
      expect(await pairCount(`SELECT count(*) AS n FROM ${t} WHERE epoch = 'e1'`), t).toBe(0);
    }
    expect(await pairCount("SELECT count(*) AS n FROM tokens WHERE epoch = 'e2'")).toBeGreaterThan(0);
    const purged = (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'epoch.purged');
    expect(purged).toHaveLength(1);
    expect(purged[0]).toMatchObject({ actor: 'coordinator', subject: PAIR, detail: { reason: 'complete', epochs: ['e1'], tokens: e1Rows, matches: 5 } });

    expect(await put(pt, { previousEpoch: 'e1', links: linksOf(pt, e1.pt) })).toEqual({ status: 200, body: { linked: 5 } });
    const linked = (await h.store.readAudit(0, 100_000)).filter((e) => e.action === 'links.registered');
    expect(linked.map((e) => [e.actor, e.detail.count, e.detail.rehandled])).toEqual([
      ['ES-CNP', 5, 0],
      ['PT-PJ', 5, 5],
    ]);
    const e2 = { es: es.matchedItems((await es.results()).pairs[0]), pt: pt.matchedItems((await pt.results()).pairs[0]) };
    expect(e2.es.size).toBe(6);
    for (const s of shared.slice(0, 5)) {
      expect(e2.es.get(keyOf(s))?.handle, s.raw).toBe(e1.es.get(keyOf(s))?.handle);
      expect(e2.pt.get(keyOf(s))?.handle).toBe(e1.es.get(keyOf(s))?.handle);
      expect(e2.es.get(keyOf(s))?.firstSeen).toBe(e1Seen);
    }
    expect([...e1.es.values()].map((m) => m.handle)).not.toContain(e2.es.get(keyOf(newShared))?.handle);
    expect(e2.es.get(keyOf(newShared))?.firstSeen).toBe(h.clock.now.toISOString());

    // Hits survive: the same handles (one per record), now at their e2 positions, statuses kept; the query hit of e1 stays.
    const hits = (await h.json(es.signer, 'GET', '/v1/hits')).body.hits;
    const nightlyHits = hits.filter((x: any) => x.source === 'nightly');
    expect(nightlyHits.map((x: any) => x.handle).sort()).toEqual([...e2.es.values()].map((m) => m.handle).sort());
    const kept = nightlyHits.find((x: any) => x.handle === confirmedHandle);
    expect(kept).toMatchObject({ epoch: 'e2', myStatus: 'confirmed', partnerStatus: 'unverified', createdAt: e1Seen, position: e2.es.get(keyOf(target))?.position });
    expect(es.slots[kept.position]).toEqual({ type: 'item', item: target });
    expect(hits.filter((x: any) => x.source === 'query')).toMatchObject([{ handle: qHit.handles[0], epoch: 'e1', queryId: qHit.id }]);

    // Rotating again: e2 is purged once e3 completes, and the carried e1 matches go with it.
    h.clock.now = new Date(h.clock.now.getTime() + 30 * 86_400_000);
    expect((await h.json(h.admin, 'POST', '/v1/admin/epochs/rotate', { body: {} })).body.previous).toBe('e2');
    const e2Matches = { es: e2.es, pt: e2.pt };
    es.enterEpoch('e3');
    pt.enterEpoch('e3');
    await es.publish();
    await pt.publish();
    await es.upload(PAIR, pt.kp.pk, shared, 2, 16);
    await pt.upload(PAIR, es.kp.pk, shared, 2, 16);
    expect(await put(es, { previousEpoch: 'e2', links: linksOf(es, e2Matches.es) }, 'e3')).toEqual({ status: 200, body: { linked: 6 } });
    expect(await put(pt, { previousEpoch: 'e2', links: linksOf(pt, e2Matches.pt) }, 'e3')).toEqual({ status: 200, body: { linked: 6 } });
    await es.work();
    await pt.work();
    const e3 = es.matchedItems((await es.results()).pairs[0]);
    for (const s of shared) expect(e3.get(keyOf(s))?.handle).toBe(e2.es.get(keyOf(s))?.handle);
    expect(await pairCount("SELECT count(*) AS n FROM chunks WHERE epoch != 'e3'")).toBe(0);
    expect((await h.pairRows(PAIR, 'SELECT epoch FROM carried_matches GROUP BY epoch')).map((r) => r.epoch)).toEqual(['e2']);
  });
});

describe('retention', () => {
  it('purges exactly what is past retention, audits it, and the chain still verifies from the checkpoint', async () => {
    await setup();
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { dataDays: 1, auditDays: 30 } } })).status).toBe(200);
    const q = await query([shared[0] as Item, ptOnly[2] as Item]);
    const T0 = h.clock.now.getTime();
    const at = (hours: number) => new Date(T0 + hours * 3_600_000);
    const purge = async () => {
      const r = await h.json(h.admin, 'POST', '/v1/admin/purge', { body: {} });
      expect(r.status).toBe(200);
      return r.body.purged;
    };
    const nothing = { pairEpochs: 0, chunks: 0, tokens: 0, removals: 0, canaries: 0, matches: 0, links: 0, queryValues: 0, quotaCounters: 0, auditEntries: 0 };

    // Before any rotation nothing expires: the current epoch is never purged by retention.
    h.clock.now = at(72);
    expect(await purge()).toEqual({ ...nothing, quotaCounters: 1 });
    h.clock.now = at(73);
    expect((await h.json(h.admin, 'POST', '/v1/admin/epochs/rotate', { body: {} })).status).toBe(201);
    es.enterEpoch('e2');
    await es.publish();
    const e2Chunk = new Uint8Array(es.kp.pk);
    expect((await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: e2Chunk })).status).toBe(201);
    const e1 = { chunks: await pairCount("SELECT count(*) AS n FROM chunks WHERE epoch = 'e1'"), tokens: await pairCount("SELECT count(*) AS n FROM tokens WHERE epoch = 'e1'") };
    expect(e1.tokens).toBeGreaterThan(0);

    // e1 ended at hour 73; one day later its pair data expires, not a moment before.
    h.clock.now = at(73 + 23);
    expect(await purge()).toEqual(nothing);
    h.clock.now = at(73 + 24);
    const p = await purge();
    expect(p).toEqual({ ...nothing, pairEpochs: 1, chunks: e1.chunks, tokens: e1.tokens, canaries: 8, matches: 5 });
    expect(await pairCount("SELECT count(*) AS n FROM chunks WHERE epoch = 'e1'")).toBe(0);
    expect(await pairCount("SELECT count(*) AS n FROM chunks WHERE epoch = 'e2'")).toBe(1);
    expect((await h.json(es.signer, 'GET', `/v1/pairs/${PAIR}/status`)).body.mine.size).toBe(1);
    const audit = await h.store.readAudit(0, 100_000);
    expect(audit.filter((e) => e.action === 'epoch.purged').at(-1)).toMatchObject({ subject: PAIR, detail: { reason: 'retention', epochs: ['e1'] } });
    expect(audit.at(-1)).toMatchObject({ action: 'retention.purged', actor: 'admin', detail: { ...p, auditCheckpoint: null, dataDays: 1, auditDays: 30 } });

    // Query values go with the query's seven-day lifetime; the query and its hits stay.
    h.clock.now = at(7 * 24 + 1);
    expect((await purge()).queryValues).toBe(1);
    const st = (await h.json(es.signer, 'GET', `/v1/queries/${q.id}`)).body;
    expect(st.legs[0]).toEqual({ partner: 'PT-PJ', status: 'answered', pair: 'es-pt~ES-CNP~PT-PJ', agreement: { id: 'es-pt', version: 1 }, epoch: 'e1', partnerEpochKey: { publicKey: expect.any(String), signature: expect.any(String) }, proofValid: true });
    expect((await h.controlRows('SELECT count(*) AS n FROM queries WHERE blinded IS NOT NULL'))[0]?.n).toBe(0);
    const hitHandles = (await h.json(pt.signer, 'GET', '/v1/hits')).body.hits.map((x: any) => x.handle);
    expect(hitHandles).toEqual(expect.arrayContaining(q.handles));

    // Audit entries older than 30 days go; the chain verifies from the checkpoint.
    const before = await h.store.readAudit(0, 100_000);
    h.clock.now = at(31 * 24 + 2);
    const recent = before.filter((e) => e.at >= new Date(h.clock.now.getTime() - 30 * 86_400_000).toISOString());
    const old = before.length - recent.length;
    expect(old).toBeGreaterThan(0);
    expect(recent.length).toBeGreaterThan(0);
    const a = await purge();
    expect(a.auditEntries).toBe(old);
    const lastRemoved = before[old - 1];
    const after = await h.store.readAudit(0, 100_000);
    expect(after[0]?.seq).toBe((lastRemoved?.seq as number) + 1);
    expect(after.at(-1)).toMatchObject({ action: 'retention.purged', detail: { auditEntries: old, auditCheckpoint: { seq: lastRemoved?.seq, hash: bytesToHex(lastRemoved?.hash as Uint8Array) } } });
    expect(await h.store.getAuditCheckpoint()).toEqual({ seq: lastRemoved?.seq, hash: lastRemoved?.hash });
    // The chain verifies from the checkpoint, as `coordinator audit verify` walks it.
    expect(verifyAuditChain(after, (await h.store.getAuditCheckpoint()) ?? undefined)).toEqual({ ok: true, count: after.length });
  });
});
