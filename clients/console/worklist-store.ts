// The worklist's view of the local store: hits folded into one row per
// (local record × partner), the decisions and notes of this agency's own
// audit trail as each row's history, and the hits of this agency's own
// queries. Reads only what clients/agency writes; the one thing written
// here is a decision's note, which the coordinator receives but never gives
// back (its audit says only whether there was one).
import { isCandidateMatch } from '../../protocol/identifiers/index.js';
import { appendAudit } from '../agency/audit.js';
import type { HitView } from '../agency/hits.js';
import { byCodeUnits } from '../agency/text.js';
import type { Store } from '../store/db.js';
import type { MatchStatus, RequestedHit, WorkHandle, WorkHistoryEntry, WorkRow, WorkStatus } from './api-types.js';

/** A row with the hits behind it, which a decision acts on. */
export interface RowWithHits {
  row: WorkRow;
  hits: HitView[];
}

const asStatus = (s: string | null): MatchStatus | null => (s === 'unverified' || s === 'confirmed' || s === 'declined' ? s : null);

export const undecidedHere = (h: HitView): boolean => h.my_status === null || h.my_status === 'unverified';

export function rowKey(partner: string, recordId: string): string {
  return `${partner}/${recordId}`;
}

/** Confirmed once any is, declined once all are, else unverified (the CLI's rule for a record, clients/agency/results.ts). */
function overall(statuses: readonly string[]): MatchStatus {
  if (statuses.includes('confirmed')) return 'confirmed';
  return statuses.length > 0 && statuses.every((s) => s === 'declined') ? 'declined' : 'unverified';
}

function partnerSide(statuses: readonly (string | null)[]): MatchStatus | null {
  const known = statuses.filter((s): s is string => s !== null);
  if (known.length === 0) return null;
  return overall(known);
}

function mine(hits: readonly HitView[]): WorkStatus {
  if (hits.some(undecidedHere)) return 'awaiting';
  return hits.some((h) => h.my_status === 'confirmed') ? 'confirmed' : 'declined';
}

/**
 * One handle per identifier matched: a repeated query about the same person
 * gives the same handle again (the coordinator derives it from the matched
 * element), and so does a query about an identifier that also matched
 * nightly. Each is one handle here, with one status.
 */
function foldHandles(hits: readonly HitView[]): WorkHandle[] {
  const groups = new Map<string, HitView[]>();
  for (const h of hits) {
    const g = groups.get(h.handle);
    if (g) g.push(h);
    else groups.set(h.handle, [h]);
  }
  return [...groups.values()]
    .map((g) => {
      const sorted = [...g].sort((a, b) => byCodeUnits(a.created_at, b.created_at));
      // The nightly match stands for the handle when there is one (clients/agency/hits.ts keeps its status).
      const first = sorted.find((h) => h.source === 'nightly') ?? (sorted[0] as HitView);
      const wh: WorkHandle = {
        handle: first.handle,
        source: first.source,
        kinds: [...new Set(g.flatMap((h) => h.kinds))].sort(byCodeUnits),
        firstSeen: (sorted[0] as HitView).created_at,
        status: overall([first.status]),
        myStatus: asStatus(first.my_status),
        partnerStatus: asStatus(first.partner_status),
        repeats: g.length - 1,
      };
      const withCase = sorted.find((h) => h.case_ref);
      if (withCase?.case_ref) wh.caseRef = withCase.case_ref;
      const withPurpose = sorted.find((h) => h.purpose);
      if (withPurpose?.purpose) wh.purpose = withPurpose.purpose;
      return wh;
    })
    .sort((a, b) => byCodeUnits(a.firstSeen, b.firstSeen) || byCodeUnits(a.handle, b.handle));
}

/**
 * One row per (record × partner) from the hits this agency holds data for.
 * A hit held by several records (the same identifier on two records) is in
 * each of their rows; hits mapped to no current record (withdrawn since)
 * are counted in `unmapped`.
 */
