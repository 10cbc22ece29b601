// Hits and their two-step status (src/API.md, "Hits"): an officer of a
// holding agency confirms or declines each nightly match and query hit.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { decisionBody, getHits, HANDLE_PATTERN, hitStatusFilter, postConfirm, postDecline, sinceFilter } from '../../../wire/index.js';
import type { AppEnv, Services } from '../../context.js';
import { nightlyView, queryView, StatusBook, type HitView } from '../../hits.js';
import { auditEntry, settlePair, settlePairsOf } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import type { AgencyRecord, HitStatusName, NightlyHitRecord, PairRecord, QueryHitRecord } from '../../store/types.js';
import { parseJsonBody, parseWith } from '../../validation.js';
import { mount } from '../mount.js';
import { basisTag, conditionalJson } from '../results/etag.js';

/** `status` (one of the three) and `since` (a date or an ISO 8601 time); empty means no filter. */
function parseFilter(c: Context<AppEnv>): { status?: HitStatusName; since?: string } {
  const out: { status?: HitStatusName; since?: string } = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (name !== 'status' && name !== 'since') throw new ProblemError('validation', `query.${name}: unknown parameter`, { field: `query.${name}` });
    if (values.length !== 1) throw new ProblemError('validation', `query.${name}: give it once`, { field: `query.${name}` });
    const v = values[0] as string;
    if (v === '') continue;
    if (name === 'status') out.status = parseWith(hitStatusFilter, v, 'query.status') as HitStatusName;
    else out.since = parseWith(sinceFilter, v, 'query.since') as string;
  }
  return out;
}

export function hitRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  async function viewsOf(me: string, nightly: readonly NightlyHitRecord[], query: readonly QueryHitRecord[], pairs: ReadonlyMap<string, PairRecord>) {
    const book = new StatusBook(await svc.store.hitStatuses([...nightly.map((h) => h.handle), ...query.map((h) => h.handle)]));
    const views: { view: HitView; holders: readonly string[] }[] = [];
    for (const h of nightly) {
      const pair = pairs.get(h.pairId);
      if (pair) views.push({ view: nightlyView(h, pair, me, book), holders: pair.agencies });
    }
    for (const h of query) views.push({ view: queryView(h, me, book), holders: [h.partner] });
    return { views, book };
  }

  mount(app, getHits, async (c) => {
    const me = (c.get('caller').agency as AgencyRecord).id;
    const filter = parseFilter(c);
    // A change committed but not yet published (its audit entry and hits still
    // due) is published first, so the list never lags the pairs' state.
    await settlePairsOf(svc, me);
    // Hits outlive agreements: every pair the agency was ever a party of.
    const pairs = new Map((await svc.store.listPairsOf(me)).map((p) => [p.id, p]));
    // Read before the hits: a document built after it is at least as new as the tag says.
    const revision = await svc.store.hitsRevision();
    const tag = await basisTag('hits', [me, filter.status ?? null, filter.since ?? null, revision, [...pairs.values()].map((p) => [p.id, p.agencies])]);
    return await conditionalJson(c, tag, async () => {
      const { views, book } = await viewsOf(me, await svc.store.listNightlyHits([...pairs.keys()]), await svc.store.listQueryHits(me), pairs);
      const hits = views
        .filter(({ view, holders }) => {
          if (filter.status && view.status !== filter.status) return false;
          if (filter.since) {
            const changed = book.lastChange(view.handle, holders);
            if (view.createdAt < filter.since && (changed === undefined || changed < filter.since)) return false;
          }
          return true;
        })
        .map((v) => v.view)
        .sort((a, b) => (a.createdAt === b.createdAt ? (a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0) : a.createdAt < b.createdAt ? -1 : 1));
      return { hits };
    });
  });

  for (const decision of ['confirm', 'decline'] as const) {
    const status = decision === 'confirm' ? 'confirmed' : 'declined';
    mount(app, decision === 'confirm' ? postConfirm : postDecline, async (c) => {
      const me = (c.get('caller').agency as AgencyRecord).id;
      const handle = c.req.param('handle') as string;
      const body = parseJsonBody(c.get('body'), decisionBody);
      let found = await svc.store.hitsByHandle(handle);
      // A pair whose last change is not published yet (its hits may be withdrawn) settles before the hit is decided on.
      let settled = false;
      for (const pairId of new Set(found.nightly.map((h) => h.pairId))) {
        const p = await svc.store.getPair(pairId);
        const agreement = p && p.agencies.includes(me) ? await svc.store.getAgreement(p.agreementId) : undefined;
        if (p && agreement && (await settlePair(svc, { pair: p, agreement, ps: svc.store.pair(p.id) }))) settled = true;
      }
      if (settled) found = await svc.store.hitsByHandle(handle);
      const pairs = new Map<string, PairRecord>();
      for (const h of found.nightly) {
        const p = await svc.store.getPair(h.pairId);
        if (p && p.agencies.includes(me)) pairs.set(p.id, p);
      }
      // Nightly matches are held by both parties; a query hit only by the partner that was asked.
      const nightly = found.nightly.filter((h) => pairs.has(h.pairId));
      const held = found.query.filter((h) => h.partner === me);
      const refused = { action: `hit.${decision}_refused`, subject: handle, detail: { officer: body.officer } };
      if (nightly.length === 0 && held.length === 0) {
        if (found.query.some((h) => h.requester === me)) {
          throw new ProblemError('forbidden', 'only the agency holding the hit may confirm or decline it', { audit: refused });
        }
        throw new ProblemError('not-found', 'no hit with this handle involves the caller', { audit: refused });
      }
      const partners = [...new Set([...nightly.map((h) => (pairs.get(h.pairId) as PairRecord).agencies.find((a) => a !== me) as string), ...held.map((h) => h.requester)])];
      // The status and its audit entry are one batch: a decision is never unaudited.
      const r = await svc.store.setHitStatus(
        { handle, agency: me, status, officer: body.officer, note: body.note ?? null, updatedAt: svc.now().toISOString() },
        auditEntry(svc, {
          actor: me,
          action: `hit.${status}`,
          subject: handle,
          detail: {
            officer: body.officer,
            note: body.note !== undefined,
            pairs: [...new Set([...nightly.map((h) => h.pairId), ...held.map((h) => h.pairId)])],
            partners,
            ...(held.length > 0 ? { queries: held.map((h) => h.queryId), caseRefs: [...new Set(held.map((h) => h.caseRef))] } : {}),
          },
        }),
      );
      if (r === 'conflict') {
        throw new ProblemError('conflict', `this hit was already ${status === 'confirmed' ? 'declined' : 'confirmed'} by the agency`, { audit: refused });
      }
      const { views } = await viewsOf(me, nightly, held, pairs);
      const latest = views.map((v) => v.view).sort((a, b) => (a.source === b.source ? (a.createdAt < b.createdAt ? 1 : -1) : a.source === 'nightly' ? -1 : 1))[0];
      return c.json(latest as HitView);
    }, { handle: HANDLE_PATTERN });
  }

  return app;
}
