// The audit entries that involve the calling agency (src/API.md, "Audit log"):
// the same rule and entry shape as `coordinator audit export`, paged by seq.
import { OpenAPIHono } from '@hono/zod-openapi';
import { auditQuery, getAudit } from '../../../wire/index.js';
import { readInvolving } from '../../audit.js';
import type { AppEnv, Services } from '../../context.js';
import { ProblemError } from '../../problem.js';
import type { AgencyRecord } from '../../store/types.js';
import { parseWith } from '../../validation.js';
import { mount } from '../mount.js';

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
    return c.json({ ...page, entries: page.entries.map((e) => redactFor(e, me)) });
  });

  return app;
}

/**
 * Which officer acted is the acting agency's business only (a responder
 * "never learns the officer", API.md part 2): in an entry another party
 * acted in, `detail.officer` is withheld and the entry says so. Its `hash`
 * is then not recomputable by the caller; `coordinator audit export` has
 * the full entry.
 */
export function redactFor<E extends { actor: string; detail: unknown }>(e: E, me: string): E & { redacted?: string[] } {
  if (e.actor === me || e.detail === null || typeof e.detail !== 'object' || !('officer' in e.detail)) return e;
  const { officer: _officer, ...detail } = e.detail as Record<string, unknown>;
  return { ...e, detail, redacted: ['detail.officer'] };
}
