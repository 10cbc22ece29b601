// Matches: the hits this agency holds data for (nightly matches of reveal
// pairs, and query hits where a partner asked about one of its identifiers),
// each with its two-step status, and the officer's confirm/decline.
import { Hono } from 'hono';
import { z } from 'zod';
import { decideHit, HIT_STATUSES, listHits, localHitViews, NOTE_MAX, type HitView } from '../../agency/hits.js';
import type { Match, MatchList, MatchStatus } from '../api-types.js';

import { ConsoleProblem, type ConsoleDeps, type ConsoleEnv } from '../context.js';
import { reachErrorText, rethrowCoordinator } from '../coordinator.js';
import { isoDate, jsonBody, queryFilters } from '../validation.js';

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
      const hit = await decideHit(deps.client, deps.store, handle, body.decision, officer, body.note === '' ? undefined : body.note);
      return c.json({ match: row(hit) });
    } catch (e) {
      rethrowCoordinator(e);
    }
  });

  return app;
}
