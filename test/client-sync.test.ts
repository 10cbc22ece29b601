// The agency's sync against an in-memory coordinator that follows src/API.md:
// two agencies, planted overlaps, withdrawals, interrupted syncs, a dishonest
// partner, and a count-only agreement.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initAgency, loadAgency, type Agency } from '../clients/agency/config.js';
import { loadResultsView } from '../clients/agency/results.js';
import { sync, type SyncOptions } from '../clients/agency/sync.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { CoordinatorClient } from '../clients/sdk/client.js';
import { openStore, type Store } from '../clients/store/db.js';
import { FakeCoordinator, pairId, type FakeAgreement } from './client-fake-coordinator.js';

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
let coord: FakeCoordinator;
const opened: Store[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-sync-'));
  coord = new FakeCoordinator();
  await coord.start();
});

afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await coord.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function party(id: string, people: number[]): Promise<Party> {
  const r = initAgency({ dir: join(dir, id), agency: id, coordinator: coord.url });
  coord.addAgency(id, r.publicKeyHex);
  const agency = loadAgency(r.dir);
  const store = openStore(r.dir);
  opened.push(store);
  const file = join(dir, `${id}.csv`);
  writeCsv(file, rows(id, people));
  await importWatchlist(store, file);
  return { agency, store, file };
}

function options(extra: Partial<SyncOptions> & { retries?: number } = {}, a?: Agency): SyncOptions {
  const { retries, ...rest } = extra;
  return {
    threads: 0,
    chunkElements: 40,
    canaryCount: () => 5,
    ...(a
      ? { client: new CoordinatorClient({ baseUrl: a.coordinator, keyId: a.agency, secretKey: a.signingKey, retries: retries ?? 3, backoffBaseMs: 5 }) }
      : {}),
    ...rest,
  };
}

const run = (p: Party, extra: Partial<SyncOptions> & { retries?: number } = {}) => sync(p.agency, p.store, options(extra, p.agency));

function matchedRecords(p: Party, partner: string): string[] {
  return loadResultsView(p.store)
    .matches.filter((m) => m.partner === partner)
    .map((m) => m.record_id)
    .sort();
}

const people = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * 7);

