// The watchlist changelog (identifier_changes) and each side's watermark: a
// delta that looks only at the identifiers changed since the side's last one
// withdraws and stages exactly what a diff of the whole watchlist against the
// whole side does, after random edits (inserts, deletions, an identifier
// moved between records, one withdrawn and listed again); and chunk positions
// written in slot order hold each slot's addition or canary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncStore } from '../clients/agency/sync/store.js';
import { openStore, type Store } from '../clients/store/db.js';

const PAIR = 'es-pt~ES-CNP~PT-PJ';
const EPOCH = 'e1';
const KINDS = ['email', 'passport'];
let dir: string;
let store: Store;
let sides: SyncStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-delta-'));
  store = openStore(dir);
  sides = new SyncStore(store);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ins = () => store.sqlite.prepare('INSERT OR IGNORE INTO identifiers (record_id, kind, canonical) VALUES (?, ?, ?)');
const del = () => store.sqlite.prepare('DELETE FROM identifiers WHERE record_id = ? AND kind = ? AND canonical = ?');

/** Stages and places the whole delta as a sync would, then records the watermark. */
function commitAll(full: boolean): void {
  const since = full ? undefined : sides.deltaWatermark(PAIR, EPOCH, KINDS);
  const seq = sides.changeSeq();
  if (since === undefined) sides.withdraw(PAIR, EPOCH, KINDS);
  else sides.withdrawChanged(PAIR, EPOCH, KINDS, since);
  const n = since === undefined ? sides.stageAdditions(PAIR, EPOCH, KINDS) : sides.stageChangedAdditions(PAIR, EPOCH, KINDS, since);
  if (n > 0) sides.placeChunk(PAIR, EPOCH, sides.nextChunk(PAIR, EPOCH), sides.nextPosition(PAIR, EPOCH), Array.from({ length: n }, (_, i) => i));
  if (!sides.side(PAIR, EPOCH)) sides.createSide(PAIR, EPOCH, 'es-pt', 'PT-PJ', new Date().toISOString(), 0);
  sides.setDeltaWatermark(PAIR, EPOCH, KINDS, seq);
  sides.clearStagedAdditions();
}

/** What a delta would do now: the positions it withdraws and the identifiers it stages, then rolled back. */
function deltaNow(full: boolean): { withdrawn: number[]; staged: string[] } {
  const db = store.sqlite;
  db.exec('SAVEPOINT probe');
  try {
    const since = full ? undefined : sides.deltaWatermark(PAIR, EPOCH, KINDS);
    if (!full) expect(since).toBeDefined();
    const before = new Set(sides.removals(PAIR, EPOCH, true));
    if (since === undefined) sides.withdraw(PAIR, EPOCH, KINDS);
    else sides.withdrawChanged(PAIR, EPOCH, KINDS, since);
    const withdrawn = sides.removals(PAIR, EPOCH, true).filter((p) => !before.has(p));
    if (since === undefined) sides.stageAdditions(PAIR, EPOCH, KINDS);
    else sides.stageChangedAdditions(PAIR, EPOCH, KINDS, since);
    const staged = (db.prepare('SELECT n, kind, canonical FROM temp.additions ORDER BY n').all() as Array<{ n: number; kind: string; canonical: string }>).map(
      (r) => `${r.n}:${r.kind}:${r.canonical}`,
    );
    return { withdrawn, staged };
  } finally {
    db.exec('ROLLBACK TO probe');
    db.exec('RELEASE probe');
  }
}

const edit = fc.oneof(
  fc.record({ op: fc.constant('add' as const), rec: fc.integer({ min: 0, max: 30 }), kind: fc.constantFrom('email', 'passport', 'phone'), v: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ op: fc.constant('del' as const), rec: fc.integer({ min: 0, max: 30 }), kind: fc.constantFrom('email', 'passport', 'phone'), v: fc.integer({ min: 0, max: 40 }) }),
);

