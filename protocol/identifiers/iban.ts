import { fail } from './errors.js';

const KIND = 'iban';

/**
 * IBAN length per country code, from the SWIFT IBAN Registry (the ISO 13616
 * registration authority's register, release 100). Territories that the
 * registry lists under another country (Åland under FI, the French overseas
 * departments under FR, ...) use that country's prefix and are not keys here.
 */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27,
  BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28,
  EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21,
  LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25,
  SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

const SHAPE = /^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]+$/;

/** ISO 7064 MOD 97-10 over the rearranged IBAN, letters A..Z read as 10..35. */
function mod97(rearranged: string): number {
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    remainder =
      code <= 57 ? (remainder * 10 + (code - 48)) % 97 : (remainder * 100 + (code - 55)) % 97;
  }
  return remainder;
}

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeIban(value: string): string {
  // ISO 13616-1 §5: the paper format groups by four with spaces; the
  // electronic format has none. Dashes appear in hand-typed data.
  let compact = value.replace(/[\s-]+/gu, '');
  if (/^iban/i.test(compact)) compact = compact.slice(4);
  if (!SHAPE.test(compact)) return fail(KIND, 'iban.format');
  const iban = compact.toUpperCase();
  const length = IBAN_LENGTHS[iban.slice(0, 2)];
  if (length === undefined) return fail(KIND, 'iban.country');
  if (iban.length !== length) return fail(KIND, 'iban.length');
  // Check digits are 02..98 (ISO 13616-1); 00, 01 and 99 are congruent to
  // 97, 98 and 02 and would pass MOD 97-10 as a second spelling of the IBAN.
  const check = Number(iban.slice(2, 4));
  if (check < 2 || check > 98) return fail(KIND, 'iban.checksum');
  if (mod97(iban.slice(4) + iban.slice(0, 4)) !== 1) return fail(KIND, 'iban.checksum');
  return iban;
}

export const IBAN_RULE = {
  input:
    'ISO 13616 IBAN in paper or electronic format, optionally prefixed by "IBAN"; spaces and "-" ignored, case-insensitive. Example: "GB82 WEST 1234 5698 7654 32".',
  canonical:
    'Electronic format: upper case, no separators, length as registered for the country, MOD 97-10 verified. Example: "GB82WEST12345698765432".',
} as const;