describe('sync against a coordinator following API.md', () => {
  it('finds exactly the planted overlaps, is idempotent, and follows withdrawals', async () => {
    const both = people(5000, 9);
    const es = await party('ES-CNP', [...people(1000, 50), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 60), ...both]);
    coord.agreements.push({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email', 'phone'], mode: 'reveal' });

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

    // Both sides see the same handle per matched identifier; kinds are the union per record.
    const esView = loadResultsView(es.store);
    const m0 = esView.matches[0];
    expect(m0?.kinds).toEqual(Number(m0?.record_id.split('-').pop()) % 2 ? ['email', 'passport', 'phone'] : ['email', 'passport']);
    const ptHandles = new Set(loadResultsView(pt.store).matches.map((m) => m.handle));
    for (const m of esView.matches) expect(ptHandles.has(m.handle)).toBe(true);

    // Side size: distinct identifiers + canaries, nothing else.
    const esIds = es.store.sqlite.prepare('SELECT count(*) FROM identifiers').pluck().get() as number;
    const ptIds = pt.store.sqlite.prepare('SELECT count(*) FROM identifiers').pluck().get() as number;
    expect(last.pairs[0]?.live).toBe(ptIds + 5);
    const st = coord.side(pairId('es-pt', 'ES-CNP', 'PT-PJ'), 'ES-CNP');
    expect(st.chunks.reduce((a, c) => a + c.count, 0)).toBe(esIds + 5);
    expect(st.canaries.size).toBe(5);

    // A sync with nothing new sends nothing new.
    const before = coord.log.length;
    const again = await run(es);
    expect(again.pairs[0]).toMatchObject({ added: 0, withdrawn: 0, chunksUploaded: 0, removalsSent: 0, partnerChunksTokenized: 0 });
    const sent = coord.log.slice(before).filter((l) => !l.includes(' GET '));
    expect(sent).toEqual([]);

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
    expect(coord.side(pairId('es-pt', 'ES-CNP', 'PT-PJ'), 'PT-PJ').removed.size).toBe(rows('PT-PJ', both.slice(0, 3)).length);
  });

  it('resumes after lost responses, server errors and an interrupted blinding, sending byte-identical chunks', async () => {
    const both = people(7000, 6);
    const es = await party('ES-CNP', [...people(1000, 80), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 30), ...both]);
    coord.agreements.push({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email', 'phone'], mode: 'reveal' });
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
    expect(es.store.sqlite.prepare('SELECT count(*) FROM positions').pluck().get()).toBe(0);
    expect(coord.side(pair, 'ES-CNP').chunks.length).toBe(0);

    // The response to chunk 1 is lost once (the coordinator stored it): the retry gets 200.
    let dropped = 0;
    coord.faults = [
      (r) => (r.method === 'PUT' && r.path.endsWith('/set/chunks/1') && dropped++ === 0 ? 'drop-after' : undefined),
      // Chunk 3 keeps failing: this sync gives up on the pair after its retries.
      (r) => (r.method === 'PUT' && r.path.endsWith('/set/chunks/3') ? 'fail-500' : undefined),
    ];
    const first = await run(es, { retries: 1 });
    expect(first.errors.length).toBe(1);
    expect(first.errors[0]).toMatch(/500/);
    expect(coord.side(pair, 'ES-CNP').chunks.length).toBe(3);
    const local = es.store.sqlite.prepare('SELECT idx, sha256, uploaded FROM chunks ORDER BY idx').all() as Array<{ idx: number; sha256: string; uploaded: number }>;
    expect(local.map((c) => c.uploaded)).toEqual(local.map((c) => (c.idx < 3 ? 1 : 0)));

    // Rerun: the remaining chunks go up unchanged (the coordinator would 409 on other bytes).
    coord.faults = [];
    const second = await run(es);
    expect(second.errors).toEqual([]);
    expect(coord.side(pair, 'ES-CNP').chunks.map((c) => c.sha256)).toEqual(local.map((c) => c.sha256));

    for (let i = 0; i < 2; i++) {
      await run(pt);
      await run(es);
    }
    expect(matchedRecords(es, 'PT-PJ')).toEqual(both.map((p) => `ES-CNP-${p}`).sort());
    expect(matchedRecords(pt, 'ES-CNP')).toEqual(both.map((p) => `PT-PJ-${p}`).sort());
  });

  it('blinds an identifier once per epoch and reuses the element in its other pairs', async () => {
    const withPt = people(7000, 5);
    const withFr = people(8000, 4);
    const es = await party('ES-CNP', [...people(1000, 30), ...withPt, ...withFr]);
    const pt = await party('PT-PJ', [...people(3000, 10), ...withPt]);
    const fr = await party('FR-OC', [...people(4000, 10), ...withFr]);
    coord.agreements.push({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email', 'phone'], mode: 'reveal' });
    coord.agreements.push({ id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], kinds: ['email'], mode: 'reveal' });
    const logs: string[] = [];
    await run(es, { log: (l) => logs.push(l) });
    const emails = es.store.sqlite.prepare("SELECT count(*) FROM identifiers WHERE kind = 'email'").pluck().get() as number;
    expect(logs.join('\n')).toContain(`${emails} element(s) reused from other pairs of the epoch, 0 blinded`);
    for (let i = 0; i < 2; i++) for (const x of [pt, fr, es]) await run(x);
    expect(matchedRecords(es, 'PT-PJ')).toEqual(withPt.map((p) => `ES-CNP-${p}`).sort());
    expect(matchedRecords(es, 'FR-OC')).toEqual(withFr.map((p) => `ES-CNP-${p}`).sort());
    expect(matchedRecords(fr, 'ES-CNP')).toEqual(withFr.map((p) => `FR-OC-${p}`).sort());
    expect(loadResultsView(es.store).matches.find((m) => m.partner === 'FR-OC')?.kinds).toEqual(['email']);
  });

  it('sends a pair only the kinds of its agreement', async () => {
    const es = await party('ES-CNP', people(1000, 20));
    await party('PT-PJ', people(3000, 20));
    coord.agreements.push({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], mode: 'reveal' });
    const r = await run(es);
    expect(r.pairs[0]?.added).toBe(20);
    expect(coord.side(pairId('es-pt', 'ES-CNP', 'PT-PJ'), 'ES-CNP').chunks.reduce((a, c) => a + c.count, 0)).toBe(25);
  });

  it('fails a pair loudly when the partner tokenises dishonestly, and clears its matches', async () => {
    const both = people(7000, 4);
    const es = await party('ES-CNP', [...people(1000, 10), ...both]);
    const pt = await party('PT-PJ', [...people(3000, 10), ...both]);
    coord.agreements.push({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email'], mode: 'reveal' });
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
    const a: FakeAgreement = { id: 'es-pt-stats', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], mode: 'count' };
    coord.agreements.push(a);
    for (let i = 0; i < 2; i++) {
      await run(es);
      await run(pt);
    }
    const view = loadResultsView(es.store);
    expect(view.matches).toEqual([]);
    expect(view.counts).toEqual([{ partner: 'PT-PJ', count: 7 }]);
  });

  it('refuses to grow a side beyond the agreement maximum', async () => {
    const es = await party('ES-CNP', people(1000, 20));
    await party('PT-PJ', people(3000, 5));
    coord.agreements.push({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], mode: 'reveal', maxSetSize: 10 });
    const r = await run(es);
    expect(r.errors[0]).toMatch(/maximum set size of 10/);
    expect(es.store.sqlite.prepare('SELECT count(*) FROM positions').pluck().get()).toBe(0);
  });
});
