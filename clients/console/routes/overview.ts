// Overview: partners and agreements, the state of each pair, sync runs and
// the schedule. Answers from the local store when the coordinator is down.
import { Hono } from 'hono';
import { MAX_QUERY_VALUES } from '../../../protocol/query.js';
import type { Me, PairStatus, WorkTask } from '../../sdk/api.js';
import { listAgreements } from '../../agency/agreements.js';
import type { Agreement, AwaitingAgreement, Overview, PairState } from '../api-types.js';
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

    const local = new Map((db.prepare('SELECT pair, agreement, partner, mode, state, reason, count, updated_at AS updatedAt, completed_at AS completedAt, epoch FROM pair_results').all() as PairRow[]).map((r) => [r.pair, r]));
    const matchesOf = db.prepare('SELECT count(DISTINCT handle) FROM matches WHERE pair = ?').pluck();
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
        ...(p.mode === 'reveal' ? { matches: matchesOf.get(p.pair) as number } : l?.count !== null && l?.count !== undefined ? { count: l.count } : {}),
      });
    }
    // Without the coordinator, the pairs last pulled.
    for (const l of local.values()) {
      if (seen.has(l.pair) || me) continue;
      agreements.push({
        partner: l.partner,
        agreement: l.agreement,
        pair: l.pair,
        mode: l.mode as Agreement['mode'],
        kinds: [],
        purposes: [],
        validUntil: '',
        state: l.state as PairState,
        ...(l.reason ? { reason: l.reason } : {}),
        ...(l.completedAt ? { lastSync: l.completedAt } : {}),
        mySetSize: mySize.get(l.pair, l.epoch) as number,
        ...(l.mode === 'reveal' ? { matches: matchesOf.get(l.pair) as number } : l.count !== null ? { count: l.count } : {}),
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
