// The privacy check every adversarial file ends with (protocol/SPEC.md §5.3,
// Coordinator (passive): it must never learn an identifier): after all the
// attacks of the file ran, no planted identifier — as written, canonical, as
// its record id, or as its unkeyed HashToGroup point (which a coordinator
// could test guesses against) — is in the coordinator's database (every
// row of every table, and the raw database and WAL files), in its request
// log, or in anything sent to it (every path, header and body the hostile
// layer saw).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { bytesToHex } from '../../protocol/bytes.js';
import { canonical, guessedPoints } from './forge.js';
import type { World } from './world.js';

/** Anything that looks like a planted value, whoever planted it: caught even if it is not in the list. */
const LOOKS_PLANTED = [/:P\d{7}/, /person\d+@mail\.example/i];

interface Needles {
  strings: Set<string>;
  points: Set<string>;
}

function needlesOf(w: World): Needles {
  const strings = new Set<string>();
  for (const p of w.planted) {
    strings.add(p.value);
    strings.add(canonical(p.kind, p.value));
  }
  for (const id of w.agencies.keys()) for (const p of w.planted) if (p.kind === 'passport') strings.add(`${id}-${Number(p.value.slice(5))}`);
  const points = new Set<string>();
  for (const kind of ['passport', 'email'] as const) {
    const values = w.planted.filter((p) => p.kind === kind).map((p) => p.value);
    for (const pt of guessedPoints(kind, values)) points.add(bytesToHex(pt));
  }
  return { strings, points };
}

function textLeak(text: string, n: Needles): string | undefined {
  for (const re of LOOKS_PLANTED) {
    const m = re.exec(text);
    if (m) return m[0];
  }
  for (const s of n.strings) if (text.includes(s)) return s;
  for (const m of text.matchAll(/[0-9a-f]{64}/gi)) if (n.points.has(m[0].toLowerCase())) return `point ${m[0]}`;
  return undefined;
}

/** Raw bytes: the text forms, and every 32-byte window at each offset (elements are not aligned in a database file). */
function bytesLeak(b: Uint8Array, n: Needles, aligned: boolean): string | undefined {
  const t = textLeak(Buffer.from(b).toString('latin1'), n);
  if (t) return t;
  const step = aligned ? 32 : 1;
  for (let o = 0; o + 32 <= b.length; o += step) {
    if (n.points.has(bytesToHex(b.subarray(o, o + 32)))) return `point at byte ${o}`;
  }
  return undefined;
}

export async function assertNothingPlantedReachedTheCoordinator(w: World): Promise<void> {
  const n = needlesOf(w);
  expect(n.strings.size).toBeGreaterThan(0);
  const leaks: string[] = [];

  // The database, row by row: text as text, blobs as bytes (their elements are 32-byte aligned).
  const db = w.coord.db;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  let cells = 0;
  for (const t of tables) {
    for (const row of db.prepare(`SELECT * FROM "${t}"`).iterate() as Iterable<Record<string, unknown>>) {
      for (const [col, v] of Object.entries(row)) {
        cells++;
        const leak = typeof v === 'string' ? textLeak(v, n) : v instanceof Uint8Array ? bytesLeak(v, n, true) : undefined;
        if (leak) leaks.push(`database ${t}.${col}: ${leak}`);
      }
    }
  }
  expect(cells).toBeGreaterThan(0);
  // The files themselves, free pages and WAL included (a stolen disk has those too): text forms only,
  // as a sliding 32-byte window over megabytes is the rows' job above.
  db.pragma('wal_checkpoint(PASSIVE)');
  for (const f of readdirSync(w.coord.dir)) {
    const path = join(w.coord.dir, f);
    if (!existsSync(path)) continue;
    const leak = textLeak(readFileSync(path).toString('latin1'), n);
    if (leak) leaks.push(`file ${f}: ${leak}`);
  }

  // The coordinator's request log.
  for (const e of w.coord.logs) {
    const leak = textLeak(JSON.stringify(e), n);
    if (leak) leaks.push(`log ${e.method} ${e.route}: ${leak}`);
  }
  expect(w.coord.logs.length).toBeGreaterThan(0);

  // The wire: every request, forged exchanges included.
  for (const x of w.coord.seen) {
    const head = `${x.method} ${x.path}${x.search}\n${[...x.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}`;
    const leak = textLeak(head, n) ?? bytesLeak(x.body, n, (x.headers.get('content-type') ?? '').includes('octet-stream'));
    if (leak) leaks.push(`wire ${x.method} ${x.path} from ${x.agency || '(unsigned)'}: ${leak}`);
  }
  expect(w.coord.seen.length).toBeGreaterThan(0);

  expect(leaks, `planted identifiers found:\n${leaks.join('\n')}`).toEqual([]);
}
