// `concordat import`: CSV and JSON Lines watchlists replace the stored one;
// bad rows are reported by file and line, never with their value.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectFormat, formatImportSummary, importWatchlist, type RejectedRow } from '../clients/agency/watchlist.js';
import { openStore, type Store } from '../clients/store/db.js';
import { AgencyError } from '../clients/sdk/errors.js';

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

  it('reports rows with a bad value by line and reason but never the value, and imports the rest', async () => {
    const csv = file(
      'bad.csv',
      'record_id,kind,value\n' +
        `r1,iban,${SECRET}\n` + // 2: iban format
        `"r 2",email,${SECRET}@x.example\n` + // 3: record_id
        `r3,shoe_size,${SECRET}\n` + // 4: unknown kind
        'r4,email,ok@mail.example\n' + // 5: fine
        `"r5\nstill r5",phone,${SECRET}\n` + // 6-7: multi-line record_id
        `r6,phone,\n` + // 8: empty value
        `r7,"${SECRET}, quoted",x\n` + // 9: unknown kind, quoted with a comma
        'r9,phone,612 345 678\n', // 10: no country code
    );
    const rejected: RejectedRow[] = [];
    const s = await importWatchlist(store, csv, { onReject: (r) => rejected.push(r) });
    expect(rejected.map((r) => r.line)).toEqual([2, 3, 4, 6, 8, 9, 10]);
    for (const r of rejected) expect(r.reason).not.toContain('ZZSECRET');
    expect(rejected[0]?.reason).toMatch(/iban\.format/);
    expect(rejected[1]?.reason).toMatch(/^record_id:/);
    expect(rejected[2]?.reason).toMatch(/^kind:/);
    expect(rejected[6]?.reason).toMatch(/phone\.no_country/);
    expect(s).toMatchObject({ rejected: 7, identifiers: 1, imported: true });
    expect(stored()).toEqual(['r4|email|ok@mail.example']);

    // --default-country turns the national phone number into E.164; bad rows are checked again every time.
    const again = await importWatchlist(store, csv, { defaultCountry: 'ES', onReject: () => {} });
    expect(again.rejected).toBe(6);
    expect(stored()).toContain('r9|phone|+34612345678');

    const jl = file(
      'bad.jsonl',
      '{"record_id":"r1","kind":"email","value":"ok@mail.example"}\n' +
        `{"record_id":"r3","kind":"imei","value":${JSON.stringify(SECRET)}}\n` + // 2: imei format
        `{"record_id":"r4","kind":"email","value":12345}\n` + // 3: not a string
        `["${SECRET}"]\n`, // 4: not an object
    );
    const rej2: RejectedRow[] = [];
    await importWatchlist(store, jl, { onReject: (r) => rej2.push(r), allowMassWithdrawal: true });
    expect(rej2.map((r) => r.line)).toEqual([2, 3, 4]);
    for (const r of rej2) expect(r.reason).not.toContain('ZZSECRET');
  });

  it('refuses a file that cannot be parsed, as a whole, naming the line but never the value', async () => {
    await importWatchlist(store, file('ok.csv', 'record_id,kind,value\nr1,email,a@mail.example\n'));
    const before = stored();
    const cases: Array<[string, string, RegExp]> = [
      ['fields.csv', `record_id,kind,value\nr2,email,b@mail.example\nr7,email,a,${SECRET}\n`, /fields.csv:3: CSV syntax error: the number of fields differs/],
      ['quote.csv', `record_id,kind,value\nr2,email,b@mail.example\nr8,email,"${SECRET}\nr9,email,c@mail.example\n`, /quote.csv:3: CSV syntax error: a quoted field is never closed/],
      ['closing.csv', `record_id,kind,value\nr8,email,"${SECRET}"x\n`, /closing.csv:2: CSV syntax error/],
      ['broken.jsonl', `{"record_id":"r2","kind":"email","value":"b@mail.example"}\n{"record_id":"r3","kind":"email","value":"${SECRET}"\n`, /broken.jsonl:2: not a valid JSON object/],
      ['empty.csv', '', /empty.csv: the file is empty/],
      ['blank.jsonl', '\n  \n', /blank.jsonl: the file is empty/],
      ['latin1.csv', 'record_id,kind,value\nr2,name_dob,M\xfcller Hans|1970-01-01\n', /latin1.csv:2: not valid UTF-8 text; nothing imported\. .*--encoding latin1/],
    ];
    for (const [name, text, message] of cases) {
      const f = join(dir, name);
      writeFileSync(f, name.startsWith('latin1') ? Buffer.from(text, 'latin1') : text);
      const e = await importWatchlist(store, f, { onReject: () => {} }).then(
        () => undefined,
        (x: Error) => x,
      );
      expect(e, name).toBeInstanceOf(AgencyError);
      expect(e?.message).toMatch(message);
      expect(e?.message).not.toContain('ZZSECRET');
      expect(stored()).toEqual(before);
    }
    await expect(importWatchlist(store, join(dir, 'missing.csv'))).rejects.toThrow(/missing.csv: no such file; nothing imported/);
    expect(stored()).toEqual(before);
  });

  it('reads UTF-16 by its byte order mark and legacy encodings named with encoding', async () => {
    const text = 'record_id,kind,value\nr1,name_dob,Müller Hans|1970-01-01\nr1,email,a@mail.example\n';
    await importWatchlist(store, file('utf8.csv', text));
    const want = stored();
    expect(want).toContain('r1|name_dob|HANS MULLER|1970-01-01');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const [name, bytes, encoding] of [
      ['le.csv', le, undefined],
      ['be.csv', be, undefined],
      ['latin1.csv', Buffer.from(text, 'latin1'), 'latin1'],
      ['cp1252.csv', Buffer.from(text, 'latin1'), 'windows-1252'],
      ['bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), undefined],
    ] as const) {
      store.sqlite.exec('DELETE FROM identifiers; DELETE FROM import_cache; DELETE FROM import_cache_chunks; DELETE FROM import_cache_dead');
      writeFileSync(join(dir, name), bytes);
      const s = await importWatchlist(store, join(dir, name), encoding ? { encoding } : {});
      expect(s, name).toMatchObject({ rejected: 0, identifiers: 2 });
      expect(stored(), name).toEqual(want);
    }
    await expect(importWatchlist(store, join(dir, 'le.csv'), { encoding: 'klingon' })).rejects.toThrow(/--encoding: unknown encoding/);
  });

  it('refuses to withdraw more than the allowed share of the watchlist, unless allowed', async () => {
    const rows = (n: number) => `record_id,kind,value\n${Array.from({ length: n }, (_, i) => `r${i},email,p${i}@mail.example`).join('\n')}\n`;
    await importWatchlist(store, file('v1.csv', rows(10)));
    const before = stored();
    await expect(importWatchlist(store, file('v2.csv', rows(7)))).rejects.toThrow(
      /v2.csv: this import would withdraw 3 of the 10 stored identifiers \(30\.0 %\), more than --max-withdrawal 20 %; nothing imported/,
    );
    await expect(importWatchlist(store, file('v3.csv', 'record_id,kind,value\n'))).rejects.toThrow(/withdraw 10 of the 10/);
    expect(stored()).toEqual(before);
    expect(await importWatchlist(store, file('v4.csv', rows(8)))).toMatchObject({ withdrawn: 2 });
    expect(await importWatchlist(store, file('v5.csv', rows(6)), { maxWithdrawalPercent: 30 })).toMatchObject({ withdrawn: 2 });
    expect(await importWatchlist(store, file('v6.csv', 'record_id,kind,value\n'), { allowMassWithdrawal: true })).toMatchObject({ withdrawn: 6, identifiers: 0 });
  });

  it('re-imports only what changed, with exactly the store a full import gives (random edits)', async () => {
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const value = (): [string, string] => {
      const p = rnd(60);
      switch (rnd(7)) {
        case 0:
          return ['passport', `ESP:P${String(p).padStart(7, '0')}`];
        case 1:
          return ['email', rnd(2) ? `Person${p}@Mail.Example` : `person${p}@mail.example`];
        case 2:
          return ['phone', `+34 91 ${String(p).padStart(7, '0')}`];
        case 3:
          return ['name_dob', `"García, José ${p}|1980-02-29"`];
        case 4:
          return ['email', `"multi\nline${p}@mail.example"`];
        case 5:
          return ['iban', `NOT-AN-IBAN-${p}`];
        default:
          return ['passport', `esp-p${String(p).padStart(7, '0')}`];
      }
    };
    const line = (): string => {
      const [k, v] = value();
      return `${rnd(5) === 0 ? ' ' : ''}rec-${rnd(40)},${k},${v}`;
    };
    let lines = Array.from({ length: 300 }, line);
    const full = openStore(mkdtempSync(join(tmpdir(), 'concordat-import-full-')));
    const dump = (s: Store) => ({
      identifiers: s.sqlite.prepare('SELECT record_id, kind, canonical FROM identifiers ORDER BY 1, 2, 3').raw().all(),
      // Stored entries differ (an incremental import keeps dead ones); what they give does not.
      cache: s.sqlite.prepare('SELECT identifiers FROM import_cache').raw().all(),
    });
    const chunkCount = (): number => store.sqlite.prepare('SELECT count(*) FROM import_cache_chunks').pluck().get() as number;
    const deadMarked = (): number => store.sqlite.prepare('SELECT count(*) FROM import_cache_dead').pluck().get() as number;
    let appended = 0;
    let rewritten = 0;
    const body = (ls: string[]) => `record_id,kind,value\n${ls.join('\n')}\n`;
    let previous: string[] = [];
    try {
      for (let round = 0; round < 12; round++) {
        if (round > 0) {
          for (let e = 0; e < 30; e++) {
            const at = rnd(lines.length + 1);
            const op = rnd(3);
            if (op === 0) lines.splice(at, 0, line());
            else if (op === 1 && lines.length > 1) lines.splice(at % lines.length, 1);
            else lines[at % lines.length] = line();
          }
        }
        const f = file(`round${round}.csv`, body(lines));
        const chunksBefore = chunkCount();
        const s = await importWatchlist(store, f, { onReject: () => {}, allowMassWithdrawal: true });
        if (round > 0 && chunkCount() > chunksBefore && deadMarked() > 0) appended++;
        if (round > 0 && chunkCount() < chunksBefore) rewritten++;
        full.sqlite.exec('DELETE FROM identifiers; DELETE FROM import_cache; DELETE FROM import_cache_chunks; DELETE FROM import_cache_dead');
        const t = await importWatchlist(full, f, { onReject: () => {} });
        expect(t.unchanged).toBe(0);
        expect(dump(store), `round ${round}`).toEqual(dump(full));
        expect({ ...s, unchanged: 0, added: 0, withdrawn: 0 }).toEqual({ ...t, added: 0, withdrawn: 0 });
        // The summary counts the file's identifiers; the derived phonetic keys are in the dumps.
        const now = stored().filter((x) => !x.includes('|name_dob_phonetic|'));
        expect(s.added).toBe(now.filter((x) => !previous.includes(x)).length);
        expect(s.withdrawn).toBe(previous.filter((x) => !now.includes(x)).length);
        if (round > 0) expect(s.unchanged).toBeGreaterThan(s.rows / 2);
        // The same file again: every single-line row comes from the cache.
        const again = await importWatchlist(store, f, { onReject: () => {} });
        expect(again).toMatchObject({ added: 0, withdrawn: 0, rejected: s.rejected });
        expect(again.unchanged).toBe(s.rows - s.rejected);
        expect(dump(store)).toEqual(dump(full));
        previous = now;
      }
      // Both ways of storing the cache were taken: dead marks with an appended chunk, and a rewrite.
      expect(appended).toBeGreaterThan(0);
      expect(rewritten).toBeGreaterThan(0);
      // Another column order or another default country is read afresh, to the same result.
      const swapped = file('swapped.csv', body(lines).replace('record_id,kind,value', 'record_id, kind ,value'));
      expect((await importWatchlist(store, swapped, { onReject: () => {} })).unchanged).toBe(0);
      expect(dump(store)).toEqual(dump(full));
      expect((await importWatchlist(store, swapped, { onReject: () => {}, defaultCountry: 'ES' })).unchanged).toBe(0);
    } finally {
      full.close();
    }
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
    expect(await importWatchlist(store, v2, { allowMassWithdrawal: true })).toMatchObject({ added: 1, withdrawn: 2, identifiers: 2, records: 2 });
    expect(stored()).toEqual(['r1|email|a@mail.example', 'r3|email|c@mail.example']);
  });

  it('itemises changes in the changelog only while a side holds a watermark, and always advances its position', async () => {
    const seq = (): number =>
      (store.sqlite.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'identifier_changes'), 0)").pluck().get() as number) ?? 0;
    const changes = (): number => store.sqlite.prepare('SELECT count(*) FROM identifier_changes').pluck().get() as number;
    const triggers = (): string[] =>
      store.sqlite.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'identifiers' ORDER BY name").pluck().all() as string[];
    const kept = triggers();
    expect(kept).toHaveLength(3);
    // No side: the first import writes no changelog rows, but its position moves.
    await importWatchlist(store, file('a.csv', 'record_id,kind,value\nr1,email,a@mail.example\nr2,email,b@mail.example\n'));
    expect(changes()).toBe(0);
    const afterFirst = seq();
    expect(afterFirst).toBeGreaterThan(0);
    expect(triggers()).toEqual(kept);
    // The same file again changes nothing: the position stays.
    await importWatchlist(store, file('a.csv', 'record_id,kind,value\nr1,email,a@mail.example\nr2,email,b@mail.example\n'));
    expect(seq()).toBe(afterFirst);
    // A side with a watermark: the next import itemises what it changed.
    store.sqlite
      .prepare("INSERT INTO sides (pair, epoch, agreement, partner, created_at, canaries, delta_seq, delta_kinds) VALUES ('p', 'e', 'a', 'B', '2026-01-01T00:00:00Z', 0, ?, '[\"email\"]')")
      .run(afterFirst);
    await importWatchlist(store, file('b.csv', 'record_id,kind,value\nr1,email,a@mail.example\nr3,email,c@mail.example\n'), { allowMassWithdrawal: true });
    const rows = store.sqlite.prepare('SELECT kind, canonical FROM identifier_changes WHERE seq > ? ORDER BY canonical').all(afterFirst);
    expect(rows).toEqual([
      { kind: 'email', canonical: 'b@mail.example' },
      { kind: 'email', canonical: 'c@mail.example' },
    ]);
    expect(triggers()).toEqual(kept);
  });

  it('refuses a CSV without the required header, keeping the stored watchlist', async () => {
    await importWatchlist(store, file('ok.csv', 'record_id,kind,value\nr1,email,a@mail.example\n'));
    await expect(importWatchlist(store, file('nohdr.csv', 'r2,email,b@mail.example\n'))).rejects.toThrow(/header must name the columns/);
    expect(stored()).toEqual(['r1|email|a@mail.example']);
  });

  it('refuses a header naming a required column twice, naming the file, line 1 and the column', async () => {
    await importWatchlist(store, file('ok.csv', 'record_id,kind,value\nr1,email,a@mail.example\n'));
    const f = file('twice.csv', `record_id,kind,value,Value\nr2,email,b@mail.example,${SECRET}@mail.example\n`);
    const e = await importWatchlist(store, f).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgencyError);
    expect((e as Error).message).toBe(`${f}:1: the header names the column value more than once; nothing imported`);
    expect((e as Error).message).not.toContain(SECRET);
    expect(stored()).toEqual(['r1|email|a@mail.example']);
  });

  it('reads lines without quotes into the same fields csv-parse gives (generated lines, LF and CRLF)', async () => {
    // Lines without quotes are split at commas without csv-parse; a store
    // from a file of such lines must equal the one csv-parse's fields give.
    const ws = fc.constantFrom(' ', '\t', '\f', '\u00a0', '\u2003', '\ufeff', '\r');
    const pad = fc.array(ws, { maxLength: 2 }).map((a) => a.join(''));
    const value = fc.constantFrom('a@mail.example', 'ESP:P0000001', '+34 91 123 45 67', 'x', '');
    const kind = fc.constantFrom('email', 'passport', 'phone', 'vin');
    const cell = (g: fc.Arbitrary<string>) => fc.tuple(pad, g, pad).map(([a, b, c]) => `${a}${b}${c}`);
    const row = fc.tuple(cell(fc.constantFrom('r1', 'r2', 'r-3')), cell(kind), cell(value), fc.boolean()).map(([r, k, v, extra]) => (extra ? `${r},${k},${v},` : `${r},${k},${v}`));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 12 }), fc.boolean(), async (rows, crlf) => {
        const eol = crlf ? '\r\n' : '\n';
        const text = `record_id,kind,value${eol}${rows.join(eol)}${eol}`;
        const name = `gen-${n++}.csv`;
        const got = await importWatchlist(store, file(name, text), { allowMassWithdrawal: true, ignoreCache: true }).then(
          () => ({ ok: true as const, rows: stored() }),
          (e: unknown) => ({ ok: false as const, message: (e as Error).message }),
        );
        let records: string[][] | undefined;
        try {
          records = (parseCsv(text, { trim: true, skip_empty_lines: true }) as string[][]).slice(1);
        } catch {
          records = undefined;
        }
        if (records === undefined) {
          expect(got.ok).toBe(false);
          return;
        }
        // What the fields csv-parse gives import into, through the JSON Lines reader (no CSV involved).
        const jsonl = records
          .filter((f) => f.some((x) => x !== ''))
          .map((f) => JSON.stringify({ record_id: f[0], kind: f[1], value: f[2] }))
          .join('\n');
        const other = await openStore(mkdtempSync(join(dir, 'ref-')));
        try {
          const refFile = file(`${name}.jsonl`, `${jsonl}\n`);
          if (jsonl === '') {
            expect(got.ok ? got.rows : []).toEqual([]);
            return;
          }
          await importWatchlist(other, refFile);
          const ref = (other.sqlite.prepare('SELECT record_id, kind, canonical FROM identifiers ORDER BY 1, 2, 3').all() as Array<Record<string, string>>).map(
            (r) => `${r.record_id}|${r.kind}|${r.canonical}`,
          );
          expect(got.ok ? got.rows : got.message).toEqual(ref);
        } finally {
          other.close();
        }
      }),
      { numRuns: 60, seed: 14 },
    );
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
