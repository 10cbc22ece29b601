import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { fail } from './errors.js';

const KIND = 'phone';

// Visual separators used in national and ITU-T E.123 written forms: spaces,
// "-", ".", parentheses, and "/" between area code and subscriber number
// (German and Austrian "089/3072904").
const ALLOWED = /^[0-9+\s().\-/]+$/u;
const SEPARATORS = /[\s().\-/]/gu;

// An extension written after the number: "ext. 12", "ext=12", "extension 12",
// "x12", "#12", optionally after "," or ";". It names a line behind the
// number, not another subscriber, so it is dropped.
const EXTENSION = /\s*[,;]?\s*(?:extension|ext[.=:]?|x|#)\s*[0-9]{1,10}$/iu;

// RFC 3966 "tel:" URI: the number, then ";"-separated parameters.
const TEL_PREFIX = /^tel:/iu;
const PHONE_CONTEXT = /^phone-context=(\+[0-9().-]+)$/iu;

/**
 * RFC 3966 §3 and §5.1.5: `tel:<number>(;<param>)*`. Parameters (`ext`,
 * `isub`, anything else) are dropped. A local number (no "+") whose
 * phone-context is a global number prefix ("+34") is read under that prefix;
 * with a domain-name context or none it is a national number of the default
 * country, like any other national number.
 */
function fromTelUri(value: string): string {
  const [number = '', ...params] = value.replace(TEL_PREFIX, '').split(';');
  if (number.startsWith('+')) return number;
  for (const param of params) {
    const context = PHONE_CONTEXT.exec(param);
    if (context !== null) return `${context[1] ?? ''}${number}`;
  }
  return number;
}

/** `value` is trimmed and NFKC-normalised (so full-width digits are ASCII). */
export function canonicalizePhone(value: string, defaultCountry?: string): string {
  let country: CountryCode | undefined;
  if (defaultCountry !== undefined) {
    const upper = /^[A-Za-z]{2}$/.test(defaultCountry) ? defaultCountry.toUpperCase() : '';
    if (upper === '' || !isSupportedCountry(upper)) return fail(KIND, 'phone.default_country');
    country = upper;
  }

  const written = TEL_PREFIX.test(value) ? fromTelUri(value) : value.replace(EXTENSION, '');
  if (!ALLOWED.test(written)) return fail(KIND, 'phone.format');
  let compact = written.replace(SEPARATORS, '');
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
    'International form "+<country code> <number>" or "00<country code> <number>", or an RFC 3966 "tel:" URI; spaces, "-", ".", "/" and parentheses ignored, an extension ("ext. 12", "x12", "#12", ";ext=12") dropped. A national number without country code is accepted only with a default country (ISO 3166-1 alpha-2). Example: "089/3072904" with default country DE.',
  canonical: 'E.164: "+" followed by country code and national significant number, digits only. Example: "+49893072904".',
} as const;
