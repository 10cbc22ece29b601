// Pulling results from the coordinator (GET /v1/results) into the local
// store, and printing them. The coordinator returns positions of this
// agency's own side; only the local store can turn them back into records.
import { isCandidateMatch } from '../../protocol/identifiers/kinds.js';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { z } from 'zod';
import { ENTITY_TAG_PATTERN } from '../../wire/agency.js';
import type { PairResult, Results } from '../sdk/api.js';
import type { CoordinatorClient } from '../sdk/client.js';
import type { Store } from '../store/db.js';
import { byCodeUnits, table } from './text.js';

export interface PairPull {
  pair: string;
  partner: string;
  mode: string;
  state: string;
  reason?: string;
  /** Reveal pairs: distinct local records matched (after a complete pull, else the kept ones). */
  records?: number;
  /** Count pairs: the coordinator's count. */
  count?: number;
  /** Matched positions this store could not map to a current record (withdrawn since, or unknown). */
  unmapped?: number;
}

export interface Pulled {
  epoch: string;
  pairs: PairPull[];
}

/** What a pull of the results left locally for a pair, kept with the document's ETag for a 304 to stand on. */
interface KeptPull {
  summary: PairPull;
  /** The pair's overlap recorded for the night (pair_nights), for a complete pair. */
  overlaps?: number;
}

interface KeptResults {
  etag: string;
  /** The watchlist changelog position when the document was applied: matches map positions to the records of that watchlist. */
  seq: number;
  epoch: string;
  pairs: KeptPull[];
}

const RESULTS_TAG_KEY = 'results.etag';

/** Applies a GET /v1/results answer to the store: complete pairs replace, failed pairs clear, waiting pairs keep. */
export function applyResults(store: Store, res: Results, now = new Date()): Pulled {
  return applyKept(store, res, now).pulled;
}

