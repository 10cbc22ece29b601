// Every statement a targeted query runs on the local store: the query with
// its blinds until it is closed, its legs and per-value results (tables
// queries, query_legs, query_results), and the reads of what the nightly flow
// kept to check an answer — the partner key the canaries use and the partner
// tokens not withdrawn (clients/README-cli.md, "Local store"). Never a value.
import { ELEMENT_BYTES } from '../../../protocol/constants.js';
import type { Store } from '../../store/db.js';
import { AgencyError } from '../../sdk/errors.js';
import { appendAudit, type AuditDetail } from '../audit.js';
import { isFinal, type LegReport, type LegState, type QueryReport } from './types.js';

export interface LocalQuery {
  id: string;
  kind: string;
  purpose: string;
  caseRef: string;
  values: number;
  /** Null once the query is closed. */
  blinds: Uint8Array[] | null;
  blinded: Uint8Array[] | null;
}

/** A leg's final state, as stored once its outcome is reported. */
export interface FinalLeg {
  partner: string;
  epoch: string;
  state: 'done' | 'error' | 'expired';
  error?: string;
  detail?: string;
  /** Per value, for done legs. */
  hits?: boolean[];
}

/** What this agency signed one leg for. */
export interface SignedLeg {
  partner: string;
  pair: string;
  agreement: { id: string; version: number };
  epoch: string;
}

/** The pair, agreement version and epoch a leg was signed for (null for legs stored before they were signed). */
export function signedLeg(store: Store, id: string, partner: string): SignedLeg | null {
  const r = store.sqlite
    .prepare('SELECT partner, pair, agreement, agreement_version AS version, signed_epoch AS epoch FROM query_legs WHERE query_id = ? AND partner = ?')
    .get(id, partner) as { partner: string; pair: string | null; agreement: string | null; version: number | null; epoch: string | null } | undefined;
  if (!r || r.pair === null || r.agreement === null || r.version === null || r.epoch === null) return null;
  return { partner: r.partner, pair: r.pair, agreement: { id: r.agreement, version: r.version }, epoch: r.epoch };
}

