// The audit entries that involve the calling agency (src/API.md, "Audit log"):
// the same rule and entry shape as `coordinator audit export`, paged by seq.
import { OpenAPIHono } from '@hono/zod-openapi';
import { auditQuery, consistencyQuery, getAdminAuditHead, getAudit, getAuditConsistency, getAuditHead, getAuditInclusion, inclusionQuery } from '../../../wire/index.js';
import { involves, readInvolving, sealRedacted, withSalts } from '../../audit.js';
import { auditLogKey, consistencyProofJson, currentHead, inclusionProofJson } from '../../tlog.js';
import type { AppEnv, Services } from '../../context.js';
import { ProblemError } from '../../problem.js';
import type { AgencyRecord } from '../../store/types.js';
import { parseWith } from '../../validation.js';
import { mount } from '../mount.js';

/** Each query parameter once, and none but `names` (the problems of the other routes with query parameters). */
function onlyParams(queries: Record<string, string[]>, names: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, values] of Object.entries(queries)) {
    if (!names.includes(name)) throw new ProblemError('validation', `query.${name}: unknown parameter`, { field: `query.${name}` });
    if (values.length !== 1) throw new ProblemError('validation', `query.${name}: give it once`, { field: `query.${name}` });
    params[name] = values[0] as string;
  }
  return params;
}

export function auditRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getAudit, async (c) => {
    const me = (c.get('caller').agency as AgencyRecord).id;
    const params: Record<string, string> = {};
    // Unknown and repeated parameters get the same problems as on the other routes with query parameters.
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (name !== 'after' && name !== 'limit') throw new ProblemError('validation', `query.${name}: unknown parameter`, { field: `query.${name}` });
      if (values.length !== 1) throw new ProblemError('validation', `query.${name}: give it once`, { field: `query.${name}` });
      params[name] = values[0] as string;
    }
    const { after, limit } = parseWith(auditQuery, params, 'query');
    // A read appends nothing: an entry per read would also make every page grow the log it pages through.
    const page = await readInvolving(svc.store, me, after, limit);
    const { saltKey } = await svc.store.auditKeys();
    // Each entry with its salts; what redactFor withholds of a sealed part becomes its commitment (protocol/SPEC.md §9.2).
    const entries = page.entries.flatMap((e) => {
      const full = withSalts(e, saltKey);
      const shown = redactFor(full, me);
      return shown ? [sealRedacted(full, shown)] : [];
    });
    return c.json({ ...page, entries });
  });

  // The transparency log (src/API.md, "Audit transparency log"): heads and proofs from the stored subtree hashes.
  mount(app, getAuditHead, async (c) => {
    onlyParams(c.req.queries(), []);
    return c.json(await currentHead(svc.store, svc.now()));
  });

  mount(app, getAdminAuditHead, async (c) => {
    onlyParams(c.req.queries(), []);
    return c.json({ ...(await currentHead(svc.store, svc.now())), logKey: await auditLogKey(svc.store) });
  });

  mount(app, getAuditInclusion, async (c) => {
    const me = (c.get('caller').agency as AgencyRecord).id;
    const { seq, size } = parseWith(inclusionQuery, onlyParams(c.req.queries(), ['seq', 'size']), 'query');
    const current = await svc.store.auditTreeSize();
    if (size > current) throw new ProblemError('validation', `query.size: the log holds ${current} entries`, { field: 'query.size' });
    if (seq > size) throw new ProblemError('validation', `query.seq: not in the tree of ${size} entries`, { field: 'query.seq' });
    const [entry] = await svc.store.readAudit(seq - 1, 1);
    // Which entries exist is no secret (seq is dense); what they say is, so only a party to one learns its path.
    if (entry?.seq !== seq) throw new ProblemError('not-found', `query.seq: entry ${seq} is no longer held (retention)`, { field: 'query.seq' });
    if (!involves(entry, me)) throw new ProblemError('forbidden', 'query.seq: the entry does not involve the caller', { field: 'query.seq' });
    return c.json({ seq, index: seq - 1, size, proof: await inclusionProofJson(svc.store, seq, size) });
  });

  mount(app, getAuditConsistency, async (c) => {
    const { from, to } = parseWith(consistencyQuery, onlyParams(c.req.queries(), ['from', 'to']), 'query');
    const current = await svc.store.auditTreeSize();
    if (to > current) throw new ProblemError('validation', `query.to: the log holds ${current} entries`, { field: 'query.to' });
    if (from > to) throw new ProblemError('validation', 'query.from: must not exceed query.to', { field: 'query.from' });
    return c.json({ from, to, proof: await consistencyProofJson(svc.store, from, to) });
  });

  return app;
}

/**
 * What a query's requester reports of its outcome (protocol/SPEC.md §6: the
 * responder learns that A asked, when, the kind, purpose, case reference and
 * how many values, "not whether it hit"). In these entries a reader other than
 * the actor sees only the query's own members; a hit it holds reaches it as a
 * hit to confirm (GET /v1/hits), never as a count.
 */
export const QUERY_OUTCOME_ACTIONS: ReadonlySet<string> = new Set(['query.outcome', 'query.outcome_refused']);
/** Entries whose existence alone tells of a hit (a reported hit whose evidence was refused): only the actor sees them. */
export const QUERY_HIT_ACTIONS: ReadonlySet<string> = new Set(['query.hit_refused']);
/** The members of an outcome entry that describe the query itself, not its result. */
const QUERY_OWN_MEMBERS: ReadonlySet<string> = new Set(['requester', 'partner', 'caseRef', 'purpose', 'kind', 'values', 'epoch']);
/** The `outcome` of an entry whose outcome is withheld. */
export const WITHHELD = 'withheld';

/**
 * An entry as `reader` may see it (src/API.md, "Audit log"), or undefined
 * when it is withheld whole. In an entry another party acted in:
 * - which officer acted is the acting agency's business only (a responder
 *   "never learns the officer", API.md part 2): `detail.officer` is withheld;
 * - of a query's outcome only the query's own members remain: hit and
 *   no-hit counts, errors and anything else of the result are withheld, and
 *   so is `outcome` (shown as `withheld`).
 * The entry lists what was withheld in `redacted`. Its `hash` is then not
 * recomputable by the reader; `coordinator audit export` has the full entry.
 */
export function redactFor<E extends { actor: string; action: string; outcome: string; detail: unknown }>(e: E, reader: string): (E & { redacted?: string[] }) | undefined {
  if (e.actor === reader) return e;
  if (QUERY_HIT_ACTIONS.has(e.action)) return undefined;
  const outcome = QUERY_OUTCOME_ACTIONS.has(e.action);
  if (e.detail === null || typeof e.detail !== 'object') return e;
  const withheld: string[] = [];
  const detail: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.detail as Record<string, unknown>)) {
    if (k === 'officer' || (outcome && !QUERY_OWN_MEMBERS.has(k))) withheld.push(`detail.${k}`);
    else detail[k] = v;
  }
  // The officer first, as before outcomes were withheld; then the rest in the entry's own order.
  withheld.sort((a, b) => Number(b === 'detail.officer') - Number(a === 'detail.officer'));
  if (outcome) return { ...e, outcome: WITHHELD, detail, redacted: ['outcome', ...withheld] };
  return withheld.length === 0 ? e : { ...e, detail, redacted: withheld };
}
