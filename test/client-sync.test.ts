// The agency's sync against the real coordinator (src/app.ts over SQLite, real
// HTTP): two agencies, planted overlaps, withdrawals, interrupted syncs with
// lost responses and 503s, a dishonest partner, a count-only agreement, the
// local copy of partner tokens, and epoch rotation (mid-sync too) keeping
// results and handles.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initAgency, loadAgency, type Agency } from '../clients/agency/config.js';
import { loadResultsView } from '../clients/agency/results.js';
import { sync, type SyncOptions } from '../clients/agency/sync.js';
import { CANARIES_PER_CHUNK_MIN } from '../protocol/canary.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { openStore, type Store } from '../clients/store/db.js';
import { acceptAs, pairId, RealCoordinator, type AgreementInput } from './client-coordinator.js';

interface Party {
  agency: Agency;
  store: Store;
  file: string;
}

function rows(prefix: string, people: number[]): string[][] {
  const out: string[][] = [];
  for (const p of people) {
    const rid = `${prefix}-${p}`;
    out.push([rid, 'passport', `ESP:P${String(p).padStart(7, '0')}`], [rid, 'email', `person${p}@mail.example`]);
    if (p % 2) out.push([rid, 'phone', `+3491${String(p % 10 ** 7).padStart(7, '0')}`]);
  }
  return out;
}

function writeCsv(file: string, r: string[][]): void {
  writeFileSync(file, ['record_id,kind,value', ...r.map((x) => x.join(','))].join('\n') + '\n');
}

let dir: string;
let coord: RealCoordinator;
const opened: Store[] = [];
const parties = new Map<string, Party>();

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-sync-'));
  coord = await RealCoordinator.start();
});

afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  parties.clear();
  await coord.stop();
  rmSync(dir, { recursive: true, force: true });
});

const COUNTRY: Record<string, string> = { 'ES-CNP': 'ESP', 'PT-PJ': 'PRT', 'FR-OC': 'FRA' };

async function party(id: string, people: number[]): Promise<Party> {
  const r = initAgency({ dir: join(dir, id), agency: id, coordinator: coord.url });
  const agency = loadAgency(r.dir);
  await coord.addAgency(id, r.publicKeyHex, COUNTRY[id], agency.signingKey);
  const store = openStore(r.dir);
  opened.push(store);
  const file = join(dir, `${id}.csv`);
  writeCsv(file, rows(id, people));
  await importWatchlist(store, file);
  const p = { agency, store, file };
  parties.set(id, p);
  return p;
}

/** Proposes the agreement and has every party set up so far accept it (protocol/SPEC.md §8.6). */
async function agreement(a: Partial<AgreementInput> & { id: string; parties: string[] }): Promise<unknown> {
  const r = await coord.addAgreement({ kinds: ['passport', 'email', 'phone'], mode: 'reveal', ...a });
  for (const id of a.parties) {
    const p = parties.get(id);
    if (p) await acceptAs(coord, p.agency, p.store, a.id);
  }
  return r;
}

function options(a: Agency, extra: Partial<SyncOptions> & { retries?: number } = {}): SyncOptions {
  const { retries, ...rest } = extra;
  return { threads: 0, chunkElements: 40, canaryCount: () => 5, client: coord.client(a.agency, a.signingKey, retries ?? 3), ...rest };
}

const run = (p: Party, extra: Partial<SyncOptions> & { retries?: number } = {}) => sync(p.agency, p.store, options(p.agency, extra));

function matchedRecords(p: Party, partner: string): string[] {
  return loadResultsView(p.store)
    .matches.filter((m) => m.partner === partner)
    .map((m) => m.record_id)
    .sort();
}

const status = (p: Party, pair: string) => coord.client(p.agency.agency, p.agency.signingKey).status(pair);
const count = (p: Party, sql: string, ...args: unknown[]) => p.store.sqlite.prepare(sql).pluck().get(...args) as number;

const people = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * 7);

