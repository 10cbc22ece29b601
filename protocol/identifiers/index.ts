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
import { identifierInput, identifierKindSchema, isIdentifierKind, LONE_SURROGATE, type IdentifierKind } from './kinds.js';
import { canonicalizeIban, IBAN_RULE } from './iban.js';
import { canonicalizeImei, IMEI_RULE } from './imei.js';
import { canonicalizeNameDob, NAME_DOB_RULE } from './name-dob.js';
import { NAME_DOB_PHONETIC_RULE, phoneticKeys } from './phonetic.js';
import { canonicalizePhone, PHONE_RULE } from './phone.js';
import { canonicalizeVin, VIN_RULE } from './vin.js';

export { IdentifierError };
export { phoneticKeys };
export {
  CANDIDATE_KINDS,
  DERIVED_KINDS,
  IDENTIFIER_KINDS,
  identifierInput,
  identifierKindSchema,
  isCandidateMatch,
  isIdentifierKind,
  type IdentifierKind,
} from './kinds.js';

export interface CanonicalizeOptions {
  /** ISO 3166-1 alpha-2 country for phone numbers written without a country calling code. */
  defaultCountry?: string;
}


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
