// Pulling results from the coordinator (GET /v1/results) into the local
// store, and printing them. The coordinator returns positions of this
// agency's own side; only the local store can turn them back into records.
import { stringify as stringifyCsv } from 'csv-stringify/sync';
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

/** Applies a GET /v1/results answer to the store: complete pairs replace, failed pairs clear, waiting pairs keep. */
export function applyResults(store: Store, res: Results, now = new Date()): Pulled {
  const db = store.sqlite;
  const at = now.toISOString();
  const positionOf = db.prepare('SELECT kind, canonical, canary_r IS NOT NULL AS canary FROM positions WHERE pair = ? AND epoch = ? AND position = ?');
  const recordsOf = db.prepare('SELECT record_id FROM identifiers WHERE kind = ? AND canonical = ?').pluck();
  const clear = db.prepare('DELETE FROM matches WHERE pair = ?');
  const insertMatch = db.prepare(
    'INSERT OR IGNORE INTO matches (pair, partner, epoch, position, record_id, kind, handle, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
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
  const apply = db.transaction((pairs: PairResult[]) => {
    for (const p of pairs) {
      const base = { pair: p.pair, agreement: p.agreement, partner: p.partner, mode: p.mode, epoch: res.epoch, at };
      const summary: PairPull = { pair: p.pair, partner: p.partner, mode: p.mode, state: p.state };
      if (p.reason !== undefined) summary.reason = p.reason;
      if (p.state === 'complete') {
        clear.run(p.pair);
        let unmapped = 0;
        let overlaps = 0;
        if (p.mode === 'reveal') {
          for (const m of p.matches ?? []) {
            const pos = positionOf.get(p.pair, res.epoch, m.position) as { kind: string | null; canonical: string | null; canary: number } | undefined;
            if (!pos || pos.canary || pos.kind === null || pos.canonical === null) {
              unmapped++;
              continue;
            }
            overlaps++;
            const recs = recordsOf.all(pos.kind, pos.canonical) as string[];
            if (recs.length === 0) unmapped++;
            for (const r of recs) insertMatch.run(p.pair, p.partner, res.epoch, m.position, r, pos.kind, m.handle, normaliseTime(m.firstSeen));
          }
          summary.records = recordsKept.get(p.pair) as number;
          summary.unmapped = unmapped;
        } else {
          summary.count = p.count ?? 0;
          overlaps = summary.count;
        }
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
    }
  });
  apply(res.pairs);
  return { epoch: res.epoch, pairs: out };
}

export async function pullResults(client: CoordinatorClient, store: Store): Promise<Pulled> {
  return applyResults(store, await client.results());
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
