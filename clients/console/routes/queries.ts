// Targeted queries from the console: the officer's values arrive in the POST
// body, are canonicalised and blinded here, and never leave this process in
// the clear — not in a response (results name values by index), not in a log.
import { Hono } from 'hono';
import { z } from 'zod';
import { IDENTIFIER_KINDS, isIdentifierKind, tryCanonicalize } from '../../../protocol/identifiers/index.js';
import { MAX_QUERY_VALUES } from '../../../protocol/query.js';
import { CASE_REF_MAX, createQuery, followQuery, localReport, pairAllows, type QueryContext, type QueryReport } from '../../agency/query.js';
import type { Me } from '../../sdk/api.js';
import { AgencyError, UsageError } from '../../sdk/errors.js';
import type { BadValue, LegAnswer, QueryLeg, QueryOptions, QueryReply, QuerySummary } from '../api-types.js';
import { ConsoleProblem, type ConsoleDeps, type ConsoleEnv } from '../context.js';
import { rethrowCoordinator } from '../coordinator.js';
import { jsonBody } from '../validation.js';
import { AWAITED_PREFIX, readState, writeState } from './overview.js';

const DEFAULT_WAIT_SECONDS = 20;

const queryBody = z
  .object({
    kind: z.string().min(1).max(40),
    values: z.array(z.string().max(1000)).min(1).max(MAX_QUERY_VALUES),
    partners: z.union([z.literal('all'), z.array(z.string().min(1).max(40)).min(1).max(50)]),
    purpose: z.string().min(1).max(64),
    caseRef: z.string().trim().min(1).max(CASE_REF_MAX),
    defaultCountry: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as ES')
      .optional(),
    wait: z.number().min(0).max(60).optional(),
  })
  .strict();

/** What a leg means for the officer; never "answered" without a verified answer. */
function answerOf(l: QueryReport['legs'][number], awaited: readonly string[]): LegAnswer {
  if (l.state === 'done') return 'answered';
  if (l.state === 'expired') return 'offline';
  if (l.state === 'error') return l.error === 'refused' ? 'refused' : 'failed';
  if (l.state === 'incomplete') return 'failed';
  // Still pending after the console waited its full time for it: nobody is answering there.
  return awaited.includes(l.partner) ? 'offline' : 'waiting';
}

function rowOf(deps: ConsoleDeps, r: QueryReport): QuerySummary {
  const meta = deps.store.sqlite.prepare('SELECT created_at AS createdAt, officer FROM queries WHERE id = ?').get(r.queryId) as { createdAt: string; officer: string };
  const awaited = readState<{ partners?: string[] }>(deps.store, `${AWAITED_PREFIX}${r.queryId}`)?.partners ?? [];
  return {
    queryId: r.queryId,
    createdAt: meta.createdAt,
    kind: r.kind,
    purpose: r.purpose,
    caseRef: r.caseRef,
    officer: meta.officer,
    values: r.values,
    legs: r.legs.map((l): QueryLeg => ({
      partner: l.partner,
      state: l.state,
      answer: answerOf(l, awaited),
      // A leg is `done` only after finishQuery checked the partner's DLEQ proof (RFC 9497 §2.2.2).
      proofVerified: l.state === 'done',
      ...(l.error ? { error: l.error } : {}),
      ...(l.detail ? { detail: l.detail } : {}),
      results: l.results ?? [],
    })),
  };
}

const reveal = (me: Me) => me.pairs.filter((p) => p.mode === 'reveal');