function applyKept(store: Store, res: Results, now: Date): { pulled: Pulled; kept: KeptPull[] } {
  const db = store.sqlite;
  const at = now.toISOString();
  // One row per match and record holding it (one with nulls when none does), in the document's order.
  const lookup = db.prepare(
    `SELECT j.key AS i, p.kind, p.canonical, p.canary_r IS NOT NULL AS canary, r.record_id AS recordId
     FROM json_each(@positions) j
     LEFT JOIN positions p ON p.pair = @pair AND p.epoch = @epoch AND p.position = j.value
     LEFT JOIN identifiers r ON p.canary_r IS NULL AND r.kind = p.kind AND r.canonical = p.canonical
     ORDER BY j.key`,
  );
  const clear = db.prepare('DELETE FROM matches WHERE pair = ?');
  const keptMatches = db.prepare('SELECT position, record_id AS recordId, partner, epoch, kind, handle, first_seen AS firstSeen FROM matches WHERE pair = ?');
  const dropMatch = db.prepare('DELETE FROM matches WHERE pair = ? AND position = ? AND record_id = ?');
  const putMatch = db.prepare(
    `INSERT INTO matches (pair, partner, epoch, position, record_id, kind, handle, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (pair, position, record_id) DO UPDATE SET partner = excluded.partner, epoch = excluded.epoch, kind = excluded.kind,
       handle = excluded.handle, first_seen = excluded.first_seen`,
  );
  const upsert = db.prepare(
    `INSERT INTO pair_results (pair, agreement, partner, mode, epoch, state, reason, count, updated_at, completed_at)
     VALUES (@pair, @agreement, @partner, @mode, @epoch, @state, @reason, @count, @at, @completedAt)
     ON CONFLICT (pair) DO UPDATE SET agreement = excluded.agreement, partner = excluded.partner, mode = excluded.mode,
       epoch = excluded.epoch, state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at,
       count = CASE WHEN @keep THEN pair_results.count ELSE excluded.count END,
       completed_at = CASE WHEN @keep THEN pair_results.completed_at ELSE excluded.completed_at END`,
  );
  const recordsKept = db.prepare('SELECT count(DISTINCT record_id) FROM matches WHERE pair = ?').pluck();
  const countKept = db.prepare('SELECT count FROM pair_results WHERE pair = ?').pluck();
  // Trends: the overlap of each pair as of the last complete pull of the UTC night.
  const night = db.prepare(
    `INSERT INTO pair_nights (pair, date, partner, mode, overlaps, at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (pair, date) DO UPDATE SET partner = excluded.partner, mode = excluded.mode, overlaps = excluded.overlaps, at = excluded.at`,
  );

  const out: PairPull[] = [];
  const kept: KeptPull[] = [];
  const apply = db.transaction((pairs: PairResult[]) => {
    for (const p of pairs) {
      const base = { pair: p.pair, agreement: p.agreement, partner: p.partner, mode: p.mode, epoch: res.epoch, at };
      const summary: PairPull = { pair: p.pair, partner: p.partner, mode: p.mode, state: p.state };
      const k: KeptPull = { summary };
      if (p.reason !== undefined) summary.reason = p.reason;
      if (p.state === 'complete') {
        let unmapped = 0;
        let overlaps = 0;
        if (p.mode === 'reveal') {
          // The document replaces the pair's matches; only the rows that differ are written.
          type Row = { position: number; recordId: string; partner: string; epoch: string; kind: string; handle: string; firstSeen: string };
          const before = new Map<string, Row>();
          for (const r of keptMatches.all(p.pair) as Row[]) before.set(`${r.position}\u0000${r.recordId}`, r);
          const seen = new Set<string>();
          const list = p.matches ?? [];
          // Each match's position and the records holding its identifier, in one statement over the whole list (a
          // seek per match inside SQLite instead of two round trips from here: 30,000 matches took 0.75 s that way).
          const rows = lookup.all({ pair: p.pair, epoch: res.epoch, positions: JSON.stringify(list.map((m) => m.position)) }) as Array<{
            i: number;
            kind: string | null;
            canonical: string | null;
            canary: number | null;
            recordId: string | null;
          }>;
          const times = new Map<string, string>();
          for (let at = 0; at < rows.length; ) {
            const first = rows[at] as (typeof rows)[number];
            const m = list[first.i] as (typeof list)[number];
            const recs: string[] = [];
            for (; at < rows.length && (rows[at] as (typeof rows)[number]).i === first.i; at++) {
              const r = (rows[at] as (typeof rows)[number]).recordId;
              if (r !== null) recs.push(r);
            }
            // No position row, a canary's, or one without an identifier: nothing local to map it to.
            if (first.kind === null || first.canonical === null || first.canary) {
              unmapped++;
              continue;
            }
            overlaps++;
            if (recs.length === 0) unmapped++;
            let firstSeen = times.get(m.firstSeen);
            if (firstSeen === undefined) times.set(m.firstSeen, (firstSeen = normaliseTime(m.firstSeen)));
            for (const r of recs) {
              const key = `${m.position}\u0000${r}`;
              // The first entry for a (position, record) wins, as the document lists it.
              if (seen.has(key)) continue;
              seen.add(key);
              const o = before.get(key);
              if (o && o.partner === p.partner && o.epoch === res.epoch && o.kind === first.kind && o.handle === m.handle && o.firstSeen === firstSeen) continue;
              putMatch.run(p.pair, p.partner, res.epoch, m.position, r, first.kind, m.handle, firstSeen);
            }
          }
          for (const [key, o] of before) if (!seen.has(key)) dropMatch.run(p.pair, o.position, o.recordId);
          summary.records = recordsKept.get(p.pair) as number;
          summary.unmapped = unmapped;
        } else {
          clear.run(p.pair);
          summary.count = p.count ?? 0;
          overlaps = summary.count;
        }
        k.overlaps = overlaps;
        night.run(p.pair, at.slice(0, 10), p.partner, p.mode, overlaps, at);
        upsert.run({ ...base, state: p.state, reason: null, count: p.mode === 'count' ? (p.count ?? 0) : null, completedAt: at, keep: 0 });
      } else if (p.state === 'failed') {
        // A failed canary check means the partner did not tokenise honestly:
        // nothing computed for this pair can be trusted, earlier matches included.
        clear.run(p.pair);
        upsert.run({ ...base, state: p.state, reason: p.reason ?? 'failed (no reason given)', count: null, completedAt: null, keep: 0 });
      } else {
        upsert.run({ ...base, state: p.state, reason: p.reason ?? null, count: null, completedAt: null, keep: 1 });
        if (p.mode === 'reveal') summary.records = recordsKept.get(p.pair) as number;
        else {
          const c = countKept.get(p.pair) as number | null | undefined;
          if (typeof c === 'number') summary.count = c;
        }
      }
      out.push(summary);
      kept.push(k);
    }
  });
  apply(res.pairs);
  return { pulled: { epoch: res.epoch, pairs: out }, kept };
}

/**
 * Pulls the results. The request names the ETag of the document applied
 * last, unless the watchlist changed since (matches map positions to the
 * records listed now): a 304 then stands for that document, as if the
 * coordinator had sent it again, and only the times it was confirmed at move.
 */
