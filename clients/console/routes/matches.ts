// Matches: the hits this agency holds data for (nightly matches of reveal
// pairs, and query hits where a partner asked about one of its identifiers),
// each with its two-step status, and the officer's confirm/decline.
import { Hono } from 'hono';
import { z } from 'zod';
import { decideHit, HIT_STATUSES, listHits, NOTE_MAX, type HitView } from '../../agency/hits.js';
import type { Match, MatchList, MatchStatus } from '../api-types.js';
import { jsonBody } from '../app.js';
import { ConsoleProblem, type ConsoleDeps, type ConsoleEnv } from '../context.js';
import { reachErrorText, rethrowCoordinator } from '../coordinator.js';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const filterSchema = z
  .object({
    partner: z.string().max(40).optional(),
    kind: z.string().max(40).optional(),
    status: z.enum(HIT_STATUSES).optional(),
    source: z.enum(['nightly', 'query']).optional(),
    from: date.optional(),
    to: date.optional(),
  })
  .strict();
const decisionBody = z.object({ decision: z.enum(['confirm', 'decline']), note: z.string().max(NOTE_MAX).optional() }).strict();

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

export function queryFilters(url: string, schema: z.ZodType<unknown>, prefix = 'query'): Record<string, string> {
  const params = Object.fromEntries(new URL(url).searchParams);
  const r = schema.safeParse(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')));
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConsoleProblem(422, 'invalid', issue?.message ?? 'invalid query parameter', `${prefix}.${String(issue?.path[0] ?? '')}`);
  }
  return r.data as Record<string, string>;
}

export function matchRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get('/matches', async (c) => {
    const f = queryFilters(c.req.url, filterSchema) as z.infer<typeof filterSchema>;
    let hits: HitView[];
    let stale = false;
    let staleReason: string | undefined;
    try {
      hits = await listHits(deps.client, deps.store);
    } catch (e) {
      stale = true;
      staleReason = reachErrorText(e);
      hits = localHits(deps);
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
      const hit = await decideHit(deps.client, deps.store, handle, body.decision, officer, body.note === '' ? undefined : body.note);
      return c.json({ match: row(hit) });
    } catch (e) {
      rethrowCoordinator(e);
    }
  });

  return app;
}

/** The last pulled statuses with the kept nightly matches, when the coordinator cannot be asked. */
function localHits(deps: ConsoleDeps): HitView[] {
  const db = deps.store.sqlite;
  const rows = db
    .prepare(
      `SELECT h.handle, h.pair, h.partner, h.source, h.status, h.my_status AS myStatus, h.partner_status AS partnerStatus,
              m.record_id AS recordId, m.kind, m.first_seen AS firstSeen, m.epoch
       FROM hit_status h JOIN matches m ON m.handle = h.handle ORDER BY h.handle`,
    )
    .all() as Array<{ handle: string; pair: string; partner: string; source: string; status: string; myStatus: string | null; partnerStatus: string | null; recordId: string; kind: string; firstSeen: string; epoch: string }>;
  const byHandle = new Map<string, HitView>();
  for (const r of rows) {
    let v = byHandle.get(r.handle);
    if (!v) {
      v = {
        handle: r.handle,
        source: r.source === 'query' ? 'query' : 'nightly',
        pair: r.pair,
        partner: r.partner,
        status: r.status,
        my_status: r.myStatus,
        partner_status: r.partnerStatus,
        epoch: r.epoch,
        record_ids: [],
        kinds: [],
        created_at: r.firstSeen,
      };
      byHandle.set(r.handle, v);
    }
    if (!v.record_ids.includes(r.recordId)) v.record_ids.push(r.recordId);
    if (!v.kinds.includes(r.kind)) v.kinds.push(r.kind);
  }
  return [...byHandle.values()];
}
