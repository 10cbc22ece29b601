// Parsing helpers shared by the routes; the schemas are the wire contract's
// (wire/). Every JSON body is a strict object (unknown keys are refused), every
// path parameter is checked before it reaches the store. Failures become 422
// problems naming the field (src/API.md, "Conventions").
import type { z } from 'zod';
import { chunkIndexParam, pairParam } from '../wire/index.js';
import { ProblemError } from './problem.js';

// The request signature and the CLI check agency ids and dates by the contract's rules.
export { AGENCY_ID_RE, isCalendarDate } from '../wire/index.js';

export function todayUTC(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function fieldOf(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** The 422 problem of a failed parse: its first issue, named `prefix.path`. */
export function validationProblem(error: z.ZodError, prefix: string): ProblemError {
  const issue = error.issues[0];
  const field = issue ? fieldOf(prefix, issue.path) : prefix;
  return new ProblemError('validation', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}

/** Parse with a schema; the first issue becomes a 422 naming `prefix.path`. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw validationProblem(r.error, prefix);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decode and validate a JSON body (the bytes the signature covered). An empty body reads as `{}`. */
export function parseJsonBody<T extends z.ZodType>(bytes: Uint8Array, schema: T): z.output<T> {
  let value: unknown = {};
  if (bytes.length > 0) {
    try {
      value = JSON.parse(decoder.decode(bytes));
    } catch {
      throw new ProblemError('validation', 'body must be a UTF-8 JSON document', { field: 'body' });
    }
  }
  return parseWith(schema, value, 'body');
}

export function parsePairParam(raw: string | undefined): string {
  return parseWith(pairParam, raw ?? '', 'path.pair');
}

export function parseIndexParam(raw: string | undefined): number {
  return parseWith(chunkIndexParam, raw ?? '', 'path.index');
}