export async function pullResults(client: CoordinatorClient, store: Store, now = new Date()): Promise<Pulled> {
  const kept = keptResults(store);
  const seq = changeSeq(store);
  const conditional = kept !== undefined && kept.seq === seq ? kept : undefined;
  const r = await client.resultsIfChanged(conditional?.etag);
  if (r.notModified) return reapply(store, conditional as KeptResults, now);
  const applied = applyKept(store, r.data, now);
  const state = store.sqlite.prepare('INSERT INTO local_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  if (r.etag === null) store.sqlite.prepare('DELETE FROM local_state WHERE key = ?').run(RESULTS_TAG_KEY);
  else state.run(RESULTS_TAG_KEY, JSON.stringify({ etag: r.etag, seq, epoch: r.data.epoch, pairs: applied.kept } satisfies KeptResults));
  return applied.pulled;
}

/** A 304: the applied document is still current; the pairs' times and tonight's overlaps are recorded as a pull of it would. */
function reapply(store: Store, kept: KeptResults, now: Date): Pulled {
  const db = store.sqlite;
  const at = now.toISOString();
  const touch = db.prepare('UPDATE pair_results SET updated_at = ?, completed_at = CASE WHEN state = ? THEN ? ELSE completed_at END WHERE pair = ?');
  const night = db.prepare(
    `INSERT INTO pair_nights (pair, date, partner, mode, overlaps, at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (pair, date) DO UPDATE SET partner = excluded.partner, mode = excluded.mode, overlaps = excluded.overlaps, at = excluded.at`,
  );
  db.transaction(() => {
    for (const { summary: s, overlaps } of kept.pairs) {
      touch.run(at, 'complete', at, s.pair);
      if (s.state === 'complete' && overlaps !== undefined) night.run(s.pair, at.slice(0, 10), s.partner, s.mode, overlaps, at);
    }
  })();
  return { epoch: kept.epoch, pairs: kept.pairs.map((k) => ({ ...k.summary })) };
}

const keptSchema = z.object({
  etag: z.string().regex(ENTITY_TAG_PATTERN),
  seq: z.number().int().nonnegative(),
  epoch: z.string(),
  pairs: z.array(z.object({ summary: z.object({ pair: z.string(), partner: z.string(), mode: z.string(), state: z.string() }).passthrough(), overlaps: z.number().optional() })),
});

function keptResults(store: Store): KeptResults | undefined {
  const v = store.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(RESULTS_TAG_KEY) as string | undefined;
  if (v === undefined) return undefined;
  try {
    const r = keptSchema.safeParse(JSON.parse(v));
    return r.success ? (r.data as KeptResults) : undefined;
  } catch {
    return undefined;
  }
}

/** The watchlist changelog's position (clients/store/schema.ts identifier_changes). */
function changeSeq(store: Store): number {
  return store.sqlite.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'identifier_changes'), 0)").pluck().get() as number;
}

function normaliseTime(t: string): string {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? t : new Date(ms).toISOString();
}

// ---- presentation ----

export interface MatchView {
  partner: string;
  record_id: string;
  kinds: string[];
  handle: string;
  first_seen: string;
  /** unverified | confirmed | declined, from GET /v1/hits (see {@link recordStatus}). */
  status: string;
  /** Matched on name_dob_phonetic alone: a candidate for officers on both sides to confirm (identifiers SPEC). */
  candidate: boolean;
}

export interface PairView {
  pair: string;
  partner: string;
  mode: string;
  state: string;
  reason: string | null;
  updatedAt: string;
  completedAt: string | null;
}

export interface ResultsView {
  matches: MatchView[];
  counts: Array<{ partner: string; count: number }>;
  pairs: PairView[];
}

/**
 * A record matched through several identifiers has several handles: it is
 * `confirmed` once any of them is, `declined` once all of them are, else
 * `unverified` (also when the coordinator has not reported a status).
 */
export function recordStatus(statuses: Iterable<string | null>): string {
  let all = 0;
  let declined = 0;
  for (const s of statuses) {
    all++;
    if (s === 'confirmed') return 'confirmed';
    if (s === 'declined') declined++;
  }
  return all > 0 && declined === all ? 'declined' : 'unverified';
}

