// One transaction per state change (docs/ARCHITECTURE.md §Coordinator): a
// write that fails half-way, injected with a trigger on the real database
// that aborts one insert, leaves no change without its audit entry and no
// complete pair without its hits, and the client's ordinary retry converges.
// Node only: the trigger is SQLite's own, on the file the coordinator writes.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../protocol/constants.js';
import { loadFastEngine, type Engine } from '../protocol/engine/index.js';
import { identifierInput } from '../protocol/identifiers/index.js';
import { verifyAuditChain } from '../src/audit.js';
import { addAgreement, publishPairKey, type Signer } from './coordinator-harness.js';
import { makeSqliteHarness, type SqliteHarness } from './coordinator-harness-sqlite.js';
import { emails, keyOf, SimAgency as BaseSim, type Item } from './coordinator-sim.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadFastEngine();
});

class SimAgency extends BaseSim {
  constructor(h: SqliteHarness, signer: Signer, items: Item[]) {
    super(h, engine, signer, items);
  }
}

const PAIR = 'es-pt~ES-CNP~PT-PJ';

describe('a state change commits with its audit entry and the hits it implies', () => {
  let h: SqliteHarness;
  let es: SimAgency;
  let pt: SimAgency;
  let shared: Item[];

  /** Make the next insert into `table` matching `when` fail, as a full disk or a crash would, until `heal`. */
  const inject = (table: string, when = '1') => {
    h.store.client.exec(`CREATE TEMP TRIGGER inject_failure BEFORE INSERT ON main.${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
  };
  const heal = () => h.store.client.exec('DROP TRIGGER IF EXISTS temp.inject_failure');
  const audit = () => h.store.readAudit(0, 1_000_000);

  beforeEach(async () => {
    h = await makeSqliteHarness();
    shared = emails('shared.suspect', 5, 'example.org');
    es = new SimAgency(h, await h.addAgency('ES-CNP', 'ESP'), [...emails('es.only', 30, 'policia.example'), ...shared]);
    pt = new SimAgency(h, await h.addAgency('PT-PJ', 'PRT'), [...emails('pt.only', 20, 'pj.example'), ...shared]);
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], mode: 'reveal' });
    await es.publish();
    await pt.publish();
  });
  afterEach(async () => {
    heal();
    await h.close();
  });

  it('a chunk whose audit entry failed is audited by the retry that answers 200 "same"', async () => {
    const body = engine.blind(
      CONCORDAT_SUITE,
      es.kp.sk,
      emails('lone', 3, 'policia.example').map((i) => identifierInput(i.kind, i.canonical)),
    );
    expect(body.length).toBe(3 * ELEMENT_BYTES);
    inject('audit_log', "NEW.action = 'chunk.stored'");
    const failed = await h.send(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body, headers: { 'Concordat-Epoch': 'e1' } });
    expect(failed.status).toBe(500);
    expect((await audit()).filter((e) => e.action === 'chunk.stored')).toHaveLength(0);
    heal();

    const retry = await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body, headers: { 'Concordat-Epoch': 'e1' } });
    expect(retry.status).toBe(200);
    const stored = (await audit()).filter((e) => e.action === 'chunk.stored');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ actor: 'ES-CNP', subject: PAIR, detail: { epoch: 'e1', index: 0, count: 3 } });
    expect(stored[0]?.detail.sha256).toBe(retry.body.sha256);

    // A third request publishes nothing twice, and the chain verifies.
    expect((await h.json(es.signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body, headers: { 'Concordat-Epoch': 'e1' } })).status).toBe(200);
    const all = await audit();
    expect(all.filter((e) => e.action === 'chunk.stored')).toHaveLength(1);
    expect(verifyAuditChain(all).ok).toBe(true);
    expect(h.store.client.prepare('SELECT count(*) AS n FROM pair_outbox').get()).toEqual({ n: 0 });
  });

  it('tokens whose audit entry failed are audited by the retry', async () => {
    await es.upload(PAIR, pt.kp.pk, es.items, 3, 64);
    await pt.upload(PAIR, es.kp.pk, pt.items, 3, 64);
    inject('audit_log', "NEW.action = 'tokens.stored'");
    await expect(pt.work()).rejects.toThrow();
    expect((await audit()).filter((e) => e.action === 'tokens.stored')).toHaveLength(0);
    heal();
    // The client's retry of the same upload: the coordinator already holds the tokens.
    const res = await h.send(pt.signer, 'GET', `/v1/pairs/${PAIR}/partner-set/chunks/0`, { headers: { 'Concordat-Epoch': 'e1' } });
    const tokens = engine.tokenize(CONCORDAT_SUITE, pt.kp.sk, new Uint8Array(await res.arrayBuffer()));
    const again = await h.json(pt.signer, 'PUT', `/v1/pairs/${PAIR}/partner-set/chunks/0/tokens`, { body: tokens, headers: { 'Concordat-Epoch': 'e1' } });
    expect(again.status).toBe(200);
    expect((await audit()).filter((e) => e.action === 'tokens.stored')).toMatchObject([{ actor: 'PT-PJ', detail: { index: 0, side: 'ES-CNP' } }]);
  });

  it('a pair completed while its hits failed to be written gets them before anyone reads it', async () => {
    await es.upload(PAIR, pt.kp.pk, es.items, 3, 64);
    await pt.upload(PAIR, es.kp.pk, pt.items, 3, 64);
    await es.work();
    inject('nightly_hits');
    // The upload that completes the pair fails after the state and the matches committed.
    await expect(pt.work()).rejects.toThrow();
    expect(h.store.client.prepare('SELECT state FROM pair_state').all()).toEqual([{ state: 'complete' }]);
    expect(h.store.client.prepare('SELECT count(*) AS n FROM nightly_hits').get()).toEqual({ n: 0 });
    heal();

    // Whichever party reads next (results, a hit decision) finds the hits there.
    const matched = es.matchedItems((await es.results()).pairs[0]);
    expect(matched.size).toBe(shared.length);
    const hits = (await h.json(pt.signer, 'GET', '/v1/hits')).body.hits as { source: string; handle: string }[];
    expect(hits.map((x) => x.handle).sort()).toEqual([...matched.values()].map((m) => m.handle).sort());
    const one = matched.get(keyOf(shared[0] as Item))?.handle as string;
    expect((await h.json(pt.signer, 'POST', `/v1/hits/${one}/confirm`, { body: { officer: 'pt-officer-1' } })).status).toBe(200);
    const all = await audit();
    expect(all.filter((e) => e.action === 'pair.complete')).toHaveLength(1);
    expect(verifyAuditChain(all).ok).toBe(true);
  });

  it('an epoch key whose audit entry failed is not published, and the retry publishes both', async () => {
    const fr = new SimAgency(h, await h.addAgency('FR-OC', 'FRA'), emails('fr.only', 3, 'oc.example'));
    await addAgreement(h, { id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], mode: 'reveal' });
    const pair = ((await h.json(fr.signer, 'GET', '/v1/me')).body.pairs as { pair: string }[])[0]?.pair as string;
    const published = () => h.store.client.prepare("SELECT count(*) AS n FROM pair_epoch_keys WHERE agency = 'FR-OC'").get();
    inject('audit_log', "NEW.action = 'epoch_key.published'");
    expect((await publishPairKey(h, fr.signer, pair, fr.kp)).status).toBe(500);
    // Nothing was published: the partner cannot see, and no one can use, a key the log never recorded.
    expect(published()).toEqual({ n: 0 });
    heal();

    expect((await publishPairKey(h, fr.signer, pair, fr.kp)).status).toBe(201);
    expect((await publishPairKey(h, fr.signer, pair, fr.kp)).status).toBe(200);
    expect(published()).toEqual({ n: 1 });
    const all = await audit();
    expect(all.filter((e) => e.action === 'epoch_key.published' && e.actor === 'FR-OC')).toMatchObject([{ subject: pair, detail: { epoch: 'e1' } }]);
    expect(verifyAuditChain(all).ok).toBe(true);
  });

  it('a count snapshot whose audit entry failed is not taken, and the next read takes both', async () => {
    const fr = new SimAgency(h, await h.addAgency('FR-OC', 'FRA'), [...emails('fr.only', 10, 'oc.example'), ...shared]);
    await addAgreement(h, { id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], mode: 'count' });
    await es.publish();
    await fr.publish();
    const pair = ((await h.json(fr.signer, 'GET', '/v1/me')).body.pairs as { pair: string }[])[0]?.pair as string;
    await es.upload(pair, fr.kp.pk, es.items, 3, 64);
    await fr.upload(pair, es.kp.pk, fr.items, 3, 64);
    await es.work();
    await fr.work();
    const snapshots = () => h.store.client.prepare('SELECT count(*) AS n FROM count_snapshots').get();
    inject('pair_outbox', "NEW.entry LIKE '%pair.count_snapshot%'");
    expect((await h.send(fr.signer, 'GET', '/v1/results')).status).toBe(500);
    // No count was released, and none is kept to be released later without its entry.
    expect(snapshots()).toEqual({ n: 0 });
    heal();

    const r = await h.json(fr.signer, 'GET', '/v1/results');
    expect(r.status).toBe(200);
    expect(r.body.pairs.find((p: { pair: string }) => p.pair === pair)).toMatchObject({ mode: 'count', state: 'complete', count: shared.length });
    expect(snapshots()).toEqual({ n: 1 });
    const taken = (await audit()).filter((e) => e.action === 'pair.count_snapshot');
    expect(taken).toMatchObject([{ actor: 'coordinator', subject: pair, detail: { epoch: 'e1', churn: expect.any(Number) } }]);
    expect(h.store.client.prepare('SELECT count(*) AS n FROM pair_outbox').get()).toEqual({ n: 0 });
  });

  it('a hit confirmation whose audit entry failed is not recorded, and the retry records both', async () => {
    await es.upload(PAIR, pt.kp.pk, es.items, 3, 64);
    await pt.upload(PAIR, es.kp.pk, pt.items, 3, 64);
    await es.work();
    await pt.work();
    const handle = es.matchedItems((await es.results()).pairs[0]).get(keyOf(shared[1] as Item))?.handle as string;
    inject('audit_log', "NEW.action = 'hit.confirmed'");
    const failed = await h.send(pt.signer, 'POST', `/v1/hits/${handle}/confirm`, { body: { officer: 'pt-officer-1' } });
    expect(failed.status).toBe(500);
    // Nothing changed: the status went with its audit entry.
    expect(h.store.client.prepare('SELECT count(*) AS n FROM hit_status').get()).toEqual({ n: 0 });
    const seen = (await h.json(es.signer, 'GET', '/v1/hits')).body.hits.find((x: { handle: string }) => x.handle === handle);
    expect(seen.partnerStatus).toBe('unverified');
    heal();

    const retry = await h.json(pt.signer, 'POST', `/v1/hits/${handle}/confirm`, { body: { officer: 'pt-officer-1' } });
    expect(retry.status).toBe(200);
    expect(retry.body.myStatus).toBe('confirmed');
    expect((await audit()).filter((e) => e.action === 'hit.confirmed')).toMatchObject([{ actor: 'PT-PJ', subject: handle, detail: { officer: 'pt-officer-1' } }]);
  });

  it('a query, its answer, a refusal and an outcome whose audit entries failed are not recorded, and the retries record both', async () => {
    await es.upload(PAIR, pt.kp.pk, es.items, 3, 64);
    await pt.upload(PAIR, es.kp.pk, pt.items, 3, 64);
    await es.work();
    await pt.work();
    const count = (table: string) => (h.store.client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const entries = async (action: string) => (await audit()).filter((e) => e.action === action);
    const ask = (values: Item[]) =>
      h.json(es.signer, 'POST', '/v1/queries', {
        body: { partners: ['PT-PJ'], kind: 'email', purpose: 'terrorism', caseRef: 'OP-NORTE-7', officer: 'es-officer-1', blinded: es.blindQuery(values).blinded.map(bytesToHex) },
      });

    // Created: nothing of a query whose entry failed, not even its quota count.
    inject('audit_log', "NEW.action = 'query.created'");
    expect((await ask([shared[0] as Item])).status).toBe(500);
    expect([count('queries'), count('query_legs'), count('query_quota')]).toEqual([0, 0, 0]);
    expect((await h.json(pt.signer, 'GET', '/v1/queries/inbox')).body.queries).toEqual([]);
    heal();
    const q = es.blindQuery([shared[0] as Item, emails('nobody', 1, 'x.example')[0] as Item]);
    const made = await h.json(es.signer, 'POST', '/v1/queries', {
      body: { partners: ['PT-PJ'], kind: 'email', purpose: 'terrorism', caseRef: 'OP-NORTE-7', officer: 'es-officer-1', blinded: q.blinded.map(bytesToHex) },
    });
    expect(made.status).toBe(201);
    expect(await entries('query.created')).toMatchObject([{ actor: 'ES-CNP', subject: made.body.queryId }]);
    expect(h.store.client.prepare('SELECT used FROM query_quota').all()).toEqual([{ used: 1 }]);

    // Answered: the leg stays pending until the answer lands with its entry.
    const entry = (await h.json(pt.signer, 'GET', '/v1/queries/inbox')).body.queries[0];
    const answer = { epoch: entry.epoch, ...pt.answer(entry.blinded) };
    inject('audit_log', "NEW.action = 'query.answered'");
    expect((await h.send(pt.signer, 'POST', `/v1/queries/${made.body.queryId}/answer`, { body: answer })).status).toBe(500);
    expect(h.store.client.prepare('SELECT status FROM query_legs').all()).toEqual([{ status: 'pending' }]);
    heal();
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${made.body.queryId}/answer`, { body: answer })).status).toBe(200);
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${made.body.queryId}/answer`, { body: answer })).status).toBe(200);
    expect(await entries('query.answered')).toMatchObject([{ actor: 'PT-PJ', subject: made.body.queryId }]);

    // Outcome: neither the outcome nor its hits without the entry.
    const leg = (await h.json(es.signer, 'GET', `/v1/queries/${made.body.queryId}`)).body.legs[0];
    const outcome = { legs: [{ partner: 'PT-PJ', ...es.conclude(PAIR, q, leg) }] };
    expect(outcome.legs[0]?.hits).toHaveLength(1);
    inject('audit_log', "NEW.action = 'query.outcome'");
    expect((await h.send(es.signer, 'POST', `/v1/queries/${made.body.queryId}/outcome`, { body: outcome })).status).toBe(500);
    expect([count('query_hits'), h.store.client.prepare('SELECT outcome_at FROM query_legs').get()]).toEqual([0, { outcome_at: null }]);
    heal();
    const out = await h.json(es.signer, 'POST', `/v1/queries/${made.body.queryId}/outcome`, { body: outcome });
    expect(out.status).toBe(200);
    expect((await h.json(es.signer, 'POST', `/v1/queries/${made.body.queryId}/outcome`, { body: outcome })).status).toBe(200);
    expect(count('query_hits')).toBe(1);
    expect(await entries('query.outcome')).toMatchObject([{ actor: 'ES-CNP', subject: made.body.queryId, detail: { hits: 1, noHits: 1 } }]);

    // Refused: a responder's refusal lands with its entry or not at all.
    const second = await ask([shared[1] as Item]);
    expect(second.status).toBe(201);
    inject('audit_log', "NEW.action = 'query.responder_refused'");
    const refusal = { reason: 'no-legal-basis' };
    expect((await h.send(pt.signer, 'POST', `/v1/queries/${second.body.queryId}/refusal`, { body: refusal })).status).toBe(500);
    expect(h.store.client.prepare('SELECT status FROM query_legs WHERE query_id = ?').get(second.body.queryId)).toEqual({ status: 'pending' });
    heal();
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${second.body.queryId}/refusal`, { body: refusal })).status).toBe(200);
    expect((await h.json(pt.signer, 'POST', `/v1/queries/${second.body.queryId}/refusal`, { body: refusal })).status).toBe(200);
    expect(await entries('query.responder_refused')).toMatchObject([{ actor: 'PT-PJ', subject: second.body.queryId }]);
    expect(verifyAuditChain(await audit()).ok).toBe(true);
  });

  it('removals whose hits failed to follow still take the hits along before the next read', async () => {
    await es.upload(PAIR, pt.kp.pk, es.items, 3, 64);
    await pt.upload(PAIR, es.kp.pk, pt.items, 3, 64);
    await es.work();
    await pt.work();
    const target = es.matchedItems((await es.results()).pairs[0]).get(keyOf(shared[2] as Item)) as { position: number; handle: string };
    // Deleting a hit fails: abort the statement through a trigger on delete.
    h.store.client.exec(`CREATE TEMP TRIGGER inject_failure BEFORE DELETE ON main.nightly_hits BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const failed = await h.send(es.signer, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [target.position] } });
    expect(failed.status).toBe(500);
    heal();
    const refused = await h.json(pt.signer, 'POST', `/v1/hits/${target.handle}/confirm`, { body: { officer: 'pt-officer-1' } });
    expect(refused.status).toBe(404);
    expect((await h.json(pt.signer, 'GET', '/v1/hits')).body.hits.map((x: { handle: string }) => x.handle)).not.toContain(target.handle);
    expect((await audit()).filter((e) => e.action === 'removals.applied')).toHaveLength(1);
  });
});
