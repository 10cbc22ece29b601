// Overview: partners and agreements, the state of each pair, sync runs and
// the schedule. Answers from the local store when the coordinator is down.
import { Hono } from 'hono';
import { MAX_QUERY_VALUES } from '../../../protocol/query.js';
import type { Me, PairStatus, WorkTask } from '../../sdk/api.js';
import { listAgreements, localAgreements } from '../../agency/agreements.js';
import { listHits } from '../../agency/hits.js';
import type { Store } from '../../store/db.js';
import type { Agreement, AwaitingAgreement, Overview, OverviewSince, PairState } from '../api-types.js';
import type { ConsoleDeps, ConsoleEnv } from '../context.js';
import { reachErrorText } from '../coordinator.js';

interface PairRow {
  pair: string;
  agreement: string;
  partner: string;
  mode: string;
  state: string;
  reason: string | null;
  count: number | null;
  updatedAt: string;
  completedAt: string | null;
  epoch: string;
}

interface SyncRunRow {
  startedAt: string;
  finishedAt: string | null;
  ok: number | null;
  errors: string;
}

const parseErrors = (s: string): string[] => {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};

/** Keys of the console's rows in local_state. */
const PAIRS_CACHE = 'console.pairs_cache';
const UNREACHABLE_SINCE = 'console.coordinator_unreachable_since';
const PARTNER_DECISIONS = 'console.partner_decisions_seen';
/** Legs a console query stopped waiting for (written by routes/queries.ts): an answer to one later is "late". */
export const AWAITED_PREFIX = 'console.query_awaited:';

type CachedPair = Pick<Me['pairs'][number], 'pair' | 'agreement' | 'partner' | 'mode' | 'kinds' | 'purposes' | 'validUntil' | 'queriesLeftToday' | 'queryQuota'>;

