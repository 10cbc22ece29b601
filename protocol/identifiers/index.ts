// Identifier canonicalisation. PSI matches blinded values exactly, so two
// agencies find a common suspect only if they derive byte-identical inputs:
// every rule here is part of the protocol (see SPEC.md, "Identifiers").
// The module is pure and uses only ECMAScript and WHATWG APIs so that it runs
// unchanged in Node, Cloudflare Workers and browsers.

import { z } from 'zod';
import { canonicalizeCryptoAddress, CRYPTO_ADDRESS_RULE } from './crypto-address.js';
import { canonicalizeDocument, NATIONAL_ID_RULE, PASSPORT_RULE } from './document.js';
import { canonicalizeEmail, EMAIL_RULE } from './email.js';
import { fail, IdentifierError } from './errors.js';
import { canonicalizeIban, IBAN_RULE } from './iban.js';
import { canonicalizeImei, IMEI_RULE } from './imei.js';
import { canonicalizeNameDob, NAME_DOB_RULE } from './name-dob.js';
import { NAME_DOB_PHONETIC_RULE, phoneticKeys } from './phonetic.js';
import { canonicalizePhone, PHONE_RULE } from './phone.js';
import { canonicalizeVin, VIN_RULE } from './vin.js';

export { IdentifierError };
export { phoneticKeys };

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

export interface CanonicalizeOptions {
  /** ISO 3166-1 alpha-2 country for phone numbers written without a country calling code. */
  defaultCountry?: string;
}

// A lone surrogate cannot be encoded as UTF-8 (TextEncoder would silently
// substitute U+FFFD, merging distinct inputs), so it is rejected up front.
const LONE_SURROGATE = /\p{Cs}/u;

/** Common steps for every kind: trim, reject empty, Unicode NFKC (UAX #15). */
function prepare(kind: IdentifierKind, raw: unknown): string {
  if (typeof raw !== 'string') return fail(kind, 'value.type');
  if (LONE_SURROGATE.test(raw)) return fail(kind, 'value.encoding');
  // NFKC folds compatibility forms (full-width digits and letters, ligatures,
  // no-break spaces) into their plain equivalents; trimming again afterwards
  // catches whitespace that only NFKC revealed.
  const value = raw.trim().normalize('NFKC').trim();
  if (value === '') return fail(kind, 'value.empty');
  return value;
}

/** Canonical form of an identifier; throws {@link IdentifierError} when it breaks a rule. */
export function canonicalize(kind: string, raw: string, opts?: CanonicalizeOptions): string {
  if (!isIdentifierKind(kind)) throw new IdentifierError(String(kind), 'kind.unknown');
  const value = prepare(kind, raw);
  switch (kind) {
    case 'passport':
    case 'national_id':
      return canonicalizeDocument(kind, value);
    case 'phone':
      return canonicalizePhone(value, opts?.defaultCountry);
    case 'email':
      return canonicalizeEmail(value);
    case 'iban':
      return canonicalizeIban(value);
    case 'name_dob':
      return canonicalizeNameDob(value);
    case 'imei':
      return canonicalizeImei(value);
    case 'vin':
      return canonicalizeVin(value);
    case 'crypto_address':
      return canonicalizeCryptoAddress(value);
    case 'name_dob_phonetic':
      // One input gives several keys (phoneticKeys); a row of this kind is a mistake.
      return fail(kind, 'name_dob_phonetic.derived');
  }
}

export type CanonicalResult = { ok: true; canonical: string } | { ok: false; error: IdentifierError };

/** {@link canonicalize} without throwing for rule violations. */
export function tryCanonicalize(kind: string, raw: string, opts?: CanonicalizeOptions): CanonicalResult {
  try {
    return { ok: true, canonical: canonicalize(kind, raw, opts) };
  } catch (error) {
    if (error instanceof IdentifierError) return { ok: false, error };
    throw error;
  }
}

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

/** {@link canonicalize} then {@link identifierInput}. */
export function inputFor(kind: string, raw: string, opts?: CanonicalizeOptions): Uint8Array {
  const canonical = canonicalize(kind, raw, opts);
  return identifierInput(kind as IdentifierKind, canonical);
}

/** One row of an identifier import: CSV/JSONL columns record_id, kind, value. */
export const identifierRowSchema = z.object({
  record_id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, 'record_id may contain only A-Z, a-z, 0-9, ".", "_", ":" and "-"'),
  kind: identifierKindSchema,
  value: z.string().min(1).max(512),
});

export type IdentifierRow = z.infer<typeof identifierRowSchema>;

/** Accepted input and canonical form per kind, for documentation and CLI help. */
export const KIND_RULES: Record<IdentifierKind, { input: string; canonical: string }> = {
  passport: PASSPORT_RULE,
  national_id: NATIONAL_ID_RULE,
  phone: PHONE_RULE,
  email: EMAIL_RULE,
  iban: IBAN_RULE,
  name_dob: NAME_DOB_RULE,
  imei: IMEI_RULE,
  vin: VIN_RULE,
  crypto_address: CRYPTO_ADDRESS_RULE,
  name_dob_phonetic: NAME_DOB_PHONETIC_RULE,
};
