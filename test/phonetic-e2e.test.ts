// name_dob_phonetic end to end: two agencies that wrote one person's name by
// different conventions find each other only through the derived kind, and
// only when their agreement lists it; the match is a candidate.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResultsView } from '../clients/agency/results.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { openStore } from '../clients/store/db.js';
import { World } from './client-world.js';

let w: World;

async function importCsv(id: string, rows: string[]): Promise<void> {
  const file = join(w.work, `${id}-names.csv`);
  writeFileSync(file, `record_id,kind,value\n${rows.join('\n')}\n`);
  const store = openStore(w.dir(id));
  try {
    await importWatchlist(store, file, { allowMassWithdrawal: true });
  } finally {
    store.close();
  }
}

function view(id: string): ReturnType<typeof loadResultsView> {
  const store = openStore(w.dir(id));
  try {
    return loadResultsView(store);
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  w = await World.start();
  await w.agency('DE-BKA', 'DEU', []);
  await w.agency('PL-KGP', 'POL', []);
  await w.agency('FR-OC', 'FRA', []);
  await importCsv('DE-BKA', ['de-1,name_dob,"Tschaikowski, Peter|1940-05-07"', 'de-2,name_dob,Hans Müller|1975-01-05', 'de-3,name_dob,Gorbatschow Michail|1951-03-02']);
  await importCsv('PL-KGP', ['pl-1,name_dob,Czajkowski Piotr|1940-07-05', 'pl-2,name_dob,Hans Müller|1975-01-05', 'pl-3,name_dob,Gorbaczow Michaił|1952-03-02']);
  await importCsv('FR-OC', ['fr-1,name_dob,Tchaïkovski Piotr|1940-05-07']);
  await w.agreement({ id: 'de-pl', parties: ['DE-BKA', 'PL-KGP'], kinds: ['name_dob', 'name_dob_phonetic'] });
  await w.agreement({ id: 'de-fr', parties: ['DE-BKA', 'FR-OC'], kinds: ['name_dob'] });
  await w.syncAll();
}, 240_000);

afterAll(async () => {
  await w?.stop();
});

describe('name_dob_phonetic between agencies', () => {
  it('finds the person written two ways as a candidate, the identical spelling as an exact match, and not another birth date', () => {
    const de = view('DE-BKA').matches.filter((m) => m.partner === 'PL-KGP');
    expect(de.map((m) => [m.record_id, m.kinds, m.candidate]).sort()).toEqual([
      ['de-1', ['name_dob_phonetic'], true],
      ['de-2', ['name_dob', 'name_dob_phonetic'], false],
    ]);
    const pl = view('PL-KGP').matches.filter((m) => m.partner === 'DE-BKA');
    expect(pl.map((m) => [m.record_id, m.candidate]).sort()).toEqual([
      ['pl-1', true],
      ['pl-2', false],
    ]);
  });

  it('matches nothing through the derived kind where the agreement does not list it', () => {
    expect(view('DE-BKA').matches.filter((m) => m.partner === 'FR-OC')).toEqual([]);
    expect(view('FR-OC').matches).toEqual([]);
  });

  it('keeps the derived keys through a cached re-import and withdraws them with their row', async () => {
    await importCsv('DE-BKA', ['de-1,name_dob,"Tschaikowski, Peter|1940-05-07"', 'de-2,name_dob,Hans Müller|1975-01-05', 'de-3,name_dob,Gorbatschow Michail|1951-03-02']);
    const count = (): number => {
      const store = openStore(w.dir('DE-BKA'));
      try {
        return (store.sqlite.prepare("SELECT count(*) AS n FROM identifiers WHERE kind = 'name_dob_phonetic'").get() as { n: number }).n;
      } finally {
        store.close();
      }
    };
    const before = count();
    expect(before).toBeGreaterThanOrEqual(3);
    await importCsv('DE-BKA', ['de-2,name_dob,Hans Müller|1975-01-05', 'de-3,name_dob,Gorbatschow Michail|1951-03-02']);
    expect(count()).toBeLessThan(before);
    await w.sync('DE-BKA');
    await w.sync('PL-KGP');
    await w.sync('DE-BKA');
    expect(view('DE-BKA').matches.filter((m) => m.partner === 'PL-KGP').map((m) => m.record_id)).toEqual(['de-2']);
  });
});
