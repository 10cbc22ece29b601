import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { fail } from './errors.js';

const KIND = 'phone';

// Visual separators used in national and ITU-T E.123 written forms.
const ALLOWED = /^[0-9+\s().-]+$/u;
const SEPARATORS = /[\s().-]/gu;

/** `value` is trimmed and NFKC-normalised (so full-width digits are ASCII). */
export function canonicalizePhone(value: string, defaultCountry?: string): string {
  let country: CountryCode | undefined;
  if (defaultCountry !== undefined) {
    const upper = /^[A-Za-z]{2}$/.test(defaultCountry) ? defaultCountry.toUpperCase() : '';
    if (upper === '' || !isSupportedCountry(upper)) return fail(KIND, 'phone.default_country');
    country = upper;
  }

  if (!ALLOWED.test(value)) return fail(KIND, 'phone.format');
  let compact = value.replace(SEPARATORS, '');
  if (!/^\+?[0-9]+$/.test(compact)) return fail(KIND, 'phone.format');
  // "00" is the ITU-T E.164 recommended international call prefix, used in
  // most of the world in place of "+".
  if (compact.startsWith('00')) compact = `+${compact.slice(2)}`;

  let parsed;
  if (compact.startsWith('+')) {
    parsed = parsePhoneNumberFromString(compact);
  } else if (country !== undefined) {
    parsed = parsePhoneNumberFromString(compact, { defaultCountry: country });
  } else {
    return fail(KIND, 'phone.no_country');
  }
  // isPossible() checks only the length for the country calling code, not
  // number-range allocation (isValid): metadata lags new ranges, and a
  // missed match costs more than a number that happens to be unallocated.
  if (parsed === undefined || !parsed.isPossible()) return fail(KIND, 'phone.invalid');
  return parsed.number;
}

export const PHONE_RULE = {
  input:
    'International form "+<country code> <number>" or "00<country code> <number>"; spaces, "-", "." and parentheses ignored. A national number without country code is accepted only with a default country (ISO 3166-1 alpha-2). Example: "(+34) 911-234-567".',
  canonical: 'E.164: "+" followed by country code and national significant number, digits only. Example: "+34911234567".',
} as const;
