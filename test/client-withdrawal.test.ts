// A partner's withdrawal reaches the agency that tokenised its set
// (protocol/SPEC.md §3.1 step 6, §3.2, §8.11): real agency clients (sync,
// query, the responder) against the real coordinator over real HTTP. Once
// both have synced, an identifier the partner withdrew is no hit; an agency
// that has not synced yet reports a hit whose evidence the coordinator
// refuses, and its leg waits for the sync instead of recording the hit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAgency, loadAgency, type Agency } from '../clients/agency/config.js';
import { createQuery, followQuery, type QueryContext } from '../clients/agency/query.js';
import { Responder } from '../clients/agency/serve.js';
import { sync } from '../clients/agency/sync.js';
import { SyncStore } from '../clients/agency/sync/store.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { openStore, type Store } from '../clients/store/db.js';
import { loadFastEngine, type Engine } from '../protocol/engine/index.js';
import { acceptAs, pairId, RealCoordinator } from './client-coordinator.js';
import { csvOf, passport, range } from './client-world.js';

interface Party {
  agency: Agency;
  store: Store;
  file: string;
}

const both = range(900_000, 8);
const ptOnly = range(200_000, 40);
const PAIR = pairId('es-pt', 'ES-CNP', 'PT-PJ');

let coord: RealCoordinator;
let work: string;
let engine: Engine;
let es: Party;
let pt: Party;
const stores: Store[] = [];

async function party(id: string, people: number[], country: string): Promise<Party> {
  const r = initAgency({ dir: join(work, id), agency: id, coordinator: coord.url });
  const agency = loadAgency(r.dir);
  await coord.addAgency(id, r.publicKeyHex, country, agency.signingKey);
  const store = openStore(r.dir);
  stores.push(store);
  const file = join(work, `${id}.csv`);
  writeFileSync(file, csvOf(id, people));
  await importWatchlist(store, file);
  return { agency, store, file };
}

const run = (p: Party) => sync(p.agency, p.store, { threads: 0, chunkElements: 16, canaryCount: () => 3, client: coord.client(p.agency.agency, p.agency.signingKey) });

async function withdraw(p: Party, people: number[]): Promise<void> {
  writeFileSync(p.file, csvOf(p.agency.agency, people));
  await importWatchlist(p.store, p.file);
}

/** ES asks PT about one passport; PT's responder answers in process; ES finishes the leg. */
async function ask(value: number) {
  const ctx: QueryContext = { agency: es.agency, store: es.store, client: coord.client(es.agency.agency, es.agency.signingKey), engine };
  const id = await createQuery(ctx, { partners: ['PT-PJ'], kind: 'passport', purpose: 'terrorism', caseRef: 'OP-WITHDRAWN', officer: 'officer-1' }, [passport(value)]);
  const ptClient = coord.client(pt.agency.agency, pt.agency.signingKey);
  const responder = new Responder(pt.agency, engine, ptClient, pt.store);
  for (const q of (await ptClient.inbox(0)).filter((x) => x.queryId === id)) expect(await responder.handle(q)).toMatchObject({ answered: true });
  return { id, ctx, report: await followQuery(ctx, id, 0) };
}

const ptQueryHits = async () => (await coord.client(pt.agency.agency, pt.agency.signingKey).hits()).filter((h) => h.source === 'query');

beforeAll(async () => {
  coord = await RealCoordinator.start();
  work = mkdtempSync(join(tmpdir(), 'concordat-withdrawal-'));
  engine = await loadFastEngine();
  es = await party('ES-CNP', [...range(100_000, 40), ...both], 'ESP');
  pt = await party('PT-PJ', [...ptOnly, ...both], 'PRT');
  await coord.addAgreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email', 'phone'], mode: 'reveal', queryQuota: { perDay: 100, maxValues: 10 } });
  await acceptAs(coord, es.agency, es.store, 'es-pt');
  await acceptAs(coord, pt.agency, pt.store, 'es-pt');
  for (let i = 0; i < 2; i++) {
    await run(es);
    await run(pt);
  }
});

afterAll(async () => {
  for (const s of stores) s.close();
  await coord?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('a withdrawal reaches the tokenising agency', () => {
  it('an identifier the partner withdrew is no hit once both synced; the rest still hit', async () => {
    const before = await ask(ptOnly[0] as number);
    expect(before.report.legs[0]).toMatchObject({ state: 'done', results: [{ index: 0, hit: true }] });

    await withdraw(pt, [...ptOnly.slice(1), ...both]);
    await run(pt);
    expect((await coord.client(pt.agency.agency, pt.agency.signingKey).status(PAIR)).mine.removed).toBeGreaterThan(0);
    await run(es);
    const known = es.store.sqlite.prepare('SELECT count(*) FROM partner_removals WHERE pair = ?').pluck().get(PAIR) as number;
    expect(known).toBe((await coord.client(pt.agency.agency, pt.agency.signingKey).status(PAIR)).mine.removed);

    const after = await ask(ptOnly[0] as number);
    expect(after.report.legs[0]).toMatchObject({ state: 'done', results: [{ index: 0, hit: false }] });
    const still = await ask(ptOnly[1] as number);
    expect(still.report.legs[0]).toMatchObject({ state: 'done', results: [{ index: 0, hit: true }] });
    // PT is asked to confirm the two real hits only.
    expect((await ptQueryHits()).map((h) => h.queryId).sort()).toEqual([before.id, still.id].sort());
    // A second sync reads no removal twice.
    await run(es);
    expect(es.store.sqlite.prepare('SELECT count(*) FROM partner_removals WHERE pair = ?').pluck().get(PAIR)).toBe(known);
    // The side's counts the caps are checked against, read without a scan, are those of every position.
    for (const a of [es, pt]) {
      const epoch = a.store.sqlite.prepare('SELECT epoch FROM sides WHERE pair = ?').pluck().get(PAIR) as string;
      const scan = (where: string) => a.store.sqlite.prepare(`SELECT count(*) FROM positions WHERE pair = ? AND epoch = ? AND ${where}`).pluck().get(PAIR, epoch);
      const sides = new SyncStore(a.store);
      expect([sides.liveCount(PAIR, epoch), sides.liveIdentifierCount(PAIR, epoch)]).toEqual([scan('removed = 0'), scan('removed = 0 AND canary_r IS NULL')]);
    }
    expect(pt.store.sqlite.prepare('SELECT count(*) FROM positions WHERE removed = 1').pluck().get()).toBeGreaterThan(0);
  });

  it('before the requester syncs, the coordinator refuses the stale hit; the leg waits for the sync and then reports no hit', async () => {
    const hitsBefore = (await ptQueryHits()).length;
    await withdraw(pt, [...ptOnly.slice(2), ...both]);
    await run(pt);
    const stale = await ask(ptOnly[1] as number);
    expect(stale.report.legs[0]).toMatchObject({ state: 'incomplete', error: 'hit-refused' });
    expect(stale.report.legs[0]?.detail).toMatch(/withdrew this element/);
    expect((await ptQueryHits()).length).toBe(hitsBefore);
    await run(es);
    const done = await followQuery(stale.ctx, stale.id, 0);
    expect(done.legs[0]).toMatchObject({ state: 'done', results: [{ index: 0, hit: false }] });
    expect((await ptQueryHits()).length).toBe(hitsBefore);
  });
});
