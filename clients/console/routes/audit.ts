// Audit: this agency's own trail (console and CLI actions, clients/agency/
// audit.ts) beside what the coordinator logged involving it (GET /v1/audit),
// filterable (partly and regardless of case), merged per action for people
// to read, and exportable as JSON Lines or CSV for a supervisor or a
// data-protection authority. The export is itself audited.
import { Hono } from 'hono';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { z } from 'zod';
import { appendAudit, listAudit, nextDay } from '../../agency/audit.js';
import type { AuditAction, AuditEntry, AuditList } from '../api-types.js';
import type { ConsoleDeps, ConsoleEnv } from '../context.js';
import { reachErrorText } from '../coordinator.js';
import { isoDate, queryFilters } from '../validation.js';

const filterSchema = z
  .object({
    from: isoDate.optional(),
    to: isoDate.optional(),
    officer: z.string().max(64).optional(),
    case: z.string().max(100).optional(),
    source: z.enum(['local', 'coordinator']).optional(),
    /** Only the logged-in officer's own actions. */
    mine: z.enum(['1', 'true']).optional(),
    /** Include the nightly exchange's steps. */
    plumbing: z.enum(['1', 'true']).optional(),
    format: z.enum(['jsonl', 'csv']).optional(),
  })
  .strict();
type Filter = z.infer<typeof filterSchema>;

/** Steps of the nightly exchange the coordinator logs: what it did, not what a person decided. */
const PLUMBING = new Set([
  'chunk.stored',
  'tokens.stored',
  'canaries.registered',
  'canaries.done',
  'links.registered',
  'epoch_key.published',
  'results.served',
  'partner_set.served',
  'removals.applied',
  'pair.count_snapshot',
  'epoch.rotated',
  'epoch.purged',
  'pair.purged',
  'audit_log.key_pinned',
]);

/** The coordinator's past-tense code of an action this agency also records (query.created ↔ query.create). */
const STEMS: Record<string, string> = { created: 'create', confirmed: 'confirm', declined: 'decline', accepted: 'accept', rejected: 'reject', outcome: 'result' };
const stem = (action: string): string => {
  const dot = action.lastIndexOf('.');
  const verb = action.slice(dot + 1);
  return `${action.slice(0, dot)}.${STEMS[verb] ?? verb}`;
};
/** One action's two records lie seconds apart; beyond this they are two actions. */
const MERGE_WINDOW_MS = 10 * 60_000;

function actionOf(e: AuditEntry): AuditAction {
  return {
    at: e.at,
    action: e.action,
    actor: e.actor,
    officer: e.officer,
    subject: e.subject,
    outcome: e.outcome,
    caseRef: e.caseRef,
    detail: e.detail,
    recordedBy: [e.source],
    ...(e.source === 'local' ? { local: { seq: e.seq, at: e.at } } : { coordinator: { seq: e.seq, at: e.at, action: e.action, ...(e.hash ? { hash: e.hash } : {}) } }),
    plumbing: e.source === 'coordinator' && PLUMBING.has(e.action),
  };
}