export function readState<T>(store: Store, key: string): T | undefined {
  const raw = store.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(key) as string | undefined;
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

export function writeState(store: Store, key: string, value: unknown): void {
  store.sqlite.prepare('INSERT INTO local_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
}

const dropState = (store: Store, key: string): void => void store.sqlite.prepare('DELETE FROM local_state WHERE key = ?').run(key);

/**
 * Partner decisions on hits, stamped when this console first saw them: the
 * coordinator reports a partner's status, not when it changed. A decision
 * first seen after the officer's last sign-in is news.
 */
function notePartnerDecisions(store: Store, at: string): Map<string, { s: string; at: string; partner: string }> {
  const seen = new Map(Object.entries(readState<Record<string, { s: string; at: string; partner: string }>>(store, PARTNER_DECISIONS) ?? {}));
  const rows = store.sqlite.prepare("SELECT handle, partner, partner_status AS s FROM hit_status WHERE partner_status IN ('confirmed', 'declined')").all() as Array<{ handle: string; partner: string; s: string }>;
  let changed = false;
  for (const r of rows) {
    if (seen.get(r.handle)?.s === r.s) continue;
    seen.set(r.handle, { s: r.s, at, partner: r.partner });
    changed = true;
  }
  if (changed) writeState(store, PARTNER_DECISIONS, Object.fromEntries(seen));
  return seen;
}

function sinceLastSignIn(store: Store, since: string | null, at: string): OverviewSince {
  const db = store.sqlite;
  const from = since ?? '';
  // People, not identifiers: one person matched on passport and e-mail is one new match.
  const newMatches = db
    .prepare('SELECT partner, count(DISTINCT record_id) AS people FROM matches WHERE first_seen >= ? GROUP BY partner ORDER BY partner')
    .all(from) as OverviewSince['newMatches'];
  const decisions = notePartnerDecisions(store, at);
  const recordsOf = db.prepare('SELECT DISTINCT record_id FROM matches WHERE handle = ?').pluck();
  const byKey = new Map<string, { partner: string; decision: 'confirmed' | 'declined'; people: Set<string> }>();
  for (const [handle, d] of decisions) {
    if (d.at < from) continue;
    const decision = d.s === 'confirmed' ? 'confirmed' : 'declined';
    const k = `${d.partner}\u0000${decision}`;
    const e = byKey.get(k) ?? { partner: d.partner, decision, people: new Set<string>() };
    // One person's passport and e-mail hits are one person; a query hit names no local record and counts alone.
    const records = recordsOf.all(handle) as string[];
    for (const r of records.length ? records.map((x) => `record:${x}`) : [`handle:${handle}`]) e.people.add(r);
    byKey.set(k, e);
  }
  const lateAnswers: OverviewSince['lateAnswers'] = [];
  const awaited = db.prepare("SELECT key, value FROM local_state WHERE key LIKE ?").all(`${AWAITED_PREFIX}%`) as Array<{ key: string; value: string }>;
  const leg = db.prepare("SELECT l.partner, l.finished_at AS at, q.case_ref AS caseRef FROM query_legs l JOIN queries q ON q.id = l.query_id WHERE l.query_id = ? AND l.state = 'done' AND l.finished_at >= ?");
  const hitsOf = db.prepare('SELECT count(*) FROM query_results WHERE query_id = ? AND partner = ? AND hit = 1').pluck();
  for (const a of awaited) {
    const queryId = a.key.slice(AWAITED_PREFIX.length);
    let partners: string[] = [];
    try {
      const v = JSON.parse(a.value) as { partners?: unknown };
      partners = Array.isArray(v.partners) ? v.partners.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      continue;
    }
    for (const r of leg.all(queryId, from) as Array<{ partner: string; at: string; caseRef: string }>) {
      if (partners.includes(r.partner)) lateAnswers.push({ queryId, caseRef: r.caseRef, partner: r.partner, at: r.at, hits: hitsOf.get(queryId, r.partner) as number });
    }
  }
  lateAnswers.sort((x, y) => (x.at < y.at ? 1 : -1));
  const failedPairs = db
    .prepare("SELECT partner, agreement, coalesce(reason, 'failed') AS reason, updated_at AS at FROM pair_results WHERE state = 'failed' ORDER BY partner")
    .all() as OverviewSince['failedPairs'];
  return { since, newMatches, partnerDecisions: [...byKey.values()].map((e) => ({ partner: e.partner, decision: e.decision, people: e.people.size })).sort((x, y) => (x.partner + x.decision < y.partner + y.decision ? -1 : 1)), lateAnswers, failedPairs };
}

export function overviewRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get('/overview', async (c) => {
    const db = deps.store.sqlite;
    let me: Me | undefined;
    let work: WorkTask[] | undefined;
    let coordinatorError: string | undefined;
    let awaiting: AwaitingAgreement[] = [];
    const statuses = new Map<string, PairStatus>();
    try {
      me = await deps.client.me();
      work = await deps.client.work();
      awaiting = (await listAgreements(deps.agency, deps.store, deps.client))
        .filter((v) => v.local === null && (v.status === 'proposed' || v.status === 'active'))
        .map((v) => ({
          id: v.id,
          version: v.version,
          status: v.status,
          parties: v.parties.map((p) => p.agency),
          accepted: v.parties.filter((p) => p.accepted).map((p) => p.agency),
          digest: v.digest,
          validUntil: v.terms.validUntil,
        }));
      // The hits' statuses as the coordinator has them now: a partner's decision since the last pull is news.
      await listHits(deps.client, deps.store).catch(() => undefined);
      await Promise.all(
        me.pairs.map(async (p) => {
          try {
            statuses.set(p.pair, await deps.client.status(p.pair));
          } catch {
            // A pair without this agency's side yet has no status; the rest of the page still answers.
          }
        }),
      );
    } catch (e) {
      coordinatorError = reachErrorText(e);
    }
    const nowIso = (deps.now ?? (() => new Date()))().toISOString();
    let unreachableSince: string | null = null;
    let cache = readState<{ at: string; pairs: CachedPair[] }>(deps.store, PAIRS_CACHE);
    if (me) {
      dropState(deps.store, UNREACHABLE_SINCE);
      cache = {
        at: nowIso,
        pairs: me.pairs.map((p) => ({
          pair: p.pair,
          agreement: p.agreement,
          partner: p.partner,
          mode: p.mode,
          kinds: p.kinds,
          ...(p.purposes ? { purposes: p.purposes } : {}),
          validUntil: p.validUntil,
          ...(p.queriesLeftToday !== undefined ? { queriesLeftToday: p.queriesLeftToday } : {}),
          ...(p.queryQuota ? { queryQuota: p.queryQuota } : {}),
        })),
      };
      // The terms as last seen, for the night the coordinator is down: never a blank "expired" agreement.
      writeState(deps.store, PAIRS_CACHE, cache);
    } else {
      unreachableSince = readState<string>(deps.store, UNREACHABLE_SINCE) ?? null;
      if (unreachableSince === null) {
        unreachableSince = nowIso;
        writeState(deps.store, UNREACHABLE_SINCE, nowIso);
      }
    }
    const cached = new Map((cache?.pairs ?? []).map((p) => [p.pair, p]));
    // The newest version this agency accepted, per agreement id: the terms it signed.
    const accepted = new Map<string, ReturnType<typeof localAgreements>[number]>();
    for (const a of localAgreements(deps.store)) if (a.status === 'accepted' && (accepted.get(a.id)?.version ?? 0) < a.version) accepted.set(a.id, a);

    const local = new Map((db.prepare('SELECT pair, agreement, partner, mode, state, reason, count, updated_at AS updatedAt, completed_at AS completedAt, epoch FROM pair_results').all() as PairRow[]).map((r) => [r.pair, r]));
    const matchesOf = db.prepare('SELECT count(DISTINCT handle) FROM matches WHERE pair = ?').pluck();
    const peopleOf = db.prepare('SELECT count(DISTINCT record_id) FROM matches WHERE pair = ?').pluck();
    const mySize = db.prepare('SELECT count(*) FROM positions WHERE pair = ? AND epoch = ? AND removed = 0 AND canary_r IS NULL').pluck();

    const agreements: Agreement[] = [];
    const seen = new Set<string>();
    for (const p of me?.pairs ?? []) {
      seen.add(p.pair);
      const l = local.get(p.pair);
      const st = statuses.get(p.pair);
      agreements.push({
        partner: p.partner,
        agreement: p.agreement,
        pair: p.pair,
        mode: p.mode,
        kinds: p.kinds,
        purposes: p.purposes ?? [],
        validUntil: p.validUntil,
        ...(p.queriesLeftToday !== undefined ? { queriesLeftToday: p.queriesLeftToday } : {}),
        ...(p.queryQuota ? { queryQuota: { perDay: p.queryQuota.perDay ?? 0, maxValues: p.queryQuota.maxValues ?? MAX_QUERY_VALUES } } : {}),
        state: (st?.state ?? l?.state ?? 'unknown') as PairState,
        ...((st?.reason ?? l?.reason) ? { reason: (st?.reason ?? l?.reason) as string } : {}),
        ...(l?.completedAt ? { lastSync: l.completedAt } : {}),
        // Counted locally: the coordinator's size includes this side's canaries, which only we can tell apart.
        mySetSize: mySize.get(p.pair, me?.epoch.id) as number,
        ...(st ? { partnerSetSize: st.partner.size } : {}),
        ...(p.mode === 'reveal' ? { matches: matchesOf.get(p.pair) as number, people: peopleOf.get(p.pair) as number } : l?.count !== null && l?.count !== undefined ? { count: l.count } : {}),
        termsFrom: 'coordinator',
      });
    }
    // Without the coordinator, the pairs last pulled.
    for (const l of local.values()) {
      if (seen.has(l.pair) || me) continue;
      const c = cached.get(l.pair);
      const signed = accepted.get(l.agreement.split('@')[0] as string)?.terms;
      const terms = c
        ? { kinds: c.kinds, purposes: c.purposes ?? [], validUntil: c.validUntil, termsFrom: 'cache' as const }
        : signed
          ? { kinds: signed.kinds, purposes: signed.purposes, validUntil: signed.validUntil, termsFrom: 'accepted' as const }
          : { kinds: [], purposes: [], validUntil: '', termsFrom: 'none' as const };
      agreements.push({
        partner: l.partner,
        agreement: l.agreement,
        pair: l.pair,
        mode: l.mode as Agreement['mode'],
        ...terms,
        ...(c?.queriesLeftToday !== undefined ? { queriesLeftToday: c.queriesLeftToday } : {}),
        ...(c?.queryQuota ? { queryQuota: { perDay: c.queryQuota.perDay ?? 0, maxValues: c.queryQuota.maxValues ?? MAX_QUERY_VALUES } } : {}),
        state: l.state as PairState,
        ...(l.reason ? { reason: l.reason } : {}),
        ...(l.completedAt ? { lastSync: l.completedAt } : {}),
        mySetSize: mySize.get(l.pair, l.epoch) as number,
        ...(l.mode === 'reveal' ? { matches: matchesOf.get(l.pair) as number, people: peopleOf.get(l.pair) as number } : l.count !== null ? { count: l.count } : {}),
      });
    }
    const partners = [...new Set(agreements.map((a) => a.partner))].sort().map((partner) => ({ partner, agreements: agreements.filter((a) => a.partner === partner) }));

    const runs = db.prepare('SELECT started_at AS startedAt, finished_at AS finishedAt, ok, errors FROM sync_runs ORDER BY id DESC LIMIT 50').all() as SyncRunRow[];
    const last = runs[0];
    const failedRuns = [
      ...[...local.values()].filter((l) => l.state === 'failed').map((l) => ({ at: l.updatedAt, pair: l.pair, partner: l.partner, reason: l.reason ?? 'failed' })),
      ...runs.filter((r) => r.ok === 0).slice(0, 10).flatMap((r) => (parseErrors(r.errors).length ? parseErrors(r.errors) : ['sync failed']).map((reason) => ({ at: r.finishedAt ?? r.startedAt, reason }))),
    ].sort((a, b) => (a.at < b.at ? 1 : -1));

    // A failed check stays on the page until a later check verifies a head (clients/agency/transparency.ts).
    const head = db.prepare('SELECT size, verified_at AS at FROM audit_heads ORDER BY size DESC LIMIT 1').get() as { size: number; at: string } | undefined;
    const failedCheck = db
      .prepare("SELECT at, detail FROM audit_log WHERE action IN ('audit_log.inconsistent', 'audit_log.key_changed') ORDER BY seq DESC LIMIT 1")
      .get() as { at: string; detail: string } | undefined;
    const failure =
      failedCheck && (!head || failedCheck.at >= head.at)
        ? (() => {
            const d = JSON.parse(failedCheck.detail) as { check?: unknown; message?: unknown };
            return { at: failedCheck.at, check: typeof d.check === 'string' ? d.check : 'check', message: typeof d.message === 'string' ? d.message : 'the audit log check failed' };
          })()
        : null;

    const imp = db.prepare('SELECT imported_at AS importedAt, records, identifiers FROM imports ORDER BY id DESC LIMIT 1').get() as { importedAt: string; records: number; identifiers: number } | undefined;
    const next = deps.nextSync?.();
    return c.json<Overview>({
      agency: me ? me.agency : { id: deps.agency.agency, name: deps.agency.agency, country: deps.agency.agency.slice(0, 2) },
      sinceLastSignIn: sinceLastSignIn(deps.store, c.get('session').since, nowIso),
      coordinatorUnreachableSince: unreachableSince,
      termsCachedAt: cache?.at ?? null,
      awaitingAcceptance: awaiting,
      coordinator: deps.agency.coordinator,
      coordinatorReachable: me !== undefined,
      ...(coordinatorError ? { coordinatorError } : {}),
      epoch: me ? me.epoch : null,
      partners,
      pendingWork: work?.length ?? 0,
      failedRuns,
      lastSync: last ? { startedAt: last.startedAt, finishedAt: last.finishedAt, ok: last.ok === 1, errors: parseErrors(last.errors) } : null,
      nextSync: next ? next.toISOString() : null,
      watchlist: imp ?? null,
      auditLog: { verified: head ?? null, failure },
    });
  });

  return app;
}
