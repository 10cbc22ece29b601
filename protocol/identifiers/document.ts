import { isIssuingState } from './countries.js';
import { fail } from './errors.js';

export type DocumentKind = 'passport' | 'national_id';

// A document number alone is not unique across issuers, so the issuing state
// (ICAO 9303 Part 3 alpha-3 code) is part of the identifier. The separator
// is the first ":" or "-" (optionally padded with whitespace) or run of
// whitespace after the three letters.
const DOCUMENT_SHAPE = /^([A-Za-z]{3})(?:\s*[:-]\s*|\s+)(.*)$/su;

// ICAO 9303 gives the MRZ document number 9 characters (TD1 cards may
// overflow it into the optional-data field), but printed and register numbers
// can be longer. The bounds admit those while still rejecting free text.
const MAX_NUMBER_LENGTH: Readonly<Record<DocumentKind, number>> = {
  passport: 20,
  national_id: 30,
};

const NUMBER_CHARS = /^[A-Za-z0-9]+$/;

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeDocument(kind: DocumentKind, value: string): string {
  const match = DOCUMENT_SHAPE.exec(value);
  if (match === null) return fail(kind, `${kind}.format`);
  const issuer = (match[1] ?? '').toUpperCase();
  if (!isIssuingState(issuer)) return fail(kind, `${kind}.country`);
  const number = (match[2] ?? '').replace(/\s+/gu, '');
  // Checked before upper-casing: toUpperCase maps some non-ASCII letters
  // (ß, ı) onto ASCII and would let them through.
  if (!NUMBER_CHARS.test(number) || number.length > MAX_NUMBER_LENGTH[kind]) {
    return fail(kind, `${kind}.number`);
  }
  return `${issuer}:${number.toUpperCase()}`;
}

export const PASSPORT_RULE = {
  input:
    'Issuing state as ISO 3166-1 alpha-3 (or ICAO 9303 reserved code such as XXA, GBN, EUE), then ":", "-" or spaces, then the passport number; case-insensitive, spaces inside the number ignored. Example: "esp p 123 4567".',
  canonical: 'ISS:NUMBER in upper case, number 1-20 characters A-Z0-9. Example: "ESP:P1234567".',
} as const;

export const NATIONAL_ID_RULE = {
  input:
    'Issuing state as ISO 3166-1 alpha-3 (or ICAO 9303 reserved code), then ":", "-" or spaces, then the national identity number; case-insensitive, spaces inside the number ignored. Example: "ESP-12345678Z".',
  canonical: 'ISS:NUMBER in upper case, number 1-30 characters A-Z0-9. Example: "ESP:12345678Z".',
} as const;
