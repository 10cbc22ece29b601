// GET /v1/results and GET /v1/hits answer 304 from the revisions the store
// keeps (drizzle/0009_revisions.sql), without building the document: a tag
// must change with every change to what the document lists, on every write
// path, or an agency would keep a stale copy. Each write path the API offers
// is exercised here (new matches, a removal retracting them, a re-addition, a
// decision), then below it every insert, update and delete on the pair tables
// the results are built from (kept by triggers, so a path added later is
// covered too) and every store method that writes hits (the query hit of an
// outcome: test/shared/coordinator-queries.test.ts).
// Both runtimes.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../protocol/engine/index.js';
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

describe('results and hits tags follow every change', () => {
  let h: Harness;
  let es: SimAgency;
  let pt: SimAgency;
  let shared: Item[];

  beforeEach(async () => {
    h = await makeHarness();
    shared = emails('shared.suspect', 5, 'example.org');
    es = new SimAgency(h, await h.addAgency('ES-CNP', 'ESP'), [...emails('es.only', 20, 'policia.example'), ...shared]);
    pt = new SimAgency(h, await h.addAgency('PT-PJ', 'PRT'), [...emails('pt.only', 20, 'pj.example'), ...shared]);
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