/** Records a query the coordinator accepted, with its blinds and one pending leg per partner, and audits it. */
export function recordQuery(
  store: Store,
  q: { id: string; kind: string; purpose: string; caseRef: string; officer: string; values: number; blinds: Uint8Array[]; blinded: Uint8Array[] },
  legs: readonly SignedLeg[],
  audit: AuditDetail,
): void {
  const db = store.sqlite;
  db.transaction(() => {
    db.prepare(
      'INSERT INTO queries (id, created_at, kind, purpose, case_ref, officer, values_count, blinds, blinded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(q.id, new Date().toISOString(), q.kind, q.purpose, q.caseRef, q.officer, q.values, Buffer.concat(q.blinds), Buffer.concat(q.blinded));
    const leg = db.prepare(
      "INSERT INTO query_legs (query_id, partner, state, pair, agreement, agreement_version, signed_epoch) VALUES (?, ?, 'pending', ?, ?, ?, ?)",
    );
    for (const l of legs) leg.run(q.id, l.partner, l.pair, l.agreement.id, l.agreement.version, l.epoch);
    appendAudit(store, { officer: q.officer, action: 'query.create', caseRef: q.caseRef, subject: q.id, outcome: 'ok', detail: audit });
  })();
}

/** A query the coordinator refused (4xx), audited with its reason. */
export function recordRefusal(store: Store, r: { officer: string; caseRef: string }, detail: AuditDetail): void {
  appendAudit(store, { officer: r.officer, action: 'query.create', caseRef: r.caseRef, subject: 'query', outcome: 'refused', detail });
}

function split(b: Buffer | null): Uint8Array[] | null {
  if (!b) return null;
  const out: Uint8Array[] = [];
  for (let o = 0; o < b.length; o += ELEMENT_BYTES) out.push(new Uint8Array(b.subarray(o, o + ELEMENT_BYTES)));
  return out;
}

export function loadQuery(store: Store, id: string): LocalQuery {
  const row = store.sqlite
    .prepare('SELECT id, kind, purpose, case_ref AS caseRef, values_count AS "values", blinds, blinded FROM queries WHERE id = ?')
    .get(id) as { id: string; kind: string; purpose: string; caseRef: string; values: number; blinds: Buffer | null; blinded: Buffer | null } | undefined;
  if (!row) throw new AgencyError(`query ${id} was not asked from this agency directory (its blinds live only where it was asked)`);
  return { ...row, blinds: split(row.blinds), blinded: split(row.blinded) };
}

/** Partners whose leg is not final yet. */
export function openLegs(store: Store, id: string): string[] {
  const legs = store.sqlite.prepare('SELECT partner, state FROM query_legs WHERE query_id = ?').all(id) as Array<{ partner: string; state: LegState }>;
  return legs.filter((l) => !isFinal(l.state)).map((l) => l.partner);
}

/** The stored state of a query: final legs with their results, the rest pending. */
export function localReport(store: Store, id: string): QueryReport {
  const q = loadQuery(store, id);
  const legs = store.sqlite
    .prepare('SELECT partner, state, epoch, error, detail FROM query_legs WHERE query_id = ? ORDER BY rowid')
    .all(id) as Array<{ partner: string; state: LegState; epoch: string | null; error: string | null; detail: string | null }>;
  const results = store.sqlite.prepare('SELECT value_index AS "index", hit, handle FROM query_results WHERE query_id = ? AND partner = ? ORDER BY value_index');
  return {
    queryId: q.id,
    kind: q.kind,
    purpose: q.purpose,
    caseRef: q.caseRef,
    values: q.values,
    legs: legs.map((l) => {
      const leg: LegReport = { partner: l.partner, state: l.state };
      if (l.epoch) leg.epoch = l.epoch;
      if (l.error) leg.error = l.error;
      if (l.detail) leg.detail = l.detail;
      if (l.state === 'done') {
        leg.results = (results.all(id, l.partner) as Array<{ index: number; hit: number; handle: string | null }>).map((r) => ({
          index: r.index,
          hit: r.hit === 1,
          ...(r.handle ? { handle: r.handle } : {}),
        }));
      }
      return leg;
    }),
  };
}

/** The partner key this agency's canaries for the pair in `epoch` were computed with (sync, canaries.ts), if registered. */
export function canaryKeyOf(store: Store, pair: string, epoch: string): string | null {
  return (store.sqlite.prepare('SELECT canary_partner_key FROM sides WHERE pair = ? AND epoch = ?').pluck().get(pair, epoch) as string | null | undefined) ?? null;
}

/** Pairs of `epoch` this agency keeps partner tokens of, by id. */
export function pairsWithTokens(store: Store, epoch: string): string[] {
  return store.sqlite.prepare('SELECT DISTINCT pair FROM partner_chunks WHERE epoch = ? AND tokens_kept = 1 ORDER BY pair').pluck().all(epoch) as string[];
}

/** Partner chunks of the pair whose tokens are kept locally. */
export function chunksWithTokens(store: Store, pair: string, epoch: string): number {
  return store.sqlite.prepare('SELECT count(*) FROM partner_chunks WHERE pair = ? AND epoch = ? AND tokens_kept = 1').pluck().get(pair, epoch) as number;
}

/**
 * Per token: is it among the tokens this agency computed for the partner's
 * side, at a position the partner has not withdrawn (partner_removals, kept by
 * sync)? A withdrawn identifier is no hit, and the coordinator would refuse its
 * evidence (protocol/SPEC.md §8.11).
 */
export function tokensKnown(store: Store, pair: string, epoch: string, tokens: readonly Uint8Array[]): boolean[] {
  const lookup = store.sqlite
    .prepare(
      `SELECT 1 FROM partner_tokens t WHERE t.token = ? AND t.pair = ? AND t.epoch = ?
        AND NOT EXISTS (SELECT 1 FROM partner_removals r WHERE r.pair = t.pair AND r.epoch = t.epoch AND r.position = t.position) LIMIT 1`,
    )
    .pluck();
  return tokens.map((t) => lookup.get(Buffer.from(t), pair, epoch) !== undefined);
}

/**
 * Stores finished legs as final with the handles the coordinator returned
 * for their hits, and audits each. A hit without a handle is noted on its leg.
 */
export function recordOutcome(
  store: Store,
  id: string,
  finished: readonly FinalLeg[],
  handles: ReadonlyArray<{ partner: string; hits: ReadonlyArray<{ index: number; handle: string }> }>,
): void {
  const db = store.sqlite;
  const at = new Date().toISOString();
  const q = db.prepare('SELECT officer, case_ref AS caseRef FROM queries WHERE id = ?').get(id) as { officer: string; caseRef: string };
  db.transaction(() => {
    const leg = db.prepare('UPDATE query_legs SET state = ?, epoch = ?, error = ?, detail = ?, outcome_sent = 1, finished_at = ? WHERE query_id = ? AND partner = ?');
    const result = db.prepare('INSERT OR REPLACE INTO query_results (query_id, partner, value_index, hit, handle) VALUES (?, ?, ?, ?, ?)');
    for (const f of finished) {
      let detail = f.detail ?? null;
      if (f.hits) {
        const byIndex = new Map((handles.find((l) => l.partner === f.partner)?.hits ?? []).map((h) => [h.index, h.handle]));
        const missing = f.hits.filter((h, i) => h && !byIndex.has(i)).length;
        if (missing > 0) detail = `the coordinator returned no handle for ${missing} hit(s)`;
        f.hits.forEach((h, i) => result.run(id, f.partner, i, h ? 1 : 0, h ? (byIndex.get(i) ?? null) : null));
      }
      leg.run(f.state, f.epoch || null, f.error ?? null, detail, at, id, f.partner);
      appendAudit(store, {
        officer: q.officer,
        action: 'query.result',
        subject: id,
        outcome: f.state === 'done' ? 'ok' : 'failed',
        caseRef: q.caseRef,
        detail: {
          partner: f.partner,
          state: f.state,
          ...(f.hits ? { hits: f.hits.filter((h) => h).length, noHits: f.hits.filter((h) => !h).length, proofVerified: true } : {}),
          ...(f.error ? { error: f.error } : {}),
        },
      });
    }
  })();
}

/** Drops the blinds of a query whose legs are all final. */
export function closeQuery(store: Store, id: string): void {
  store.sqlite.prepare('UPDATE queries SET blinds = NULL, blinded = NULL, closed_at = ? WHERE id = ? AND closed_at IS NULL').run(new Date().toISOString(), id);
}
