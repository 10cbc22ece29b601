// The agency client's side of the per-epoch probing bound (protocol/SPEC.md
// §3.3), against the real coordinator over HTTP: a side that uploads,
// withdraws and uploads again is refused by its own client before the upload
// that would pass UPLOAD_CAP_FACTOR × maxSetSize + UPLOAD_CAP_ALLOWANCE
// positions in the epoch, and nothing of that night is sent; the partner's
// client notes in its own audit trail when the side passes 1.5 × maxSetSize.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../clients/agency/audit.js';
import { initAgency, loadAgency, type Agency } from '../clients/agency/config.js';
import { sync, type SyncOptions } from '../clients/agency/sync.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { openStore, type Store } from '../clients/store/db.js';
import { uploadCap } from '../wire/limits.js';
import { acceptAs, pairId, RealCoordinator } from './client-coordinator.js';

interface Party {
  agency: Agency;
  store: Store;
  file: string;
}

let dir: string;
let coord: RealCoordinator;
const opened: Store[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-probing-'));
  coord = await RealCoordinator.start();
});

afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await coord.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A watchlist of `n` passports numbered from `from`. */
function watchlist(file: string, prefix: string, from: number, n: number): void {
  const lines = Array.from({ length: n }, (_, i) => `${prefix}-${from + i},passport,ESP:P${String(from + i).padStart(7, '0')}`);
  writeFileSync(file, ['record_id,kind,value', ...lines].join('\n') + '\n');
}

async function party(id: string, country: string): Promise<Party> {
  const r = initAgency({ dir: join(dir, id), agency: id, coordinator: coord.url });
  const agency = loadAgency(r.dir);
  await coord.addAgency(id, r.publicKeyHex, country, agency.signingKey);
  const store = openStore(r.dir);
  opened.push(store);
  return { agency, store, file: join(dir, `${id}.csv`) };
}

const options = (a: Agency): SyncOptions => ({ threads: 0, chunkElements: 1000, canaryCount: () => 5, client: coord.client(a.agency, a.signingKey, 0) });
const run = (p: Party) => sync(p.agency, p.store, options(p.agency));

describe('per-epoch upload cap in the agency client', () => {
  it('refuses locally, before sending anything, the night that would take the side over 2 × maxSetSize + 4096 positions; the partner notes the side passing 1.5 × maxSetSize once', async () => {
    const es = await party('ES-CNP', 'ESP');
    const pt = await party('PT-PJ', 'PRT');
    await coord.addAgreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport'], mode: 'reveal', maxSetSize: 1000 });
    await acceptAs(coord, es.agency, es.store, 'es-pt');
    await acceptAs(coord, pt.agency, pt.store, 'es-pt');
    const pair = pairId('es-pt', 'ES-CNP', 'PT-PJ');
    const cap = uploadCap(1000);
    watchlist(pt.file, 'PT', 500_000, 20);
    await importWatchlist(pt.store, pt.file);
    await run(pt);

    // Every night ES replaces its whole watchlist of 450 (the sync uploads before it sends the night's
    // removals, so the coordinator briefly holds both): the live set stays under 1,000, the epoch's uploads grow.
    // ES-CNP sorts first: side 0 of the pair.
    const size = async () => (await coord.store.pair(pair).summary('e1')).sides[0].size;
    let refused: string | undefined;
    let night = 0;
    for (; night < 20 && refused === undefined; night++) {
      watchlist(es.file, 'ES', night * 10_000, 450);
      await importWatchlist(es.store, es.file, { allowMassWithdrawal: true });
      const before = await size();
      const positions = es.store.sqlite.prepare('SELECT count(*) FROM positions').pluck().get() as number;
      const sent = coord.seen.length;
      const r = await run(es);
      const error = r.errors.find((e) => /upload cap/.test(e));
      if (error === undefined) {
        expect(r.errors).toEqual([]);
        // The partner tokenises the night's chunk.
        expect((await run(pt)).errors).toEqual([]);
        continue;
      }
      refused = error;
      // Nothing of the refused night reached the coordinator, and the local side is as it was.
      expect(before + 455).toBeGreaterThan(cap);
      expect(before).toBeLessThanOrEqual(cap);
      expect(coord.seen.slice(sent).filter((q) => q.method === 'PUT' && /\/set\/chunks\//.test(q.path))).toEqual([]);
      expect(await size()).toBe(before);
      expect(es.store.sqlite.prepare('SELECT count(*) FROM positions').pluck().get()).toBe(positions);
    }
    expect(refused).toMatch(new RegExp(`per-epoch upload cap of ${cap}; nothing was uploaded`));
    expect(night).toBeGreaterThan(12);
    // The client's own refusal, not the coordinator's.
    expect((await coord.store.readAudit(0, 100_000)).filter((e) => e.action === 'pair.upload_cap')).toEqual([]);
    // The partner's client noted, once, the chunk that took ES's uploads past 1.5 × maxSetSize.
    const noted = listAudit(pt.store).filter((e) => e.action === 'pair.partner_churn');
    expect(noted).toHaveLength(1);
    expect(noted[0]?.subject).toBe(pair);
    expect(noted[0]?.detail).toMatchObject({ epoch: 'e1', partner: 'ES-CNP', threshold: 1500, maxSetSize: 1000 });
    expect(Number((noted[0]?.detail as { uploaded: number }).uploaded)).toBeGreaterThan(1500);
    expect(listAudit(es.store).filter((e) => e.action === 'pair.partner_churn')).toEqual([]);
  });
});
