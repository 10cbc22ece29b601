// `concordat import`: CSV and JSON Lines watchlists replace the stored one;
// bad rows are reported by file and line, never with their value.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectFormat, formatImportSummary, importWatchlist, type RejectedRow } from '../clients/agency/watchlist.js';
import { openStore, type Store } from '../clients/store/db.js';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-import-'));
  store = openStore(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function stored(): string[] {
  return (store.sqlite.prepare('SELECT record_id, kind, canonical FROM identifiers ORDER BY 1, 2, 3').all() as Array<Record<string, string>>).map(
    (r) => `${r.record_id}|${r.kind}|${r.canonical}`,
  );
}

const SECRET = 'ZZSECRET99';

describe('import', () => {
  it('imports a CSV watchlist with canonical forms and collapses duplicates', async () => {
    const f = file(
      'w.csv',
      'record_id,kind,value\n' +
        'r1,passport,esp:p0000001\n' +
        'r1,email,Person1@Mail.Example\n' +
        'r1,email,person1@mail.example\n' +
        'r1,email,person1@mail.example\n' +
        'r2,phone,+34 91 123 45 67\n',
    );
    const s = await importWatchlist(store, f);
    expect(s).toMatchObject({ format: 'csv', rows: 5, rejected: 0, identifiers: 3, records: 2, added: 3, withdrawn: 0, imported: true });
    expect(stored()).toEqual(['r1|email|person1@mail.example', 'r1|passport|ESP:P0000001', 'r2|phone|+34911234567']);
    expect(formatImportSummary(s)).toBe('imported 3 identifiers of 2 records; 0 rows rejected; 3 added, 0 withdrawn since the last import');
  });

  it('imports JSON Lines, chosen by extension or sniffed', async () => {
    const text =
      '{"record_id":"r1","kind":"passport","value":"ESP:P0000001"}\n\n' + '{"record_id":"r2","kind":"email","value":"a@b.example"}\r\n';
    const a = file('w.jsonl', text);
    const b = file('w.ndjson', text);
    const c = file('watchlist.txt', text);
    expect(await detectFormat(a)).toBe('jsonl');
    expect(await detectFormat(b)).toBe('jsonl');
    expect(await detectFormat(c)).toBe('jsonl');
    expect(await detectFormat(file('x.data', '\uFEFFrecord_id,kind,value\n'))).toBe('csv');
    const s = await importWatchlist(store, c);
    expect(s).toMatchObject({ format: 'jsonl', rows: 2, rejected: 0, identifiers: 2, records: 2 });
  });

  it('reports bad rows with their line and reason but never the value, and imports the rest', async () => {
    const csv = file(
      'bad.csv',
      'record_id,kind,value\n' +
        `r1,iban,${SECRET}\n` + // 2: iban format
        `"r 2",email,${SECRET}@x.example\n` + // 3: record_id
        `r3,shoe_size,${SECRET}\n` + // 4: unknown kind
        'r4,email,ok@mail.example\n' + // 5: fine
        `"r5\nstill r5",phone,${SECRET}\n` + // 6-7: multi-line record_id
        `r6,phone,\n` + // 8: empty value
        `r7,email,a,${SECRET}\n` + // 9: too many fields
        `r8,"${SECRET}\n`.replace('\n', '",x"y\n') + // 10: CSV syntax
        'r9,phone,612 345 678\n', // 11: no country code
    );
    const rejected: RejectedRow[] = [];
    const s = await importWatchlist(store, csv, { onReject: (r) => rejected.push(r) });
    expect(rejected.map((r) => r.line)).toEqual([2, 3, 4, 6, 8, 9, 10, 11]);
    for (const r of rejected) expect(r.reason).not.toContain('ZZSECRET');
    expect(rejected[0]?.reason).toMatch(/iban\.format/);
    expect(rejected[1]?.reason).toMatch(/^record_id:/);
    expect(rejected[2]?.reason).toMatch(/^kind:/);
    expect(rejected[7]?.reason).toMatch(/phone\.no_country/);
    expect(s).toMatchObject({ rejected: 8, identifiers: 1, imported: true });
    expect(stored()).toEqual(['r4|email|ok@mail.example']);

    // --default-country turns the national phone number into E.164.
    const again = await importWatchlist(store, csv, { defaultCountry: 'ES', onReject: () => {} });
    expect(again.rejected).toBe(7);
    expect(stored()).toContain('r9|phone|+34612345678');

    const jl = file(
      'bad.jsonl',
      '{"record_id":"r1","kind":"email","value":"ok@mail.example"}\n' +
        `{"record_id":"r2","kind":"email","value":"${SECRET}"\n` + // 2: broken JSON
        `{"record_id":"r3","kind":"imei","value":${JSON.stringify(SECRET)}}\n` + // 3: imei format
        `{"record_id":"r4","kind":"email","value":12345}\n` + // 4: not a string
        `["${SECRET}"]\n`, // 5: not an object
    );
    const rej2: RejectedRow[] = [];
    await importWatchlist(store, jl, { onReject: (r) => rej2.push(r) });
    expect(rej2.map((r) => r.line)).toEqual([2, 3, 4, 5]);
    for (const r of rej2) expect(r.reason).not.toContain('ZZSECRET');
    expect(rej2[0]?.reason).toBe('not a valid JSON object');
  });

  it('--strict refuses the whole file when a row is bad', async () => {
    await importWatchlist(store, file('ok.csv', 'record_id,kind,value\nr1,email,a@mail.example\n'));
    const s = await importWatchlist(store, file('bad.csv', 'record_id,kind,value\nr2,email,b@mail.example\nr3,iban,XX\n'), {
      strict: true,
      onReject: () => {},
    });
    expect(s.imported).toBe(false);
    expect(s.rejected).toBe(1);
    expect(stored()).toEqual(['r1|email|a@mail.example']);
  });

  it('replaces the watchlist: re-import is a no-op, missing identifiers are withdrawn', async () => {
    const v1 = file('v1.csv', 'record_id,kind,value\nr1,email,a@mail.example\nr1,passport,ESP:P1\nr2,email,b@mail.example\n');
    expect(await importWatchlist(store, v1)).toMatchObject({ added: 3, withdrawn: 0 });
    const before = stored();
    expect(await importWatchlist(store, v1)).toMatchObject({ added: 0, withdrawn: 0, identifiers: 3 });
    expect(stored()).toEqual(before);
    const v2 = file('v2.jsonl', '{"record_id":"r1","kind":"email","value":"a@mail.example"}\n{"record_id":"r3","kind":"email","value":"c@mail.example"}\n');
    expect(await importWatchlist(store, v2)).toMatchObject({ added: 1, withdrawn: 2, identifiers: 2, records: 2 });
    expect(stored()).toEqual(['r1|email|a@mail.example', 'r3|email|c@mail.example']);
  });

  it('refuses a CSV without the required header, keeping the stored watchlist', async () => {
    await importWatchlist(store, file('ok.csv', 'record_id,kind,value\nr1,email,a@mail.example\n'));
    await expect(importWatchlist(store, file('nohdr.csv', 'r2,email,b@mail.example\n'))).rejects.toThrow(/header must name the columns/);
    expect(stored()).toEqual(['r1|email|a@mail.example']);
  });

  it('imports 100,000 rows in one transaction, quickly', async () => {
    const lines = ['record_id,kind,value'];
    for (let i = 0; i < 50_000; i++) lines.push(`rec-${i},email,person${i}@mail.example`, `rec-${i},passport,ESP:P${String(i).padStart(7, '0')}`);
    const f = file('big.csv', `${lines.join('\n')}\n`);
    const t0 = Date.now();
    const s = await importWatchlist(store, f);
    const ms = Date.now() - t0;
    expect(s).toMatchObject({ rows: 100_000, rejected: 0, identifiers: 100_000, records: 50_000 });
    expect(ms).toBeLessThan(20_000);
    const t1 = Date.now();
    expect(await importWatchlist(store, f)).toMatchObject({ added: 0, withdrawn: 0 });
    expect(Date.now() - t1).toBeLessThan(20_000);
  });
});