describe('sync against the real coordinator', () => {
  it('finds exactly the planted overlaps, is idempotent, follows withdrawals, and keeps the partner tokens', async () => {
    const both = people(5000, 9);
    const es = await party('ES-CNP', [...people(1000, 50), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 60), ...both]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const pair = pairId('es-pt', 'ES-CNP', 'PT-PJ');

    const r1 = await run(es);
    expect(r1.errors).toEqual([]);
    expect(r1.pairs[0]?.waitingForPartnerKey).toBe(true);
    await run(pt);
    await run(es);
    const last = await run(pt);
    expect(last.pairs[0]?.result?.state).toBe('complete');

    const wantEs = both.map((p) => `ES-CNP-${p}`).sort();
    const wantPt = both.map((p) => `PT-PJ-${p}`).sort();
    expect(matchedRecords(es, 'PT-PJ')).toEqual(wantEs);
    expect(matchedRecords(pt, 'ES-CNP')).toEqual(wantPt);

    // Both sides see the same handle per matched identifier; kinds are the union per record; nightly matches start unverified.
    const esView = loadResultsView(es.store);
    const m0 = esView.matches[0];
    expect(m0?.kinds).toEqual(Number(m0?.record_id.split('-').pop()) % 2 ? ['email', 'passport', 'phone'] : ['email', 'passport']);
    expect(new Set(esView.matches.map((m) => m.status))).toEqual(new Set(['unverified']));
    const ptHandles = new Set(loadResultsView(pt.store).matches.map((m) => m.handle));
    for (const m of esView.matches) expect(ptHandles.has(m.handle)).toBe(true);

    // Side size: distinct identifiers + canaries (5 in each chunk), nothing else.
    const canariesOf = (p: Party) => count(p, 'SELECT count(*) FROM positions WHERE pair = ? AND canary_r IS NOT NULL', pair);
    const chunksOf = (p: Party) => count(p, 'SELECT count(*) FROM chunks WHERE pair = ?', pair);
    expect(canariesOf(es)).toBe(5 * chunksOf(es));
    expect(canariesOf(pt)).toBe(5 * chunksOf(pt));
    const esSize = count(es, 'SELECT count(*) FROM identifiers') + canariesOf(es);
    const ptSize = count(pt, 'SELECT count(*) FROM identifiers') + canariesOf(pt);
    expect(last.pairs[0]?.live).toBe(ptSize);
    const st = await status(es, pair);
    expect(st.mine.size).toBe(esSize);
    expect(st.mine.canariesRegistered).toBe(true);
    expect(st.state).toBe('complete');

    // Every upload named its epoch.
    const uploads = coord.seen.filter((s) => s.method !== 'GET' && s.path.startsWith('/v1/pairs/') && !s.path.endsWith('/epoch-key'));
    expect(uploads.length).toBeGreaterThan(0);
    expect(new Set(uploads.map((s) => s.epoch))).toEqual(new Set(['e1']));

    // The tokens each agency computed for the partner's side are kept, one per partner position.
    expect(count(es, 'SELECT count(*) FROM partner_tokens WHERE pair = ? AND epoch = ?', pair, 'e1')).toBe(ptSize);
    expect(count(pt, 'SELECT count(*) FROM partner_tokens WHERE pair = ? AND epoch = ?', pair, 'e1')).toBe(esSize);
    expect(count(es, 'SELECT count(DISTINCT position) FROM partner_tokens')).toBe(ptSize);
    expect(count(es, 'SELECT max(position) FROM partner_tokens')).toBe(ptSize - 1);

    // A sync with nothing new sends nothing new.
    const before = coord.seen.length;
    const again = await run(es);
    expect(again.pairs[0]).toMatchObject({ added: 0, withdrawn: 0, chunksUploaded: 0, removalsSent: 0, partnerChunksTokenized: 0 });
    expect(coord.seen.slice(before).filter((l) => l.method !== 'GET')).toEqual([]);

    // A store that lost its token copy (or predates it) rebuilds it from the partner's chunks without uploading anything.
    es.store.sqlite.prepare('DELETE FROM partner_tokens').run();
    es.store.sqlite.prepare('UPDATE partner_chunks SET tokens_kept = 0').run();
    const mark = coord.seen.length;
    await run(es);
    expect(count(es, 'SELECT count(*) FROM partner_tokens')).toBe(ptSize);
    expect(coord.seen.slice(mark).filter((l) => l.method !== 'GET')).toEqual([]);

    // Night 2: PT withdraws three overlapping records and adds a new overlap.
    const extra = 9999;
    writeCsv(pt.file, rows('PT-PJ', [...people(3000, 60), ...both.slice(3), extra]));
    const imp = await importWatchlist(pt.store, pt.file);
    expect(imp.withdrawn).toBe(rows('PT-PJ', both.slice(0, 3)).length);
    writeCsv(es.file, rows('ES-CNP', [...people(1000, 50), ...both, extra]));
    await importWatchlist(es.store, es.file);
    for (let i = 0; i < 2; i++) {
      await run(es);
      await run(pt);
    }
    expect(matchedRecords(es, 'PT-PJ')).toEqual([...both.slice(3).map((p) => `ES-CNP-${p}`), `ES-CNP-${extra}`].sort());
    expect(matchedRecords(pt, 'ES-CNP')).toEqual([...both.slice(3).map((p) => `PT-PJ-${p}`), `PT-PJ-${extra}`].sort());
    expect((await status(pt, pair)).mine.removed).toBe(rows('PT-PJ', both.slice(0, 3)).length);
    // ES keeps the tokens of PT's new chunk too.
    expect(count(es, 'SELECT count(*) FROM partner_tokens')).toBe((await status(pt, pair)).mine.size);
  });

  it('resumes after lost responses, 503s and an interrupted blinding, sending byte-identical chunks', async () => {
    const both = people(7000, 6);
    const es = await party('ES-CNP', [...people(1000, 80), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 30), ...both]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const pair = pairId('es-pt', 'ES-CNP', 'PT-PJ');

    // Killed while blinding: nothing stored, nothing sent.
    const killed = await run(es, {
      progress: () => ({
        update() {
          throw new Error('killed');
        },
        stop() {},
      }),
    });
    expect(killed.errors).toEqual([`pair ${pair}: killed`]);
    expect(count(es, 'SELECT count(*) FROM positions')).toBe(0);
    expect((await status(es, pair)).mine.chunks.length).toBe(0);

    // The response to chunk 1 is lost once (the coordinator stored it): the retry gets 200.
    let dropped = 0;
    coord.faults = [
      (r) => (r.method === 'PUT' && r.path.endsWith('/set/chunks/1') && dropped++ === 0 ? 'drop-after' : undefined),
      // Chunk 3 keeps failing: this sync gives up on the pair after its retries.
      (r) => (r.method === 'PUT' && r.path.endsWith('/set/chunks/3') ? 'fail-503' : undefined),
    ];
    const first = await run(es, { retries: 1 });
    expect(dropped).toBeGreaterThan(1);
    expect(first.errors.length).toBe(1);
    expect(first.errors[0]).toMatch(/503/);
    expect((await status(es, pair)).mine.chunks.length).toBe(3);
    const local = es.store.sqlite.prepare('SELECT idx, sha256, uploaded FROM chunks ORDER BY idx').all() as Array<{ idx: number; sha256: string; uploaded: number }>;
    expect(local.map((c) => c.uploaded)).toEqual(local.map((c) => (c.idx < 3 ? 1 : 0)));

    // Rerun: the remaining chunks go up unchanged (the coordinator would 409 on other bytes).
    coord.faults = [];
    const second = await run(es);
    expect(second.errors).toEqual([]);
    expect((await status(es, pair)).mine.chunks.map((c) => c.sha256)).toEqual(local.map((c) => c.sha256));

    // Lost token-upload responses and 503s during partner work are retried too.
    let lost = 0;
    let unavailable = 0;
    coord.faults = [
      (r) => (r.method === 'PUT' && r.path.endsWith('/tokens') && lost++ === 0 ? 'drop-after' : undefined),
      (r) => (r.method === 'GET' && r.path.includes('/partner-set/chunks/') && unavailable++ < 2 ? 'fail-503' : undefined),
    ];
    for (let i = 0; i < 2; i++) {
      expect((await run(pt)).errors).toEqual([]);
      expect((await run(es)).errors).toEqual([]);
    }
    expect(lost).toBeGreaterThan(1);
    expect(unavailable).toBeGreaterThan(1);
    expect(matchedRecords(es, 'PT-PJ')).toEqual(both.map((p) => `ES-CNP-${p}`).sort());
    expect(matchedRecords(pt, 'ES-CNP')).toEqual(both.map((p) => `PT-PJ-${p}`).sort());
  });

  it('blinds with a key per pair: no element is equal across pairs (protocol/SPEC.md §8.5)', async () => {
    const withPt = people(7000, 5);
    const withFr = people(8000, 4);
    const es = await party('ES-CNP', [...people(1000, 30), ...withPt, ...withFr]);
    const pt = await party('PT-PJ', [...people(3000, 10), ...withPt]);
    const fr = await party('FR-OC', [...people(4000, 10), ...withFr]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await agreement({ id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], kinds: ['email'] });
    await run(es);
    const elementsOf = (pair: string): Set<string> => {
      const out = new Set<string>();
      for (const b of es.store.sqlite.prepare('SELECT data FROM chunks WHERE pair = ?').pluck().all(pair) as Buffer[]) {
        for (let o = 0; o < b.length; o += 32) out.add(b.subarray(o, o + 32).toString('hex'));
      }
      return out;
    };
    const inPt = elementsOf(pairId('es-pt', 'ES-CNP', 'PT-PJ'));
    const inFr = elementsOf(pairId('es-fr', 'ES-CNP', 'FR-OC'));
    expect(inFr.size).toBeGreaterThan(0);
    // Every email is in both sides, under two different keys.
    expect([...inFr].filter((e) => inPt.has(e))).toEqual([]);
    // ES blinds for two pairs in one run, so its second pair multiplies the points its first pair hashed: the matches prove them right.
    for (let i = 0; i < 2; i++) for (const x of [pt, fr, es]) await run(x);
    expect(matchedRecords(es, 'PT-PJ')).toEqual(withPt.map((p) => `ES-CNP-${p}`).sort());
    expect(matchedRecords(es, 'FR-OC')).toEqual(withFr.map((p) => `ES-CNP-${p}`).sort());
    expect(matchedRecords(fr, 'ES-CNP')).toEqual(withFr.map((p) => `FR-OC-${p}`).sort());
    expect(loadResultsView(es.store).matches.find((m) => m.partner === 'FR-OC')?.kinds).toEqual(['email']);
  });

  it('sends a pair only the kinds of its agreement', async () => {
    const es = await party('ES-CNP', people(1000, 20));
    await party('PT-PJ', people(3000, 20));
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'] });
    const r = await run(es);
    expect(r.pairs[0]?.added).toBe(20);
    expect((await status(es, pairId('es-pt', 'ES-CNP', 'PT-PJ'))).mine.size).toBe(25);
  });

  it('fails a pair loudly when the partner tokenises dishonestly, and clears its matches', async () => {
    const both = people(7000, 4);
    const es = await party('ES-CNP', [...people(1000, 10), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 10), ...both]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email'] });
    coord.corruptTokensOf.add('PT-PJ');
    const warnings: string[] = [];
    await run(es);
    await run(pt);
    const r = await run(es, { warn: (l) => warnings.push(l) });
    expect(r.failedPairs.map((f) => f.pair)).toEqual([pairId('es-pt', 'ES-CNP', 'PT-PJ')]);
    expect(warnings.join('\n')).toMatch(/PAIR FAILED .*canary check failed/);
    const view = loadResultsView(es.store);
    expect(view.matches).toEqual([]);
    expect(view.pairs[0]).toMatchObject({ state: 'failed' });
  });

  it('keeps only a count for count-mode agreements', async () => {
    const both = people(7000, 7);
    const es = await party('ES-CNP', [...people(1000, 10), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 10), ...both]);
    await agreement({ id: 'es-pt-stats', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], mode: 'count' });
    for (let i = 0; i < 2; i++) {
      await run(es);
      await run(pt);
    }
    const view = loadResultsView(es.store);
    expect(view.matches).toEqual([]);
    expect(view.counts).toEqual([{ partner: 'PT-PJ', count: 7 }]);
  });

  it("plants canaries in every chunk of a later night's upload, and the pair is not complete until they are registered (protocol/SPEC.md §1.6)", async () => {
    const both = people(7000, 6);
    const es = await party('ES-CNP', [...people(1000, 20), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 20), ...both]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const pair = pairId('es-pt', 'ES-CNP', 'PT-PJ');
    // The default canary policy (protocol/canary.ts), in chunks small enough that a night spans several.
    const policy = { canaryCount: undefined, chunkElements: 200 };
    for (let i = 0; i < 2; i++) {
      expect((await run(es, policy)).errors).toEqual([]);
      expect((await run(pt, policy)).errors).toEqual([]);
    }
    expect((await status(es, pair)).state).toBe('complete');
    const nightOne = count(es, 'SELECT count(*) FROM chunks WHERE pair = ?', pair);

    // Night 2: ES adds 150 records (300 identifiers); registering their canaries fails this time.
    writeCsv(es.file, rows('ES-CNP', [...people(1000, 20), ...both, ...people(20000, 150)]));
    await importWatchlist(es.store, es.file);
    coord.faults = [(r) => (r.method === 'PUT' && r.path.endsWith('/set/canaries') ? 'fail-503' : undefined)];
    const night2 = await run(es, { ...policy, retries: 0 });
    coord.faults = [];
    const all = es.store.sqlite
      .prepare(
        `SELECT c.idx AS idx, c.count AS n, (SELECT count(*) FROM positions p WHERE p.pair = c.pair AND p.epoch = c.epoch AND p.chunk = c.idx AND p.canary_r IS NOT NULL) AS canaries
         FROM chunks c WHERE c.pair = ? ORDER BY c.idx`,
      )
      .all(pair) as Array<{ idx: number; n: number; canaries: number }>;
    const perChunk = all.filter((c) => c.idx >= nightOne);
    expect(perChunk.length).toBeGreaterThanOrEqual(2);
    // Every chunk, of the first night and of the second, carries at least the minimum.
    for (const c of all) {
      expect(c.canaries).toBeGreaterThanOrEqual(CANARIES_PER_CHUNK_MIN);
      expect(c.n).toBeLessThanOrEqual(200);
    }
    expect(night2.errors.join('\n')).toMatch(/503/);
    expect((await status(es, pair)).mine.chunks.length).toBe(nightOne + perChunk.length);

    // PT tokenises the new chunks: every chunk has tokens, but ES's new canaries are not registered, so the pair waits.
    expect((await run(pt, policy)).errors).toEqual([]);
    const waiting = await status(es, pair);
    expect(waiting.mine.tokenizedByPartner).toBe(waiting.mine.chunks.length);
    expect(waiting.mine.canariesRegistered).toBe(false);
    expect(waiting.mine.canaryChunks).toBe(nightOne);
    expect(waiting.state).toBe('waiting');

    // The next sync registers the new chunks' canaries (checked against PT's tokens at once) and the pair completes.
    const next = await run(es, policy);
    expect(next.errors).toEqual([]);
    expect(next.pairs[0]).toMatchObject({ chunksUploaded: 0, canariesRegisteredNow: true, canaryChunksRegistered: perChunk.length });
    const done = await status(es, pair);
    expect(done.mine.canariesRegistered).toBe(true);
    expect(done.mine.canaryChunks).toBe(done.mine.chunks.length);
    expect(done.state).toBe('complete');
    const record = await coord.store.getPair(pair);
    const side = record?.agencies.indexOf('ES-CNP') as 0 | 1;
    const summary = await coord.store.pair(pair).summary('e1');
    expect(summary.sides[side].canaries).toBe(count(es, 'SELECT count(*) FROM positions WHERE pair = ? AND canary_r IS NOT NULL', pair));
    expect(summary.sides[side].canariesChecked).toBe(summary.sides[side].canaries);
    expect(summary.sides[side].canariesFailed).toBe(0);
    // A further sync with nothing new registers nothing again.
    expect((await run(es, policy)).pairs[0]).toMatchObject({ chunksUploaded: 0, canariesRegisteredNow: false, canariesRegistered: true });
  });

  it('refuses to grow a side beyond the agreement maximum', async () => {
    const es = await party('ES-CNP', people(1000, 20));
    await party('PT-PJ', people(3000, 5));
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], maxSetSize: 10 });
    const r = await run(es);
    expect(r.errors[0]).toMatch(/maximum set size of 10/);
    expect(count(es, 'SELECT count(*) FROM positions')).toBe(0);
  });

  it('counts identifiers, not canaries, against the agreement maximum: a side of exactly maxSetSize identifiers syncs', async () => {
    const es = await party('ES-CNP', people(1000, 20));
    await party('PT-PJ', people(3000, 5));
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], maxSetSize: 20 });
    const r = await run(es);
    expect(r.errors).toEqual([]);
    expect(count(es, 'SELECT count(*) FROM positions WHERE canary_r IS NULL')).toBe(20);
    expect(count(es, 'SELECT count(*) FROM positions WHERE canary_r IS NOT NULL')).toBeGreaterThan(0);
  });

  it('re-blinds everything on epoch rotation, keeping results, handles and first sightings through the links', async () => {
    const both = people(5000, 8);
    const es = await party('ES-CNP', [...people(1000, 40), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 30), ...both]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    const pair = pairId('es-pt', 'ES-CNP', 'PT-PJ');
    for (let i = 0; i < 2; i++) {
      await run(es);
      await run(pt);
    }
    const esBefore = loadResultsView(es.store).matches;
    const ptBefore = loadResultsView(pt.store).matches;
    expect(esBefore.map((m) => m.record_id).sort()).toEqual(both.map((p) => `ES-CNP-${p}`).sort());

    expect((await coord.rotate()).epoch.id).toBe('e2');
    // While the new epoch is being built the last complete results are kept.
    const first = await run(es);
    expect(first.epoch).toBe('e2');
    expect(first.pairs[0]?.linked).toBe(count(es, 'SELECT count(DISTINCT position) FROM matches'));
    expect(loadResultsView(es.store).matches).toEqual(esBefore);
    await run(pt);
    await run(es);
    await run(pt);
    expect((await status(es, pair)).state).toBe('complete');
    // Same records, same handles, same first sightings.
    expect(loadResultsView(es.store).matches).toEqual(esBefore);
    expect(loadResultsView(pt.store).matches).toEqual(ptBefore);
    // Positions restarted at 0 in e2, every upload named e2, and e1's local data is gone.
    const e2uploads = coord.seen.filter((s) => s.method !== 'GET' && s.path.startsWith('/v1/pairs/') && s.epoch === 'e2');
    expect(e2uploads.some((s) => s.path.endsWith('/set/chunks/0'))).toBe(true);
    expect(e2uploads.some((s) => s.path.endsWith('/set/links'))).toBe(true);
    for (const t of ['positions', 'chunks', 'sides', 'partner_chunks', 'partner_tokens']) {
      expect(count(es, `SELECT count(*) FROM ${t} WHERE epoch <> 'e2'`), t).toBe(0);
    }
    expect(count(es, "SELECT min(position) FROM positions WHERE epoch = 'e2'")).toBe(0);
  });

  it('starts over in the new epoch when the epoch rotates during a sync', async () => {
    const both = people(5000, 5);
    const es = await party('ES-CNP', [...people(1000, 30), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 30), ...both]);
    await agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    for (let i = 0; i < 2; i++) {
      await run(es);
      await run(pt);
    }
    // New watchlist entries make ES upload a chunk; the epoch rotates just before it arrives.
    writeCsv(es.file, rows('ES-CNP', [...people(1000, 30), ...both, ...people(9000, 3)]));
    await importWatchlist(es.store, es.file);
    let rotated = false;
    coord.faults = [
      async (r) => {
        if (!rotated && r.agency === 'ES-CNP' && r.method === 'PUT' && r.path.includes('/set/chunks/')) {
          rotated = true;
          await coord.rotate();
        }
        return undefined;
      },
    ];
    const warnings: string[] = [];
    const report = await run(es, { warn: (l) => warnings.push(l) });
    expect(rotated).toBe(true);
    expect(warnings.join('\n')).toContain('starting over in the new epoch');
    expect(report.epoch).toBe('e2');
    expect(report.errors).toEqual([]);
    expect(coord.seen.some((s) => s.agency === 'ES-CNP' && s.epoch === 'e1' && s.path.includes('/set/chunks/'))).toBe(true);
    coord.faults = [];
    for (let i = 0; i < 2; i++) {
      await run(pt);
      await run(es);
    }
    expect(matchedRecords(es, 'PT-PJ')).toEqual(both.map((p) => `ES-CNP-${p}`).sort());
  });
});
