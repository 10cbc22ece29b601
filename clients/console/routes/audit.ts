// Audit: this agency's own trail (console and CLI actions, clients/agency/
// audit.ts) beside what the coordinator logged involving it (GET /v1/audit),
// filterable, and exportable as JSON Lines for a supervisor or a
// data-protection authority. The export is itself audited.
import { Hono } from 'hono';
import { z } from 'zod';
import { appendAudit, listAudit, nextDay } from '../../agency/audit.js';
import type { AuditEntry, AuditList } from '../api-types.js';
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
  })
  .strict();
type Filter = z.infer<typeof filterSchema>;

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

  function select(f: Filter, coordinator: readonly AuditEntry[]): AuditEntry[] {
    const local: AuditEntry[] =
      f.source === 'coordinator'
        ? []
        : listAudit(deps.store, { ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}), ...(f.officer ? { officer: f.officer } : {}), ...(f.case ? { caseRef: f.case } : {}) }).map((e) => ({
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
    const fromAt = f.from ? `${f.from}T00:00:00.000Z` : '';
    const toAt = f.to ? nextDay(f.to) : '\uffff';
    const remote =
      f.source === 'local'
        ? []
        : coordinator.filter((e) => e.at >= fromAt && e.at < toAt && (!f.officer || e.officer === f.officer) && (!f.case || e.caseRef === f.case));
    return [...local, ...remote].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.source < b.source ? -1 : a.source > b.source ? 1 : b.seq - a.seq));
  }

  app.get('/audit', async (c) => {
    const f = queryFilters(c.req.url, filterSchema);
    const error = f.source === 'local' ? undefined : await refresh();
    const entries = select(f, mirror).slice(0, 5_000);
    return c.json<AuditList>({ entries, coordinatorReachable: error === undefined, ...(error ? { coordinatorError: error } : {}) });
  });

  app.get('/audit/export', async (c) => {
    const f = queryFilters(c.req.url, filterSchema);
    const error = f.source === 'local' ? undefined : await refresh();
    const entries = select(f, mirror).reverse();
    const officer = c.get('session').officer.id;
    const at = (deps.now ?? (() => new Date()))();
    appendAudit(deps.store, { officer, action: 'audit.export', subject: 'audit', outcome: 'ok', caseRef: f.case ?? null, detail: { entries: entries.length, filters: { ...f }, coordinatorReachable: error === undefined } }, at);
    const body = entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : '');
    return c.body(body, 200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="concordat-audit-${me}-${at.toISOString().slice(0, 10)}.jsonl"`,
    });
  });

  return app;
}