/** Local and coordinator entries of the same action (same verb and subject, minutes apart) become one. */
export function mergeActions(entries: readonly AuditEntry[], self: string): AuditAction[] {
  const out: AuditAction[] = [];
  const open = new Map<string, AuditAction[]>();
  for (const e of [...entries].filter((x) => x.source === 'local').sort((a, b) => (a.at < b.at ? -1 : 1))) {
    const a = actionOf(e);
    out.push(a);
    const k = `${e.action}\u0000${e.subject}`;
    open.set(k, [...(open.get(k) ?? []), a]);
  }
  for (const e of entries) {
    if (e.source !== 'coordinator') continue;
    const candidates = e.actor === self ? (open.get(`${stem(e.action)}\u0000${e.subject}`) ?? []) : [];
    const t = Date.parse(e.at);
    const twin = candidates.find((a) => !a.coordinator && Math.abs(Date.parse(a.at) - t) <= MERGE_WINDOW_MS);
    if (twin) {
      twin.recordedBy.push('coordinator');
      twin.coordinator = { seq: e.seq, at: e.at, action: e.action, ...(e.hash ? { hash: e.hash } : {}) };
      if (!twin.caseRef && e.caseRef) twin.caseRef = e.caseRef;
      continue;
    }
    out.push(actionOf(e));
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

const includesCi = (hay: string | null, needle: string): boolean => (hay ?? '').toLowerCase().includes(needle.toLowerCase());

/** Pages of GET /v1/audit fetched per request at most; the rest follows on the next request. */
const MAX_PAGES = 20;

export function auditRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const me = deps.agency.agency;
  // The coordinator's entries only grow (a retention purge drops old ones): keep what was read, fetch what is new.
  const mirror: AuditEntry[] = [];
  let after = 0;

  async function refresh(): Promise<string | undefined> {
    try {
      for (let i = 0; i < MAX_PAGES; i++) {
        const page = await deps.client.audit(after);
        for (const e of page.entries) {
          const detail = e.detail;
          // An officer id is this agency's business only when this agency acted.
          const officer = e.actor === me && typeof detail.officer === 'string' ? detail.officer : null;
          const caseRef = typeof detail.caseRef === 'string' ? detail.caseRef : null;
          mirror.push({
            source: 'coordinator',
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            officer,
            action: e.action,
            subject: e.subject,
            outcome: e.outcome,
            caseRef,
            detail,
            hash: e.hash,
            prevHash: e.prevHash,
            ...(e.redacted ? { redacted: e.redacted } : {}),
          });
          after = Math.max(after, e.seq);
        }
        if (page.next === null) return undefined;
        after = Math.max(after, page.next);
      }
      return undefined;
    } catch (e) {
      return reachErrorText(e);
    }
  }

  function select(f: Filter, coordinator: readonly AuditEntry[], self: string): AuditEntry[] {
    // Officer and case match in part and regardless of case: "garcia" finds insp.garcia, "atlas" OP-ATLAS-7.
    const keep = (e: AuditEntry): boolean =>
      (!f.officer || includesCi(e.officer, f.officer)) && (!f.case || includesCi(e.caseRef, f.case)) && (!f.mine || e.officer === self);
    const local: AuditEntry[] =
      f.source === 'coordinator'
        ? []
        : listAudit(deps.store, { ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) }).map((e): AuditEntry => ({
            source: 'local',
            seq: e.seq,
            at: e.at,
            actor: me,
            officer: e.officer,
            action: e.action,
            subject: e.subject,
            outcome: e.outcome,
            caseRef: e.caseRef,
            detail: e.detail,
          }));
    const localKept = local.filter(keep);
    const fromAt = f.from ? `${f.from}T00:00:00.000Z` : '';
    const toAt = f.to ? nextDay(f.to) : '\uffff';
    const remote =
      f.source === 'local'
        ? []
        : coordinator.filter((e) => e.at >= fromAt && e.at < toAt && keep(e));
    return [...localKept, ...remote].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.source < b.source ? -1 : a.source > b.source ? 1 : b.seq - a.seq));
  }

  app.get('/audit', async (c) => {
    const f = queryFilters(c.req.url, filterSchema);
    const error = f.source === 'local' ? undefined : await refresh();
    const entries = select(f, mirror, c.get('session').officer.id).slice(0, 5_000);
    const merged = mergeActions(entries, me);
    const actions = f.plumbing ? merged : merged.filter((a) => !a.plumbing);
    return c.json<AuditList>({
      entries,
      actions,
      hiddenPlumbing: merged.length - actions.length,
      coordinatorReachable: error === undefined,
      ...(error ? { coordinatorError: error } : {}),
    });
  });

  app.get('/audit/export', async (c) => {
    const f = queryFilters(c.req.url, filterSchema);
    const error = f.source === 'local' ? undefined : await refresh();
    const officer = c.get('session').officer.id;
    const entries = select(f, mirror, officer).reverse();
    const at = (deps.now ?? (() => new Date()))();
    const format = f.format ?? 'jsonl';
    appendAudit(deps.store, { officer, action: 'audit.export', subject: 'audit', outcome: 'ok', caseRef: f.case ?? null, detail: { entries: entries.length, format, filters: { ...f }, coordinatorReachable: error === undefined } }, at);
    const name = `concordat-audit-${me}-${at.toISOString().slice(0, 10)}`;
    if (format === 'csv') {
      // One row per action as the page shows it (both records merged), oldest first; times in UTC to the millisecond.
      const merged = mergeActions(entries, me).reverse();
      const rows = (f.plumbing ? merged : merged.filter((a) => !a.plumbing)).map((a) => [
        a.at,
        a.recordedBy.join('+'),
        a.actor,
        a.officer ?? '',
        a.action,
        a.subject,
        a.outcome,
        a.caseRef ?? '',
        a.coordinator?.hash ?? '',
        JSON.stringify(a.detail),
      ]);
      const csv = stringifyCsv([['time_utc', 'recorded_by', 'actor', 'officer', 'action', 'subject', 'outcome', 'case_ref', 'coordinator_hash', 'detail'], ...rows], { record_delimiter: 'windows' });
      return c.body(csv, 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}.csv"` });
    }
    const body = entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : '');
    return c.body(body, 200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}.jsonl"`,
    });
  });

  return app;
}
