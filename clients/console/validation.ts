// Validation of what the page sends: JSON bodies and query-string filters,
// checked with zod. Problems name the field and the rule, never the value.
import type { Context } from 'hono';
import { z } from 'zod';
import { ConsoleProblem } from './context.js';

/** Request bodies are small JSON documents: 100 values of an identifier are far below this. */
export const BODY_LIMIT = 256 * 1024;

/** A calendar date, YYYY-MM-DD (zod's ISO date: 2026-02-30 and 2026-13-01 are refused). */
export const isoDate = z.iso.date({ error: 'expected a calendar date YYYY-MM-DD' });

export async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const type = c.req.header('content-type') ?? '';
  // Only JSON: an HTML form cannot send it cross-site without a CORS preflight.
  if (!/^application\/json\b/i.test(type)) throw new ConsoleProblem(422, 'invalid', 'the body must be application/json', 'header.content-type');
  const len = Number(c.req.header('content-length') ?? '0');
  if (len > BODY_LIMIT) throw new ConsoleProblem(413, 'too-large', `the body is larger than ${BODY_LIMIT} bytes`);
  let raw: unknown;
  try {
    const text = await c.req.text();
    if (text.length > BODY_LIMIT) throw new ConsoleProblem(413, 'too-large', `the body is larger than ${BODY_LIMIT} bytes`);
    raw = JSON.parse(text);
  } catch (e) {
    if (e instanceof ConsoleProblem) throw e;
    throw new ConsoleProblem(422, 'invalid', 'the body is not valid JSON', 'body');
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
    // zod messages describe the rule (type, length, enum), never the offending value.
    throw new ConsoleProblem(422, 'invalid', issue ? issue.message : 'invalid body', `body${path}`);
  }
  return r.data;
}

/** The query-string filters of a GET, empty ones dropped; a bad one is `422` naming `query.<name>`. */
export function queryFilters<S extends z.ZodType>(url: string, schema: S): z.infer<S> {
  const params = Object.fromEntries(new URL(url).searchParams);
  const r = schema.safeParse(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')));
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConsoleProblem(422, 'invalid', issue?.message ?? 'invalid query parameter', `query.${String(issue?.path[0] ?? '')}`);
  }
  return r.data;
}
