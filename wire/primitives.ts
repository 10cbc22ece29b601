// Identifiers and values every route shares (src/API.md, "Conventions").
// Request schemas refuse what the coordinator refuses; the messages are the
// `detail` of the 422 problem that names the field.
import { z } from '@hono/zod-openapi';
import { hexToBytes } from '../protocol/bytes.js';
import { ISO_3166_ALPHA3 } from '../protocol/identifiers/countries.js';
import { HANDLE_HEX_CHARS } from './limits.js';

export { identifierKindSchema } from '../protocol/identifiers/kinds.js';

export const AGENCY_ID_RE = /^[A-Z]{2}-[A-Z0-9]{2,16}$/;
export const AGREEMENT_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const PAIR_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}~[A-Z]{2}-[A-Z0-9]{2,16}~[A-Z]{2}-[A-Z0-9]{2,16}$/;
export const PURPOSE_RE = /^[a-z][a-z0-9_]{0,63}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const INDEX_RE = /^(0|[1-9][0-9]{0,8})$/;

/** Route patterns of the hex path parameters (Hono's `:name{…}` and the OpenAPI `pattern`). */
/** Query ids are client-chosen lower-case UUIDs: the `id` of the signed query (protocol/SPEC.md §8.9). */
export const QUERY_ID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const HANDLE_PATTERN = `[0-9a-f]{${HANDLE_HEX_CHARS}}`;

export const agencyIdSchema = z.string().regex(AGENCY_ID_RE, 'must match ^[A-Z]{2}-[A-Z0-9]{2,16}$');
export const agreementIdSchema = z.string().regex(AGREEMENT_ID_RE, 'must match ^[a-z0-9][a-z0-9-]{0,63}$');
export const purposeSchema = z.string().regex(PURPOSE_RE, 'must match ^[a-z][a-z0-9_]{0,63}$');
export const epochIdSchema = z.string().min(1).max(32).meta({ description: 'An epoch id: `e1`, `e2`, …' });

const COUNTRIES: ReadonlySet<string> = new Set(ISO_3166_ALPHA3);
export const countrySchema = z
  .string()
  .refine((c) => COUNTRIES.has(c), 'must be an ISO 3166-1 alpha-3 code')
  .meta({ description: 'ISO 3166-1 alpha-3' });

/** Lower-case hex of exactly `bytes` bytes, decoded: binary values inside request bodies. */
export function hexSchema(bytes: number) {
  return z
    .string()
    .regex(new RegExp(`^[0-9a-f]{${2 * bytes}}$`), `must be ${bytes} bytes as lower-case hex`)
    .transform((s) => hexToBytes(s));
}

/** Lower-case hex of exactly `bytes` bytes, as a string: binary values inside responses. */
export function hexString(bytes: number) {
  return z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes of lower-case hex`);
}

/** A real calendar date, `YYYY-MM-DD` (UTC). */
export function isCalendarDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export const dateSchema = z.string().refine(isCalendarDate, 'must be a calendar date YYYY-MM-DD').meta({ format: 'date' });

export const positionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const nonNegInt = z.number().int().nonnegative();

// ---- path parameters ----

export const pairParam = z
  .string()
  .regex(PAIR_ID_RE, 'must be <agreement>~<agency>~<agency>')
  .meta({ description: 'A pair id `<agreement>~<agency1>~<agency2>`, agency ids sorted', example: 'es-pt~ES-CNP~PT-PJ' });
export const chunkIndexParam = z.string().regex(INDEX_RE, 'must be a non-negative integer').transform(Number);
export const queryIdParam = z.string().regex(new RegExp(`^${QUERY_ID_PATTERN}$`), 'must be a lower-case UUID');
export const handleParam = z.string().regex(new RegExp(`^${HANDLE_PATTERN}$`));

/** The body of a route that takes none but is signed over `{}`. */
export const emptyBody = z.object({}).strict();
