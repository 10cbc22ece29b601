// Identifier errors name the kind and the rule that failed, never the value.
// Canonicalisation runs on suspect identifiers before blinding; an error
// message that quoted the value would carry it into logs, problem documents
// and CLI output, defeating the point of blinding it.

const RULES: Readonly<Record<string, string>> = {
  'kind.unknown': 'the identifier kind is not one of the supported kinds',
  'value.type': 'the value is not a string',
  'value.empty': 'the value is empty after trimming',
  'value.encoding': 'the value contains an unpaired UTF-16 surrogate and is not valid Unicode text',

  'passport.format':
    'expected an ISO 3166-1 alpha-3 issuing state, a separator (":", "-" or spaces) and the document number',
  'passport.country': 'the issuing state is neither an ISO 3166-1 alpha-3 code nor an ICAO 9303 reserved code',
  'passport.number': 'the document number must be 1 to 20 letters A-Z or digits once spaces are removed',
  'national_id.format':
    'expected an ISO 3166-1 alpha-3 issuing state, a separator (":", "-" or spaces) and the document number',
  'national_id.country':
    'the issuing state is neither an ISO 3166-1 alpha-3 code nor an ICAO 9303 reserved code',
  'national_id.number': 'the document number must be 1 to 30 letters A-Z or digits once spaces are removed',

  'phone.format':
    'only digits, "+", spaces, "-", ".", "/" and parentheses are allowed, with "+" only in front, then an optional extension; or an RFC 3966 tel: URI',
  'phone.no_country':
    'the number has no country calling code ("+" or "00") and no default country was given',
  'phone.default_country': 'the default country is not a supported ISO 3166-1 alpha-2 code',
  'phone.invalid': 'the number does not have a possible length for its E.164 country calling code',

  'email.format':
    'expected one "@", a local part of 1 to 64 octets and a valid host name (IDNA, at least two labels of letters, digits and inner hyphens), without whitespace',

  'iban.format': 'expected a 2-letter country code, 2 check digits and an alphanumeric BBAN (ISO 13616)',
  'iban.country': 'the country code has no IBAN format in the IBAN country table',
  'iban.length': 'the length does not match the IBAN length of its country',
  'iban.bban': 'the BBAN does not have the structure of its country (a letter where a digit is required, or the reverse)',
  'iban.checksum': 'the ISO 7064 MOD 97-10 check digits do not verify',

  'name_dob.format': 'expected a name and a date of birth separated by exactly one "|"',
  'name_dob.name': 'the name is empty once transliterated and stripped of punctuation',
  'name_dob.date': 'the date of birth must be a real calendar date YYYY-MM-DD (or YYYYMMDD) from 1900 to 2100',
  'name_dob_phonetic.derived': 'name_dob_phonetic keys are derived from name_dob rows; import the name and date of birth as kind name_dob',
  'name_dob_phonetic.parts': 'phonetic keys need at least two name parts of two or more letters once particles (al, bin) are dropped',

  'imei.format': 'expected 14, 15 or 16 digits (IMEI body, IMEI, IMEISV), optionally grouped by spaces, "-", "/" or "."',

  'vin.format': 'expected 17 characters from A-Z and 0-9 excluding I, O and Q (ISO 3779)',
  'vin.check_digit': 'the check digit in position 9 does not verify (49 CFR 565.15)',

  'crypto_address.format':
    'not a Bitcoin Base58Check or bech32/bech32m mainnet address, nor an Ethereum 0x-prefixed 40-hex-digit address',
  'crypto_address.checksum': 'the address checksum does not verify',
};

export class IdentifierError extends Error {
  override readonly name = 'IdentifierError';
  /** The identifier kind, or for `kind.unknown` the kind string that was given. */
  readonly kind: string;
  /** Stable rule code such as `iban.checksum`; safe to log and to match on. */
  readonly code: string;

  constructor(kind: string, code: string) {
    const rule = RULES[code] ?? 'the value breaks an identifier rule';
    // An unknown kind string is caller input that may itself be a misplaced
    // value (swapped columns), so it stays out of the message.
    const subject = code === 'kind.unknown' ? 'identifier' : `${kind} identifier`;
    super(`${subject} rejected (${code}): ${rule}`);
    this.kind = kind;
    this.code = code;
  }
}

export function fail(kind: string, code: string): never {
  throw new IdentifierError(kind, code);
}
