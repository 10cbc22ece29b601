// Results and hits fetched as deltas (GET /v1/results and GET /v1/hits with
// If-None-Match) against a hostile coordinator: a 304 is taken only for the
// tag of a document this agency verified and applied, so it stands for that
// document and nothing else; the coordinator gains nothing it could not
// already do by replaying that document. The agency never names a tag it did
// not apply, asks unconditionally once its watchlist changed, and refuses a
// 304 to a request that named no tag.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullHitStatuses } from '../../clients/agency/hits.js';
import { pullResults } from '../../clients/agency/results.js';
import { importWatchlist } from '../../clients/agency/watchlist.js';
import type { Store } from '../../clients/store/db.js';
import { type Exchange } from './hostile.js';
import { built, csvOf, range, World } from './world.js';

const ES = 'ES-CNP';
const PT = 'PT-PJ';
const both = range(910_000, 5);
let w: World;

const resultsOf = (x: Exchange) => x.method === 'GET' && x.path === '/v1/results' && x.agency === ES;
const hitsOf = (x: Exchange) => x.method === 'GET' && x.path === '/v1/hits' && x.agency === ES;
const client = () => w.coord.client(ES, w.get(ES).signingKey);
const matches = (s: Store) => s.sqlite.prepare('SELECT pair, position, record_id, handle, first_seen FROM matches ORDER BY pair, position, record_id').all();
const tag = (s: Store, key: string) => s.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(key) as string | undefined;
const lastSeen = (f: (x: Exchange) => boolean) => w.coord.seen.filter(f).at(-1) as Exchange;

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  await w.agency(ES, 'ESP', [...range(110_000, 20), ...both]);
  await w.agency(PT, 'PRT', [...range(210_000, 20), ...both]);
  await w.agreement({ id: 'es-pt', parties: [ES, PT] });
  await w.acceptAll('es-pt', [ES, PT]);
  await w.syncAll([ES, PT]);
}, 180_000);
afterAll(async () => {
  await w?.stop();
});

describe('results and hits as deltas against a hostile coordinator', () => {
  it('names the tag of the applied document, and the real coordinator answers 304 while nothing changed', async () => {
    await w.withStore(ES, async (s) => {
      await pullResults(client(), s);
      await pullHitStatuses(client(), s);
      const kept = matches(s);
      expect(kept.length).toBeGreaterThanOrEqual(both.length);
      const rTag = tag(s, 'results.etag');
      const hTag = tag(s, 'hits.etag');
      expect(rTag).toBeDefined();
      expect(hTag).toMatch(/^"hits-[0-9a-f]{64}"$/);
      await pullResults(client(), s);
      await pullHitStatuses(client(), s);
      expect(lastSeen(resultsOf).headers.get('if-none-match')).toBe((JSON.parse(rTag as string) as { etag: string }).etag);
      expect(lastSeen(resultsOf).status).toBe(304);
      expect(lastSeen(hitsOf).headers.get('if-none-match')).toBe(hTag);
      expect(lastSeen(hitsOf).status).toBe(304);
      expect(matches(s)).toEqual(kept);
    });
  });

  it('refuses a 304 to a request that named no tag, and keeps what it had', async () => {
    await w.withStore(ES, async (s) => {
      const kept = matches(s);
      s.sqlite.prepare("DELETE FROM local_state WHERE key IN ('results.etag', 'hits.etag')").run();
      const off = w.coord.use({ label: 'a 304 for nothing', when: (x) => resultsOf(x) || hitsOf(x), answer: () => new Response(null, { status: 304, headers: { etag: '"forged"' } }) });
      try {
        await expect(pullResults(client(), s)).rejects.toThrow(/304/);
        await expect(pullHitStatuses(client(), s)).rejects.toThrow(/304/);
      } finally {
        off();
      }
      expect(lastSeen(resultsOf).headers.get('if-none-match')).toBeNull();
      expect(matches(s)).toEqual(kept);
      expect(tag(s, 'results.etag')).toBeUndefined();
    });
  });

  it('a forged 304 for the applied tag changes nothing but the time the results were confirmed at', async () => {
    await w.withStore(ES, async (s) => {
      await pullResults(client(), s);
      const kept = matches(s);
      const pairs = s.sqlite.prepare('SELECT pair, state, count FROM pair_results ORDER BY pair').all();
      // The real document would now differ; the coordinator hides that behind a 304.
      const off = w.coord.use({ label: 'a 304 hiding a change', when: resultsOf, answer: () => new Response(null, { status: 304 }) });
      try {
        const pulled = await pullResults(client(), s);
        expect(pulled.pairs.map((p) => p.state)).toEqual(['complete']);
      } finally {
        off();
      }
      expect(matches(s)).toEqual(kept);
      expect(s.sqlite.prepare('SELECT pair, state, count FROM pair_results ORDER BY pair').all()).toEqual(pairs);
    });
  });

  it('asks unconditionally once the watchlist changed: matches map to the records listed now', async () => {
    await w.withStore(ES, async (s) => {
      await pullResults(client(), s);
      const file = join(w.work, `${ES}-renamed.csv`);
      // The same identifiers under other record ids: the coordinator's document does not change, the mapping does.
      writeFileSync(file, csvOf(`${ES}-renamed`, [...range(110_000, 20), ...both]));
      await importWatchlist(s, file, { allowMassWithdrawal: true });
      await pullResults(client(), s);
      expect(lastSeen(resultsOf).headers.get('if-none-match')).toBeNull();
      expect(lastSeen(resultsOf).status).toBe(200);
      const records = s.sqlite.prepare('SELECT DISTINCT record_id FROM matches').pluck().all() as string[];
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) expect(r.startsWith(`${ES}-renamed-`)).toBe(true);
    });
  });
});
