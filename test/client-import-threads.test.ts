// The import's worker thread (clients/agency/import-pipeline.ts): a file with
// enough rows to check is checked in one worker thread beside the reading and
// the writes, and must import exactly as it does on one thread — the same
// identifiers, the same rejections in the same order, the same line cache. A
// worker that fails refuses the whole import. This suite imports the build
// output (npm test builds first): run from sources, the worker module is not
// built and every row is checked inline.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RowPipeline } from '../dist/clients/agency/import-pipeline.js';
import { importWatchlist, type ImportOptions, type RejectedRow } from '../dist/clients/agency/watchlist.js';
import { openStore, type Store } from '../dist/clients/store/db.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-import-threads-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'ZZSECRET42';

/** Line i of a large watchlist: valid rows of every common kind, rejected rows, repeats, quoted fields. */
function line(i: number): string {
  const r = `ES-${Math.floor(i / 4)}`;
  switch (i % 13) {
    case 0:
      return `${r},name_dob,Müller Hans ${String.fromCharCode(65 + (i % 26))}|19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`;
    case 1:
      return `${r},email,"Person${i}@Bücher.Example"`;
    case 2:
      return `${r},phone,+34 91 ${String(1_000_000 + i).slice(-7)}`;
    case 3:
      return `${r},passport,${SECRET}-not-a-passport`; // rejected
    case 4:
      return `${r},email,person${i - 3}@bücher.example`; // the identifier of line i - 3, spelled otherwise
    case 5:
      return line(i - 5); // the same line again
    case 6:
      return `bad id!,passport,ESP:P${String(i).padStart(8, '0')}`; // rejected: record_id
    case 7:
      return `${r},iban,"DE89 3704 0044 0532 0130 00"`;
    default:
      return `${r},passport,ESP:P${String(i).padStart(8, '0')}`;
  }
}

function watchlist(name: string, lines: number, extra: string[] = []): string {
  const f = join(dir, name);
  const body = Array.from({ length: lines }, (_, i) => line(i));
  // A record over several lines in the middle, and one at the end.
  body.splice(lines >> 1, 0, '"ES-multi","email","multi@line.example\n"');
  writeFileSync(f, `record_id,kind,value\n${[...body, ...extra, 'ES-last,phone,"+34 91 000 00 01"'].join('\n')}\n`);
  return f;
}

function snapshot(store: Store): { identifiers: unknown[]; cache: unknown[]; meta: unknown } {
  const db = store.sqlite;
  return {
    identifiers: db.prepare('SELECT record_id, kind, canonical FROM identifiers ORDER BY 1, 2, 3').raw().all(),
    cache: db.prepare('SELECT idx, entries, hex(data) FROM import_cache_chunks ORDER BY idx').raw().all(),
    meta: db.prepare('SELECT entries, identifiers FROM import_cache').raw().all(),
  };
}

async function importInto(name: string, file: string, o: ImportOptions) {
  mkdirSync(join(dir, name), { recursive: true });
  const store = openStore(join(dir, name));
  const rejected: RejectedRow[] = [];
  try {
    const summary = await importWatchlist(store, file, { ...o, onReject: (r) => rejected.push(r) });
    return { summary: { ...summary, file: undefined }, rejected, ...snapshot(store) };
  } finally {
    store.close();
  }
}

describe('the import worker thread', () => {
  it('imports a large CSV file exactly as one thread does, rejections in file order', async () => {
    const f = watchlist('w.csv', 60_000);
    const threaded = await importInto('a', f, {});
    const inline = await importInto('b', f, { threads: false });
    expect(threaded.summary.rejected).toBeGreaterThan(9_000);
    expect(threaded.summary.added).toBeGreaterThan(40_000);
    expect(threaded.identifiers.some((r) => (r as string[])[1] === 'name_dob_phonetic')).toBe(true);
    expect(threaded).toEqual(inline);
    // In file order, and without the value.
    expect(threaded.rejected.map((r) => r.line)).toEqual([...threaded.rejected.map((r) => r.line)].sort((a, b) => a - b));
    expect(JSON.stringify(threaded.rejected)).not.toContain(SECRET);
  });

  it('imports large JSON Lines and a re-import with changes exactly as one thread does', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => {
      const [r, k, v] = line(i).split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/) as [string, string, string];
      return JSON.stringify({ record_id: r, kind: k, value: v.replace(/^"|"$/g, '') });
    });
    const first = join(dir, 'w.jsonl');
    writeFileSync(first, `${rows.join('\n')}\n`);
    const second = join(dir, 'w2.jsonl');
    writeFileSync(second, `${rows.map((x, i) => (i % 3 === 0 ? x.replace('ESP:P', 'FRA:P') : x)).join('\n')}\n`);
    const threaded = await importInto('a', first, {});
    const inline = await importInto('b', first, { threads: false });
    expect(threaded).toEqual(inline);
    const threadedAgain = await importInto('a', second, { allowMassWithdrawal: true });
    const inlineAgain = await importInto('b', second, { allowMassWithdrawal: true, threads: false });
    expect(threadedAgain.summary.withdrawn).toBeGreaterThan(1_000);
    expect(threadedAgain).toEqual(inlineAgain);
  });

  it('checks in the worker only past the first rows, and applies batches in the order pushed', async () => {
    const applied: number[] = [];
    const p = new RowPipeline((b) => applied.push(...b.lines), undefined, true);
    for (let i = 1; i <= 50_000; i++) p.pushFields(i, `r${i}`, 'email', `a${i}@mail.example`, undefined);
    await p.finish();
    expect(p.threaded).toBe(true);
    expect(applied).toEqual(Array.from({ length: 50_000 }, (_, i) => i + 1));
    const small = new RowPipeline(() => {}, undefined, true);
    for (let i = 1; i <= 10_000; i++) small.pushFields(i, `r${i}`, 'email', `a${i}@mail.example`, undefined);
    await small.finish();
    expect(small.threaded).toBe(false);
  });

  it('a worker that stops or fails refuses the whole import, naming no value', async () => {
    const dies = join(dir, 'dies.mjs');
    writeFileSync(dies, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    const fails = join(dir, 'fails.mjs');
    writeFileSync(
      fails,
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (t) => parentPort.postMessage({ id: t.id, ok: false, error: 'TypeError' }));\n",
    );
    for (const [script, message] of [
      [dies, /the import's worker thread stopped; nothing imported/],
      [fails, /the import's worker thread failed \(TypeError\); nothing imported/],
    ] as const) {
      const applied: number[] = [];
      const p = new RowPipeline((b) => applied.push(...b.lines), undefined, true, new URL(`file://${script}`));
      for (let i = 1; i <= 30_000; i++) p.pushFields(i, `r${i}`, 'email', `${SECRET}${i}@mail.example`, undefined);
      const err = await p.finish().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(message);
      expect(err?.message).not.toContain(SECRET);
      // What was checked inline before the worker started was applied; nothing after.
      expect(applied.length).toBeLessThan(30_000);
    }
  });
});
