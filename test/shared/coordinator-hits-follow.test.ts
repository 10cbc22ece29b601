// Nightly hits follow the matches (src/API.md, "Hits"): a withdrawn record's
// match stops being a hit in the same change that retracts it, so neither
// party lists it and the partner cannot confirm it; adding the record again
// brings the hit back with its handle. Both runtimes.
//
// GET /v1/results and GET /v1/hits answer 304 from the revisions the store
// keeps, without building the document: a tag must change with every change
// to what the document lists, on every write path, or an agency would keep a
// stale copy. Each write path the API offers is exercised (new matches, a
// removal retracting them, a re-addition, a decision), then every insert,
// update and delete on the pair tables the results are built from (kept by
// triggers, drizzle/0009_revisions.sql, so a path added later is covered
// too) and every store method that writes hits (the query hit of an outcome:
// coordinator-queries.test.ts).
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

describe('nightly hits follow removals and re-additions, and the tags of results and hits every change', () => {
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

  /** A conditional GET: status, ETag and the body of a 200. */
  const get = async (s: SimAgency, path: string, tag?: string) => {
    const res = await h.send(s.signer, 'GET', path, tag === undefined ? {} : { headers: { 'if-none-match': tag } });
    const text = await res.text();
    return { status: res.status, etag: res.headers.get('etag') as string, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  /** The tag now, checked to answer 304 and to name exactly the document a fresh request gets. */
  const current = async (s: SimAgency, path: string): Promise<{ etag: string; body: unknown }> => {
    const a = await get(s, path);
    expect(a.status).toBe(200);
    expect(a.etag).toMatch(/^"(results|hits)-[0-9a-f]{64}"$/);
    const again = await get(s, path);
    expect(again).toEqual(a);
    const held = await get(s, path, a.etag);
    expect(held).toEqual({ status: 304, etag: a.etag, body: undefined });
    return { etag: a.etag, body: a.body };
  };

  it('each change through the API gives a new tag and a 200; nothing else does', async () => {
    const results = async () => current(es, '/v1/results');
    const hits = async () => current(es, '/v1/hits');
    let r = await results();
    let x = await hits();
    const matched = es.matchedItems((await es.results()).pairs[0]);
    expect(matched.size).toBe(shared.length);

    // A removal retracts a match: both documents change.
    const gone = matched.get(keyOf(shared[0] as Item)) as { position: number; handle: string };
    expect((await h.json(es.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [gone.position] } })).status).toBe(200);
    expect((await get(es, '/v1/results', r.etag)).status).toBe(200);
    expect((await get(es, '/v1/hits', x.etag)).status).toBe(200);
    r = await results();
    x = await hits();

    // Added again and tokenised by the partner: a new match through the tokens upload.
    await es.upload(PAIR, pt.kp.pk, [shared[0] as Item], 2, 32);
    expect((await get(es, '/v1/results', r.etag)).status).toBe(200);
    expect(await pt.work()).toBe(1);
    expect((await get(es, '/v1/results', r.etag)).status).toBe(200);
    expect((await get(es, '/v1/hits', x.etag)).status).toBe(200);
    r = await results();
    x = await hits();

    // A decision changes the hits, not the results.
    expect((await h.json(pt.signer, 'POST', `/v1/hits/${gone.handle}/confirm`, { body: { officer: 'pt-officer-1' } })).status).toBe(200);
    expect((await get(es, '/v1/hits', x.etag)).status).toBe(200);
    expect((await get(es, '/v1/results', r.etag)).status).toBe(304);
    x = await hits();

    // Filters are part of the tag: the same revision, another document.
    const confirmed = await current(es, '/v1/hits?status=confirmed');
    expect(confirmed.etag).not.toBe(x.etag);
    expect((confirmed.body as { hits: unknown[] }).hits).toHaveLength(0);

    // Each party has its own documents.
    expect((await current(pt, '/v1/results')).etag).not.toBe(r.etag);
  });

  it('every insert, update and delete of matches and handles, and every write of hits, gives a new revision', async () => {
    const epoch = (await h.store.currentEpoch()).id;
    const ps = h.store.pair(PAIR);
    const [{ pair_key: key }] = (await h.pairRows(PAIR, 'SELECT pair_key FROM matches LIMIT 1')) as [{ pair_key: number }];
    const pairWrites = [
      ["INSERT INTO matches (pair_key, epoch, pos_a, pos_b, handle, created_at) VALUES (?, ?, 900000, 900000, 'h-test', 't') RETURNING 1", key, epoch],
      ["UPDATE matches SET created_at = 'u' WHERE pair_key = ? AND epoch = ? AND pos_a = 900000 RETURNING 1", key, epoch],
      ['DELETE FROM matches WHERE pair_key = ? AND epoch = ? AND pos_a = 900000 RETURNING 1', key, epoch],
      ["INSERT INTO handles (pair_key, epoch, handle, first_seen) VALUES (?, ?, 'h-test', 't') RETURNING 1", key, epoch],
      ["UPDATE handles SET first_seen = 'u' WHERE pair_key = ? AND epoch = ? AND handle = 'h-test' RETURNING 1", key, epoch],
      ["DELETE FROM handles WHERE pair_key = ? AND epoch = ? AND handle = 'h-test' RETURNING 1", key, epoch],
    ] as const;
    let before = await ps.matchRevision(epoch);
    expect(before).toMatch(/^[0-9a-f]{32}$/);
    for (const [sql, ...params] of pairWrites) {
      await h.pairRows(PAIR, sql, ...params);
      const now = await ps.matchRevision(epoch);
      expect({ sql, changed: now !== before }).toEqual({ sql, changed: true });
      before = now;
    }
    // Another epoch's rows leave this epoch's revision alone.
    await h.pairRows(PAIR, "INSERT INTO matches (pair_key, epoch, pos_a, pos_b, handle, created_at) VALUES (?, 'e-other', 1, 1, 'h', 't') RETURNING 1", key);
    expect(await ps.matchRevision(epoch)).toBe(before);
    expect(await ps.matchRevision('e-other')).toMatch(/^[0-9a-f]{32}$/);
    // A purged epoch keeps no revision (nor matches it could stand for).
    await ps.purgeEpochs(['e-other'], undefined);
    expect(await ps.matchRevision('e-other')).toBeNull();
    expect(await ps.matchRevision(epoch)).toBe(before);

    // Hits live in the control plane (D1 on Workers): every store method that writes them renews the revision.
    const matched = (handle: string) => ({ handle, posA: 1, posB: 2, firstSeen: 't' });
    const status = { handle: 'h-test', agency: 'ES-CNP', status: 'confirmed' as const, officer: 'o', note: null, updatedAt: 't' };
    const hitWrites: [string, () => Promise<unknown>][] = [
      ['upsertNightlyHits', () => h.store.upsertNightlyHits(PAIR, epoch, [matched('h-test')])],
      ['syncNightlyHits adding', () => h.store.syncNightlyHits(PAIR, epoch, [matched('h-test'), matched('h-test-2')], true)],
      ['syncNightlyHits removing', () => h.store.syncNightlyHits(PAIR, epoch, [matched('h-test')], true)],
      ['pruneNightlyHits', () => h.store.pruneNightlyHits(PAIR, epoch, [])],
      ['setHitStatus', () => h.store.setHitStatus(status)],
      ['setHitStatus, audited', () => h.store.setHitStatus({ ...status, agency: 'PT-PJ' }, { at: 't', actor: 'PT-PJ', action: 'hit.confirmed', subject: 'h-test', outcome: 'ok', detail: {} })],
    ];
    let hits = await h.store.hitsRevision();
    expect(hits).toMatch(/^[0-9a-f]{32}$/);
    for (const [name, write] of hitWrites) {
      await write();
      const now = await h.store.hitsRevision();
      expect({ name, changed: now !== hits }).toEqual({ name, changed: true });
      hits = now;
    }
    // Nothing to write: the revision stays.
    await h.store.syncNightlyHits(PAIR, epoch, await ps.matchedHandles(epoch), true);
    const settled = await h.store.hitsRevision();
    await h.store.syncNightlyHits(PAIR, epoch, await ps.matchedHandles(epoch), true);
    expect(await h.store.hitsRevision()).toBe(settled);
  });
});
