// zod schemas and parsing helpers shared by the routes. Every JSON body is a
// strict object (unknown keys are refused), every path parameter is checked
// before it reaches the store. Failures become 422 problems naming the field.
import { z } from 'zod';
import { hexToBytes } from '../protocol/bytes.js';
import { ProblemError } from './problem.js';

export const AGENCY_ID_RE = /^[A-Z]{2}-[A-Z0-9]{2,16}$/;
export const AGREEMENT_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const PAIR_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}~[A-Z]{2}-[A-Z0-9]{2,16}~[A-Z]{2}-[A-Z0-9]{2,16}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const INDEX_RE = /^(0|[1-9][0-9]{0,8})$/;

export const agencyIdSchema = z.string().regex(AGENCY_ID_RE, 'must match ^[A-Z]{2}-[A-Z0-9]{2,16}$');
export const agreementIdSchema = z.string().regex(AGREEMENT_ID_RE, 'must match ^[a-z0-9][a-z0-9-]{0,63}$');

/** Lower-case hex of exactly `bytes` bytes. */
export function hexSchema(bytes: number) {
  return z
    .string()
    .regex(new RegExp(`^[0-9a-f]{${2 * bytes}}$`), `must be ${bytes} bytes as lower-case hex`)
    .transform((s) => hexToBytes(s));
}

/** A real calendar date, `YYYY-MM-DD` (UTC). */
export function isCalendarDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export const dateSchema = z.string().refine(isCalendarDate, 'must be a calendar date YYYY-MM-DD');

export const positionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export function todayUTC(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function fieldOf(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** Parse with a schema; the first issue becomes a 422 naming `prefix.path`. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue ? fieldOf(prefix, issue.path) : prefix;
  throw new ProblemError('validation', `${field}: ${issue?.message ?? 'invalid'}`, { field });
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
  if (raw === undefined || !PAIR_ID_RE.test(raw)) {
    throw new ProblemError('validation', 'path.pair: must be <agreement>~<agency>~<agency>', { field: 'path.pair' });
  }
  return raw;
}

export function parseIndexParam(raw: string | undefined): number {
  if (raw === undefined || !INDEX_RE.test(raw)) {
    throw new ProblemError('validation', 'path.index: must be a non-negative integer', { field: 'path.index' });
  }
  return Number(raw);
}
