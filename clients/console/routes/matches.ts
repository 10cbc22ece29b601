// Matches: the hits this agency holds data for (nightly matches of reveal
// pairs, and query hits where a partner asked about one of its identifiers),
// each with its two-step status, and the officer's confirm/decline; the
// worklist folds them into one row per (local record × partner), and lists
// the hits of this agency's own queries.
import { Hono } from 'hono';
import { z } from 'zod';
import { decideHit, HIT_STATUSES, listHits, localHitViews, NOTE_MAX, type HitView } from '../../agency/hits.js';
import { CoordinatorError } from '../../sdk/errors.js';
import type { Match, MatchList, MatchStatus, RequestedHitList, WorkDecisionReply, WorkDecisionResult, Worklist, WorkRow } from '../api-types.js';

import { ConsoleProblem, type ConsoleDeps, type ConsoleEnv } from '../context.js';
import { coordinatorProblem, reachErrorText, rethrowCoordinator } from '../coordinator.js';
import { isoDate, jsonBody, queryFilters } from '../validation.js';
import { attachHistory, recordNote, requestedHits, undecidedHere, worklistRows, type RowWithHits } from '../worklist-store.js';

const filterSchema = z
  .object({
    partner: z.string().max(40).optional(),
    kind: z.string().max(40).optional(),
    status: z.enum(HIT_STATUSES).optional(),
    source: z.enum(['nightly', 'query']).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
  })
  .strict();
const decisionBody = z.object({ decision: z.enum(['confirm', 'decline']), note: z.string().max(NOTE_MAX).optional() }).strict();

export const WORKLIST_LIMIT_MAX = 100;
export const WORKLIST_LIMIT_DEFAULT = 25;
const WORK_SORTS = ['firstSeen', 'lastSeen', 'record', 'partner', 'strength'] as const;
const worklistSchema = z
  .object({
    status: z.enum(['awaiting', 'confirmed', 'declined', 'any']).optional(),
    partner: z.string().max(40).optional(),
    kind: z.string().max(40).optional(),
    case: z.string().max(100).optional(),
    sort: z.enum(WORK_SORTS).optional(),
    dir: z.enum(['asc', 'desc']).optional(),
    group: z.enum(['case', 'none']).optional(),
    offset: z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(0).max(1_000_000).optional(),
    limit: z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(1).max(WORKLIST_LIMIT_MAX).optional(),
  })
  .strict();
const rowRef = z.object({ partner: z.string().min(1).max(40), recordId: z.string().min(1).max(200) }).strict();
const workDecisionBody = z
  .object({
    rows: z.array(rowRef).min(1).max(WORKLIST_LIMIT_MAX),
    decision: z.enum(['confirm', 'decline']),
    note: z.string().max(NOTE_MAX).optional(),
  })
  .strict();

const lower = (s: string): string => s.toLocaleLowerCase('en');

function row(h: HitView): Match {
  return {
    handle: h.handle,
    partner: h.partner,
    source: h.source,
    recordIds: h.record_ids,
    kinds: h.kinds,
    firstSeen: h.created_at,
    status: h.status as MatchStatus,
    myStatus: h.my_status as MatchStatus | null,
    partnerStatus: h.partner_status as MatchStatus | null,
    ...(h.case_ref ? { caseRef: h.case_ref } : {}),
    ...(h.purpose ? { purpose: h.purpose } : {}),
  };
}

/** Hits whose data this agency holds: it has a position in them, or kept records for the handle. */
const held = (h: HitView): boolean => h.position !== undefined || h.record_ids.length > 0;