export function queryRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const ctx: QueryContext = { agency: deps.agency, store: deps.store, client: deps.client, engine: deps.engine };
  const maxWait = deps.queryWaitMaxSeconds ?? 60;

  app.get('/query/options', async (c) => {
    let me: Me;
    try {
      me = await deps.client.me();
    } catch (e) {
      rethrowCoordinator(e);
    }
    const pairs = reveal(me);
    return c.json<QueryOptions>({
      kinds: [...new Set(pairs.flatMap((p) => p.kinds))].sort(),
      purposes: [...new Set(pairs.flatMap((p) => p.purposes ?? []))].sort(),
      partners: pairs.map((p) => ({
        partner: p.partner,
        agreement: p.agreement,
        kinds: p.kinds,
        purposes: p.purposes ?? [],
        // A coordinator without part 2 of the API reports no quota: no query is possible there.
        queriesLeftToday: p.queriesLeftToday ?? 0,
        perDay: p.queryQuota?.perDay ?? 0,
        maxValues: p.queryQuota?.maxValues ?? MAX_QUERY_VALUES,
      })),
    });
  });

  app.post('/queries', async (c) => {
    const body = await jsonBody(c, queryBody);
    if (!isIdentifierKind(body.kind)) throw new ConsoleProblem(422, 'invalid', `not an identifier kind (expected one of ${IDENTIFIER_KINDS.join(', ')})`, 'body.kind');
    const opts = body.defaultCountry ? { defaultCountry: body.defaultCountry.toUpperCase() } : undefined;
    // Every value is checked before anything is sent, and every bad one is named (by index and rule, never by
    // value), so the officer corrects them all at once; the query then goes unsent.
    const bad: BadValue[] = [];
    const canonical = body.values.map((raw, i) => {
      const r = tryCanonicalize(body.kind, raw, opts);
      if (r.ok) return r.canonical;
      bad.push({ index: i, rule: r.error.code, message: r.error.message.replace(/^.*?\): /, '') });
      return '';
    });
    if (bad.length > 0) {
      const first = bad[0] as BadValue;
      const what = bad.length === 1 ? `value ${first.index}` : `${bad.length} values (${bad.map((b) => b.index).join(', ')})`;
      throw new ConsoleProblem(422, 'invalid', `${what}: not a valid ${body.kind}; nothing was sent`, `body.values[${first.index}]`, {}, { values: bad });
    }
    const officer = c.get('session').officer.id;
    let me: Me;
    let id: string;
    try {
      me = await deps.client.me();
      if (body.partners !== 'all') {
        for (const [i, p] of body.partners.entries()) {
          if (!reveal(me).some((x) => x.partner === p)) throw new ConsoleProblem(422, 'invalid', `${p} is not a partner with a reveal agreement`, `body.partners[${i}]`);
        }
      } else if (!reveal(me).some((p) => pairAllows(p, body.kind, body.purpose))) {
        throw new ConsoleProblem(422, 'invalid', `no partner's agreement allows ${body.kind} queries for purpose ${body.purpose}`, 'body.partners');
      }
      id = await createQuery(
        ctx,
        { ...(body.partners === 'all' ? { all: true } : { partners: body.partners }), kind: body.kind, purpose: body.purpose, caseRef: body.caseRef, officer },
        canonical,
        me,
      );
    } catch (e) {
      if (e instanceof ConsoleProblem) throw e;
      // This agency's own client refused: no agreement it accepted allows the query (nothing was sent).
      if (e instanceof AgencyError && !(e instanceof UsageError)) throw new ConsoleProblem(403, 'agreement', e.message, 'body.partners');
      rethrowCoordinator(e);
    }
    const report = await followQuery(ctx, id, Math.min(maxWait, body.wait ?? DEFAULT_WAIT_SECONDS), { fresh: true }).catch(() => localReport(deps.store, id));
    // The console stopped waiting for these partners: an answer from one of them later is a late answer (overview).
    const open = report.legs.filter((l) => l.state === 'pending').map((l) => l.partner);
    if (open.length > 0) writeState(deps.store, `${AWAITED_PREFIX}${id}`, { partners: open });
    let quota: QueryReply['quota'] = [];
    try {
      quota = reveal(await deps.client.me()).map((p) => ({ partner: p.partner, queriesLeftToday: p.queriesLeftToday ?? 0, perDay: p.queryQuota?.perDay ?? 0 }));
    } catch {
      // The answers matter more than the quota line; the Query page reloads it.
    }
    return c.json<QueryReply>({ ...rowOf(deps, report), quota });
  });

  app.get('/queries', (c) => {
    const ids = deps.store.sqlite.prepare('SELECT id FROM queries ORDER BY created_at DESC LIMIT 200').pluck().all() as string[];
    return c.json({ queries: ids.map((id) => rowOf(deps, localReport(deps.store, id))) });
  });

  app.get('/queries/:id', async (c) => {
    const id = c.req.param('id');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(id) || !deps.store.sqlite.prepare('SELECT 1 FROM queries WHERE id = ?').get(id)) {
      throw new ConsoleProblem(404, 'not-found', 'no such query from this agency');
    }
    const report = await followQuery(ctx, id, 0).catch(() => localReport(deps.store, id));
    return c.json(rowOf(deps, report));
  });

  return app;
}