/** One entry per (partner, record): sorted union of kinds, smallest handle, earliest first sighting, status. */
export function loadResultsView(store: Store): ResultsView {
  const rows = store.sqlite
    .prepare(
      `SELECT m.partner, m.record_id AS recordId, m.kind, m.handle, m.first_seen AS firstSeen, h.status
       FROM matches m LEFT JOIN hit_status h ON h.handle = m.handle`,
    )
    .all() as Array<{ partner: string; recordId: string; kind: string; handle: string; firstSeen: string; status: string | null }>;
  const grouped = new Map<string, { partner: string; record_id: string; kinds: Set<string>; handle: string; first_seen: string; statuses: Map<string, string | null> }>();
  for (const r of rows) {
    const key = `${r.partner}\u0000${r.recordId}`;
    const g = grouped.get(key);
    if (!g) {
      grouped.set(key, {
        partner: r.partner,
        record_id: r.recordId,
        kinds: new Set([r.kind]),
        handle: r.handle,
        first_seen: r.firstSeen,
        statuses: new Map([[r.handle, r.status]]),
      });
      continue;
    }
    g.kinds.add(r.kind);
    g.statuses.set(r.handle, r.status);
    if (r.handle < g.handle) g.handle = r.handle;
    if (Date.parse(r.firstSeen) < Date.parse(g.first_seen)) g.first_seen = r.firstSeen;
  }
  const matches: MatchView[] = [...grouped.values()]
    .map((g) => ({
      partner: g.partner,
      record_id: g.record_id,
      kinds: [...g.kinds].sort(byCodeUnits),
      handle: g.handle,
      first_seen: g.first_seen,
      status: recordStatus(g.statuses.values()),
      candidate: isCandidateMatch([...g.kinds]),
    }))
    .sort((a, b) => byCodeUnits(a.partner, b.partner) || byCodeUnits(a.record_id, b.record_id));

  const pairRows = store.sqlite
    .prepare('SELECT pair, partner, mode, state, reason, count, updated_at AS updatedAt, completed_at AS completedAt FROM pair_results ORDER BY pair')
    .all() as Array<PairView & { count: number | null }>;
  const counts = new Map<string, number>();
  for (const p of pairRows) {
    if (p.mode === 'count' && p.count !== null) counts.set(p.partner, (counts.get(p.partner) ?? 0) + p.count);
  }
  return {
    matches,
    counts: [...counts.entries()].sort((a, b) => byCodeUnits(a[0], b[0])).map(([partner, count]) => ({ partner, count })),
    pairs: pairRows.map(({ count: _count, ...p }) => p),
  };
}

export function formatJson(v: ResultsView): string {
  return JSON.stringify({ matches: v.matches, counts: v.counts });
}

/** RFC 4180 CSV (csv-stringify): a field with a comma, a quote or a line break is quoted, its quotes doubled. */
export function formatCsv(v: ResultsView): string {
  return stringifyCsv(
    v.matches.map((m) => [m.partner, m.record_id, m.kinds.join(';'), m.handle, m.first_seen, m.status]),
    { header: true, columns: ['partner', 'record_id', 'kinds', 'handle', 'first_seen', 'status'], record_delimiter: 'unix' },
  );
}

export function formatTable(v: ResultsView): string {
  const out: string[] = [];
  if (v.matches.length === 0) out.push('No matched records.');
  else {
    out.push(
      ...table(
        ['PARTNER', 'RECORD_ID', 'KINDS', 'HANDLE', 'FIRST_SEEN', 'STATUS'],
        v.matches.map((m) => [m.partner, m.record_id, m.kinds.join(';'), m.handle, m.first_seen, m.status]),
      ),
    );
    out.push('', `${v.matches.length} matched record(s) with ${new Set(v.matches.map((m) => m.partner)).size} partner(s).`);
  }
  if (v.counts.length > 0) {
    out.push('', 'Count-only agreements (matched identifiers):');
    out.push(...table(['PARTNER', 'COUNT'], v.counts.map((c) => [c.partner, String(c.count)])).map((l) => `  ${l}`));
  }
  if (v.pairs.length > 0) {
    out.push('', 'Pairs:');
    out.push(
      ...table(
        ['PAIR', 'PARTNER', 'MODE', 'STATE', 'RESULTS AS OF'],
        v.pairs.map((p) => [p.pair, p.partner, p.mode, p.state === 'failed' ? 'FAILED' : p.state, p.completedAt ?? '-']),
      ).map((l) => `  ${l}`),
    );
    for (const p of v.pairs.filter((x) => x.state === 'failed')) out.push('', `FAILED ${p.pair} (partner ${p.partner}): ${p.reason ?? 'no reason given'}`);
  }
  return `${out.join('\n')}\n`;
}

export function failedPairs(v: ResultsView): PairView[] {
  return v.pairs.filter((p) => p.state === 'failed');
}