describe('a delta from the watchlist changelog', () => {
  it('withdraws and stages exactly what a diff of the whole watchlist does, night after night', () => {
    fc.assert(
      fc.property(fc.array(fc.array(edit, { maxLength: 40 }), { minLength: 1, maxLength: 5 }), (nights) => {
        const db = store.sqlite;
        for (const t of ['identifiers', 'identifier_changes', 'positions', 'chunks', 'sides']) db.exec(`DELETE FROM ${t}`);
        const add = ins();
        for (let r = 0; r < 20; r++) add.run(`r${r}`, r % 2 ? 'email' : 'passport', `v${r}`);
        commitAll(true);
        for (const edits of nights) {
          for (const e of edits) (e.op === 'add' ? ins() : del()).run(`r${e.rec}`, e.kind, `v${e.v}`);
          const full = deltaNow(true);
          const incremental = deltaNow(false);
          expect(incremental.withdrawn.sort((a, b) => a - b)).toEqual(full.withdrawn.sort((a, b) => a - b));
          expect(incremental.staged).toEqual(full.staged);
          commitAll(false);
          // After a committed delta nothing is left to do, either way.
          expect(deltaNow(true)).toEqual({ withdrawn: [], staged: [] });
          sides.pruneChanges(EPOCH);
          expect(deltaNow(false)).toEqual({ withdrawn: [], staged: [] });
        }
      }),
      { numRuns: 40, seed: 16 },
    );
  });

  it('diffs the whole watchlist when the pair’s kinds changed or the side has no watermark', () => {
    ins().run('r1', 'email', 'a@x.example');
    commitAll(true);
    expect(sides.deltaWatermark(PAIR, EPOCH, KINDS)).toBe(sides.changeSeq());
    expect(sides.deltaWatermark(PAIR, EPOCH, [...KINDS].reverse())).toBe(sides.changeSeq());
    expect(sides.deltaWatermark(PAIR, EPOCH, ['email'])).toBeUndefined();
    store.sqlite.prepare('UPDATE sides SET delta_seq = NULL').run();
    expect(sides.deltaWatermark(PAIR, EPOCH, KINDS)).toBeUndefined();
  });

  it('keeps the changes a side has not seen when pruning, and never reuses a pruned sequence number', () => {
    ins().run('r1', 'email', 'a@x.example');
    commitAll(true);
    sides.pruneChanges(EPOCH);
    expect(store.sqlite.prepare('SELECT count(*) FROM identifier_changes').pluck().get()).toBe(0);
    const seen = sides.changeSeq();
    del().run('r1', 'email', 'a@x.example');
    sides.pruneChanges(EPOCH);
    expect(store.sqlite.prepare('SELECT seq FROM identifier_changes').pluck().all()).toEqual([seen + 1]);
    expect(deltaNow(false).withdrawn).toEqual([0]);
  });

  it('writes a chunk in slot order: each slot holds its addition or its canary scalar', () => {
    for (let r = 0; r < 3; r++) ins().run(`r${r}`, 'email', `v${r}`);
    sides.stageAdditions(PAIR, EPOCH, KINDS);
    const canary = 'ab'.repeat(32);
    sides.placeChunk(PAIR, EPOCH, 0, 10, [2, canary, 0, 1]);
    const rows = store.sqlite.prepare('SELECT position, kind, canonical, CASE WHEN canary_r IS NULL THEN NULL ELSE hex(canary_r) END AS r FROM positions ORDER BY position').all();
    expect(rows).toEqual([
      { position: 10, kind: 'email', canonical: 'v2', r: null },
      { position: 11, kind: null, canonical: null, r: canary.toUpperCase() },
      { position: 12, kind: 'email', canonical: 'v0', r: null },
      { position: 13, kind: 'email', canonical: 'v1', r: null },
    ]);
    expect(() => sides.placeChunk(PAIR, EPOCH, 1, 14, [7])).toThrow(/1 slots, 0 positions written/);
  });
});