export function worklistRows(store: Store, hits: readonly HitView[]): { rows: RowWithHits[]; unmapped: number } {
  const byKey = new Map<string, { partner: string; recordId: string; hits: HitView[] }>();
  let unmapped = 0;
  for (const h of hits) {
    if (h.record_ids.length === 0) {
      if (h.position !== undefined) unmapped++;
      continue;
    }
    for (const r of h.record_ids) {
      const k = rowKey(h.partner, r);
      let g = byKey.get(k);
      if (!g) byKey.set(k, (g = { partner: h.partner, recordId: r, hits: [] }));
      g.hits.push(h);
    }
  }
  const kindsOf = kindCounts(store, [...new Set([...byKey.values()].map((g) => g.recordId))]);
  const rows: RowWithHits[] = [];
  for (const [key, g] of byKey) {
    // One hit per handle for the statuses and decisions: the nightly one where the handle has one.
    const perHandle = new Map<string, HitView>();
    for (const h of g.hits) {
      const seen = perHandle.get(h.handle);
      if (!seen || (seen.source === 'query' && h.source === 'nightly')) perHandle.set(h.handle, h);
    }
    const hs = [...perHandle.values()];
    const kinds = [...new Set(hs.flatMap((h) => h.kinds))].sort(byCodeUnits);
    const seen = g.hits.map((h) => h.created_at).sort(byCodeUnits);
    const caseRefs = [...new Set(g.hits.map((h) => h.case_ref).filter((c): c is string => typeof c === 'string' && c !== ''))].sort(byCodeUnits);
    const myStatus = mine(hs);
    rows.push({
      hits: hs,
      row: {
        key,
        recordId: g.recordId,
        partner: g.partner,
        kinds,
        strength: { matched: kinds.length, of: Math.max(kinds.length, kindsOf.get(g.recordId) ?? 0) },
        candidate: isCandidateMatch(kinds),
        handles: foldHandles(g.hits),
        myStatus,
        status: overall(hs.map((h) => h.status)),
        partnerStatus: partnerSide(hs.map((h) => h.partner_status)),
        firstSeen: seen[0] as string,
        lastSeen: seen[seen.length - 1] as string,
        caseRefs,
        canDecide: myStatus === 'awaiting',
        canReport: hs.some((h) => h.my_status === 'confirmed'),
        history: [],
      },
    });
  }
  return { rows, unmapped };
}

function kindCounts(store: Store, recordIds: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const q = store.sqlite.prepare('SELECT record_id AS r, count(DISTINCT kind) AS n FROM identifiers WHERE record_id IN (SELECT value FROM json_each(?)) GROUP BY record_id');
  for (const { r, n } of q.all(JSON.stringify(recordIds)) as Array<{ r: string; n: number }>) out.set(r, n);
  return out;
}

interface AuditRow {
  seq: number;
  at: string;
  officer: string | null;
  action: string;
  subject: string;
  detail: string;
}