export function matchRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const now = deps.now ?? (() => new Date());

  /** Every hit, fresh from the coordinator or, when it cannot be asked, as last pulled. */
  async function hitViews(): Promise<{ hits: HitView[]; stale: boolean; staleReason?: string }> {
    try {
      return { hits: await listHits(deps.client, deps.store), stale: false };
    } catch (e) {
      return { hits: localHitViews(deps.store), stale: true, staleReason: reachErrorText(e) };
    }
  }

  async function decide(handle: string, decision: 'confirm' | 'decline', officer: string, note: string | undefined): Promise<HitView> {
    const hit = await decideHit(deps.client, deps.store, handle, decision, officer, note);
    if (note !== undefined) recordNote(deps.store, officer, handle, decision, note, hit.case_ref ?? null, now());
    return hit;
  }

  app.get('/worklist', async (c) => {
    const f = queryFilters(c.req.url, worklistSchema);
    const { hits, stale, staleReason } = await hitViews();
    const { rows } = worklistRows(deps.store, hits);
    const wanted = f.status ?? 'awaiting';
    const caseQ = f.case ? lower(f.case) : undefined;
    const filtered = rows.filter(
      ({ row }) =>
        (wanted === 'any' || row.myStatus === wanted) &&
        (!f.partner || row.partner === f.partner) &&
        (!f.kind || row.kinds.includes(f.kind)) &&
        (!caseQ || row.caseRefs.some((r) => lower(r).includes(caseQ))),
    );
    const sorted = sortRows(filtered, f.sort ?? 'firstSeen', f.dir ?? (f.sort === 'record' || f.sort === 'partner' ? 'asc' : 'desc'), (f.group ?? 'case') === 'case');
    const offset = f.offset ?? 0;
    const limit = f.limit ?? WORKLIST_LIMIT_DEFAULT;
    const pageRows = sorted.slice(offset, offset + limit);
    attachHistory(deps.store, pageRows);
    return c.json<Worklist>({
      rows: pageRows.map((r) => r.row),
      total: filtered.length,
      offset,
      limit,
      awaiting: rows.filter((r) => r.row.myStatus === 'awaiting').length,
      partners: [...new Set(rows.map((r) => r.row.partner))].sort(),
      kinds: [...new Set(rows.flatMap((r) => r.row.kinds))].sort(),
      caseRefs: [...new Set(rows.flatMap((r) => r.row.caseRefs))].sort(),
      stale,
      ...(staleReason ? { staleReason } : {}),
    });
  });

  app.post('/worklist/decisions', async (c) => {
    const body = await jsonBody(c, workDecisionBody);
    const officer = c.get('session').officer.id;
    const note = body.note?.trim() === '' ? undefined : body.note?.trim();
    let hits: HitView[];
    try {
      // Decisions act on the coordinator's current statuses, never on a stale copy.
      hits = await listHits(deps.client, deps.store);
    } catch (e) {
      rethrowCoordinator(e);
    }
    const byKey = new Map(worklistRows(deps.store, hits).rows.map((r) => [r.row.key, r]));
    const results: WorkDecisionResult[] = [];
    const touched = new Set<string>();
    const decidedHandles = new Set<string>();
    for (const ref of body.rows) {
      const key = `${ref.partner}/${ref.recordId}`;
      if (results.some((r) => r.key === key)) continue;
      const r = byKey.get(key);
      if (!r) {
        results.push({ key, decided: 0, ok: false, error: 'no such row in the worklist' });
        continue;
      }
      const open = r.hits.filter((h) => undecidedHere(h) && !decidedHandles.has(h.handle));
      if (open.length === 0) {
        results.push({ key, decided: 0, ok: false, error: `already decided here (${r.row.myStatus})` });
        continue;
      }
      let decided = 0;
      let error: string | undefined;
      for (const h of open) {
        try {
          await decide(h.handle, body.decision, officer, note);
          decided++;
          decidedHandles.add(h.handle);
        } catch (e) {
          const p = coordinatorProblem(e);
          if (!p) throw e;
          error = e instanceof CoordinatorError && e.status === 409 ? 'the other decision was already recorded for one of its hits' : p.message;
          if (p.status === 502) break;
        }
      }
      touched.add(key);
      results.push({ key, decided, ok: error === undefined, ...(error !== undefined ? { error } : {}) });
    }
    // The rows as they are now, from the local copy the decisions updated.
    const { hits: fresh } = await hitViews();
    const after = worklistRows(deps.store, fresh).rows;
    const rows = after.filter((r) => touched.has(r.row.key));
    attachHistory(deps.store, rows);
    return c.json<WorkDecisionReply>({ results, rows: rows.map((r) => r.row), awaiting: after.filter((r) => r.row.myStatus === 'awaiting').length });
  });

  app.get('/worklist/requested', async (c) => {
    let stale = false;
    try {
      // Refreshes the local copy of the statuses the rows are read with.
      await listHits(deps.client, deps.store);
    } catch {
      stale = true;
    }
    return c.json<RequestedHitList>({ hits: requestedHits(deps.store), stale });
  });

  app.get('/matches', async (c) => {
    const f = queryFilters(c.req.url, filterSchema);
    let hits: HitView[];
    let stale = false;
    let staleReason: string | undefined;
    try {
      hits = await listHits(deps.client, deps.store);
    } catch (e) {
      stale = true;
      staleReason = reachErrorText(e);
      hits = localHitViews(deps.store);
    }
    const all = hits.filter(held).map(row);
    const fromMs = f.from ? Date.parse(`${f.from}T00:00:00Z`) : -Infinity;
    const toMs = f.to ? Date.parse(`${f.to}T00:00:00Z`) + 86_400_000 : Infinity;
    const matches = all
      .filter((m) => (!f.partner || m.partner === f.partner) && (!f.kind || m.kinds.includes(f.kind)) && (!f.status || m.status === f.status))
      .filter((m) => (!f.source || m.source === f.source) && Date.parse(m.firstSeen) >= fromMs && Date.parse(m.firstSeen) < toMs)
      .sort((a, b) => (a.firstSeen < b.firstSeen ? 1 : a.firstSeen > b.firstSeen ? -1 : a.handle < b.handle ? -1 : 1));
    return c.json<MatchList>({
      matches,
      partners: [...new Set(all.map((m) => m.partner))].sort(),
      kinds: [...new Set(all.flatMap((m) => m.kinds))].sort(),
      stale,
      ...(staleReason ? { staleReason } : {}),
    });
  });

  app.post('/matches/:handle/decision', async (c) => {
    const handle = c.req.param('handle');
    if (!/^[0-9a-f]{8,128}$/.test(handle)) throw new ConsoleProblem(422, 'invalid', 'not a match handle', 'path.handle');
    const body = await jsonBody(c, decisionBody);
    const officer = c.get('session').officer.id;
    try {
      const hit = await decide(handle, body.decision, officer, body.note === '' ? undefined : body.note);
      return c.json({ match: row(hit) });
    } catch (e) {
      rethrowCoordinator(e);
    }
  });

  return app;
}

function sortRows(rows: RowWithHits[], sort: (typeof WORK_SORTS)[number], dir: 'asc' | 'desc', byCase: boolean): RowWithHits[] {
  const sign = dir === 'asc' ? 1 : -1;
  const cmp = (a: WorkRow, b: WorkRow): number => {
    switch (sort) {
      case 'record':
        return a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0;
      case 'partner':
        return a.partner < b.partner ? -1 : a.partner > b.partner ? 1 : 0;
      case 'strength':
        return a.strength.matched / a.strength.of - b.strength.matched / b.strength.of || a.strength.matched - b.strength.matched;
      case 'lastSeen':
        return a.lastSeen < b.lastSeen ? -1 : a.lastSeen > b.lastSeen ? 1 : 0;
      default:
        return a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : 0;
    }
  };
  // Rows without a case reference come after every case; ties fall back to the key, so pages never overlap.
  const caseOf = (r: WorkRow): string => r.caseRefs[0] ?? '\uffff';
  return [...rows].sort(({ row: a }, { row: b }) => {
    if (byCase) {
      const ca = caseOf(a);
      const cb = caseOf(b);
      if (ca !== cb) return ca < cb ? -1 : 1;
    }
    return sign * cmp(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  });
}
