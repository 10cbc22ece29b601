// The identifier kinds and the encoding of a canonical identifier as the
// protocol's hashed input (SPEC.md, "Identifiers"): what blinding, results
// and the wire contract need, without the canonicalisation rules (index.ts)
// and the libraries behind them, which only an import loads.
import { z } from 'zod';
import { fail, IdentifierError } from './errors.js';

/**
 * Kinds an agency never imports directly: their elements are derived from
 * another kind's input (name_dob_phonetic from name_dob, SPEC.md).
 */
export const DERIVED_KINDS: Readonly<Partial<Record<string, IdentifierKindBase>>> = { name_dob_phonetic: 'name_dob' };
type IdentifierKindBase = 'name_dob';

/**
 * Kinds whose matches are candidates (SPEC.md, name_dob_phonetic): a match on
 * these kinds alone is shown as such and counts only once officers on both
 * sides confirmed it.
 */
export const CANDIDATE_KINDS: readonly string[] = ['name_dob_phonetic'];

/** Whether a match on exactly these kinds is only a candidate. */
export function isCandidateMatch(kinds: readonly string[]): boolean {
  return kinds.length > 0 && kinds.every((k) => CANDIDATE_KINDS.includes(k));
}

export const IDENTIFIER_KINDS = [
  'passport',
  'national_id',
  'phone',
  'email',
  'iban',
  'name_dob',
  'imei',
  'vin',
  'crypto_address',
  'name_dob_phonetic',
] as const;

export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export const identifierKindSchema = z.enum(IDENTIFIER_KINDS);

const KIND_SET: ReadonlySet<string> = new Set(IDENTIFIER_KINDS);

export function isIdentifierKind(k: string): k is IdentifierKind {
  return KIND_SET.has(k);
}


// A lone surrogate cannot be encoded as UTF-8 (TextEncoder would silently
// substitute U+FFFD, merging distinct inputs), so it is rejected up front.
export const LONE_SURROGATE = /\p{Cs}/u;

const utf8 = new TextEncoder();

/**
 * Input(kind, value) = UTF8(kind) ‖ 0x00 ‖ UTF8(canonical).
 *
 * The kind is bound into the hashed input so equal strings of different kinds
 * never collide; no kind name contains 0x00, so the encoding is injective.
 * `canonical` must already be the output of {@link canonicalize}.
 */
export function identifierInput(kind: IdentifierKind, canonical: string): Uint8Array {
  if (!isIdentifierKind(kind)) throw new IdentifierError(String(kind), 'kind.unknown');
  if (typeof canonical !== 'string') return fail(kind, 'value.type');
  if (canonical === '') return fail(kind, 'value.empty');
  if (LONE_SURROGATE.test(canonical)) return fail(kind, 'value.encoding');
  const k = utf8.encode(kind);
  const v = utf8.encode(canonical);
  const out = new Uint8Array(k.length + 1 + v.length);
  out.set(k, 0);
  out[k.length] = 0x00;
  out.set(v, k.length + 1);
  return out;
}