function detailOf(s: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Entries of one action, officer and note this close in time are one decision. */
const FOLD_WINDOW_MS = 5_000;

/**
 * Fills each row's history from the local audit trail: this agency's
 * decisions on the row's handles with their notes, and the request reports
 * prepared from them. Entries of one action by one officer with one note
 * within a few seconds (a row or bulk decision) are one entry.
 */
export function attachHistory(store: Store, rows: readonly RowWithHits[]): void {
  const handles = [...new Set(rows.flatMap((r) => r.hits.map((h) => h.handle)))];
  if (handles.length === 0) return;
  const entries = store.sqlite
    .prepare(
      `SELECT seq, at, officer, action, subject, detail FROM audit_log
       WHERE outcome = 'ok' AND action IN ('hit.confirm', 'hit.decline', 'hit.note', 'report.create')
         AND subject IN (SELECT value FROM json_each(?)) ORDER BY seq`,
    )
    .all(JSON.stringify(handles)) as AuditRow[];
  const bySubject = new Map<string, AuditRow[]>();
  for (const e of entries) {
    const l = bySubject.get(e.subject);
    if (l) l.push(e);
    else bySubject.set(e.subject, [e]);
  }
  for (const { row, hits } of rows) {
    const folded = new Map<string, WorkHistoryEntry[]>();
    for (const h of hits) {
      const list = bySubject.get(h.handle) ?? [];
      for (const e of list) {
        const d = detailOf(e.detail);
        let entry: WorkHistoryEntry;
        if (e.action === 'report.create') {
          if (typeof d['recordId'] === 'string' && d['recordId'] !== row.recordId) continue;
          entry = { at: e.at, officer: e.officer, action: 'report', handles: 1, report: e.seq };
        } else if (e.action === 'hit.confirm' || e.action === 'hit.decline') {
          const decision = e.action === 'hit.confirm' ? 'confirm' : 'decline';
          // The note is the one written beside the decision (a handle is decided once here).
          const note = list.find((n) => n.action === 'hit.note' && detailOf(n.detail)['decision'] === decision);
          const text = note ? detailOf(note.detail)['note'] : undefined;
          entry = { at: e.at, officer: e.officer, action: decision, handles: 1 };
          if (typeof text === 'string' && text !== '') entry.note = text;
          else if (d['note'] === true) entry.noteElsewhere = true;
        } else continue;
        // One decision over several handles writes one entry per handle, a few
        // milliseconds apart, possibly across a second boundary: fold by
        // closeness in time, not by the clock's second.
        const k = [entry.action, entry.officer ?? '', entry.note ?? '', entry.report ?? ''].join('\u0000');
        const same = folded.get(k)?.find((x) => Math.abs(Date.parse(x.at) - Date.parse(entry.at)) <= FOLD_WINDOW_MS);
        if (same) same.handles++;
        else folded.set(k, [...(folded.get(k) ?? []), entry]);
      }
    }
    row.history = [...folded.values()].flat().sort((a, b) => byCodeUnits(a.at, b.at));
  }
}

/**
 * Keeps a decision's note in the local audit trail, beside the decision's
 * own entry (clients/agency/hits.ts), so the row's history can show it.
 */
export function recordNote(store: Store, officer: string, handle: string, decision: 'confirm' | 'decline', note: string, caseRef: string | null, now: Date): void {
  appendAudit(store, { officer, action: 'hit.note', subject: handle, outcome: 'ok', caseRef, detail: { decision, note } }, now);
}

/** Hits of this agency's own queries, from the local query tables and the last pulled statuses. */
export function requestedHits(store: Store): RequestedHit[] {
  const rows = store.sqlite
    .prepare(
      `SELECT r.handle, r.partner, r.query_id AS queryId, r.value_index AS idx, q.kind, q.case_ref AS caseRef, q.purpose, q.officer,
              coalesce(l.finished_at, q.created_at) AS firstSeen, l.state, h.status, h.partner_status AS partnerStatus
       FROM query_results r JOIN queries q ON q.id = r.query_id
       JOIN query_legs l ON l.query_id = r.query_id AND l.partner = r.partner
       LEFT JOIN hit_status h ON h.handle = r.handle
       WHERE r.hit = 1 AND r.handle IS NOT NULL`,
    )
    .all() as Array<{
    handle: string;
    partner: string;
    queryId: string;
    idx: number;
    kind: string;
    caseRef: string;
    purpose: string;
    officer: string;
    firstSeen: string;
    state: string;
    status: string | null;
    partnerStatus: string | null;
  }>;
  return rows
    .map((r) => ({
      handle: r.handle,
      partner: r.partner,
      queryId: r.queryId,
      kind: r.kind,
      index: r.idx,
      caseRef: r.caseRef,
      purpose: r.purpose,
      officer: r.officer,
      firstSeen: r.firstSeen,
      status: asStatus(r.status) ?? 'unverified',
      partnerStatus: asStatus(r.partnerStatus),
      // A leg is `done` only once its DLEQ proof checked (RFC 9497 §2.2.2; clients/agency/query.ts).
      proofVerified: r.state === 'done',
    }))
    .sort((a, b) => byCodeUnits(b.firstSeen, a.firstSeen) || byCodeUnits(a.handle, b.handle));
}

/** The pair state of a nightly match's pair: complete means this agency's canaries were found (protocol/SPEC.md). */
export function pairState(store: Store, pair: string): { state: string; completedAt: string | null } | undefined {
  return store.sqlite.prepare('SELECT state, completed_at AS completedAt FROM pair_results WHERE pair = ?').get(pair) as { state: string; completedAt: string | null } | undefined;
}
