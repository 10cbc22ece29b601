// Differential tests of identifier canonicalisation against well-kept
// libraries, on seeded generated inputs: ibantools (IBAN validity and
// electronic format), libphonenumber-js with its full metadata (E.164 of
// valid numbers) and validator's isEmail, with Node's url.domainToASCII as a
// second UTS #46 implementation for e-mail domains. Every disagreement must
// fall in a class listed here with the reason it is accepted; any other one
// fails the test.
import { domainToASCII } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as ibantools from 'ibantools';
import { parsePhoneNumberFromString as parseMax, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json' with { type: 'json' };
import validator from 'validator';
import { tryCanonicalize } from '../protocol/identifiers/index.js';
import { IBAN_FORMATS } from '../protocol/identifiers/iban.js';

/** Deterministic PRNG (mulberry32) so every run sees the same inputs. */
function rng(seed: number): { int: (n: number) => number; pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { int, pick: (xs) => xs[int(xs.length)] as (typeof xs)[number], chance: (p) => next() < p };
}

/** One disagreement class: which inputs it covers and why the difference is accepted. */
interface Accepted<T> {
  name: string;
  reason: string;
  covers: (t: T) => boolean;
}

/** Runs the comparison; returns how many inputs fell in each class, and fails on any unexplained one. */
function differ<T>(cases: readonly T[], agree: (t: T) => boolean, classes: readonly Accepted<T>[], show: (t: T) => string) {
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c.name, 0]));
  const unexplained: string[] = [];
  for (const t of cases) {
    if (agree(t)) continue;
    const c = classes.find((k) => k.covers(t));
    if (c === undefined) unexplained.push(show(t));
    else counts[c.name] = (counts[c.name] ?? 0) + 1;
  }
  expect(unexplained).toEqual([]);
  return counts;
}

// ---- IBAN ---------------------------------------------------------------

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function mod97(s: string): number {
  let r = 0;
  for (const ch of s) r = ch <= '9' ? (r * 10 + Number(ch)) % 97 : (r * 100 + ch.charCodeAt(0) - 55) % 97;
  return r;
}

/** The ibantools country table in the registry notation of IBAN_FORMATS. */
function ibantoolsTable(): Record<string, { length: number; bban: string }> {
  const out: Record<string, { length: number; bban: string }> = {};
  for (const [country, spec] of Object.entries(ibantools.getCountrySpecifications())) {
    if (!spec.chars || !spec.bban_regexp) continue;
    const re = spec.bban_regexp.replace(/^\^/, '').replace(/\$$/, '');
    const runs: Array<{ t: string; n: number }> = [];
    const token = /\[(0-9|A-Z|A-Z0-9|0-9A-Z)\]\{(\d+)\}/y;
    for (let i = 0; i < re.length; i = token.lastIndex) {
      token.lastIndex = i;
      const m = token.exec(re);
      if (m === null) throw new Error(`unexpected BBAN pattern for ${country}`);
      const t = m[1] === '0-9' ? 'n' : m[1] === 'A-Z' ? 'a' : 'c';
      const last = runs[runs.length - 1];
      if (last !== undefined && last.t === t) last.n += Number(m[2]);
      else runs.push({ t, n: Number(m[2]) });
    }
    out[country] = { length: spec.chars, bban: runs.map((r) => `${r.n}${r.t}`).join('') };
  }
  return out;
}

function randomBban(r: ReturnType<typeof rng>, structure: string): string {
  let s = '';
  for (const [, n, t] of structure.matchAll(/([0-9]+)([nac])/g)) {
    const alphabet = t === 'n' ? DIGITS : t === 'a' ? LETTERS : DIGITS + LETTERS;
    for (let i = 0; i < Number(n); i++) s += alphabet.charAt(r.int(alphabet.length));
  }
  return s;
}

function withCheckDigits(country: string, bban: string): string {
  const check = 98 - mod97(`${bban}${country}00`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

function generateIbans(n: number): string[] {
  const r = rng(0x1ba7);
  const countries = Object.keys(IBAN_FORMATS);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const country = r.chance(0.05) ? r.pick(['US', 'XX', 'CA', 'AU']) : r.pick(countries);
    const format = IBAN_FORMATS[country] ?? { length: 22, bban: '18n' };
    let iban = withCheckDigits(country, randomBban(r, format.bban));
    const at = 4 + r.int(iban.length - 4);
    switch (r.int(8)) {
      case 0: // a typo in the BBAN, same class of character
        iban = iban.slice(0, at) + (/[0-9]/.test(iban.charAt(at)) ? String((Number(iban.charAt(at)) + 1) % 10) : 'Z') + iban.slice(at + 1);
        break;
      case 1: // a letter typed for a digit, or the reverse
        iban = iban.slice(0, at) + (/[0-9]/.test(iban.charAt(at)) ? 'O' : '0') + iban.slice(at + 1);
        break;
      case 2: // one character short or long
        iban = r.chance(0.5) ? iban.slice(0, -1) : `${iban}7`;
        break;
      case 3: // wrong check digits
        iban = `${iban.slice(0, 2)}${String((Number(iban.slice(2, 4)) + 1 + r.int(90)) % 100).padStart(2, '0')}${iban.slice(4)}`;
        break;
      default:
        break;
    }
    // Paper format (groups of four), dashes, lower case: all ignored by both.
    if (r.chance(0.4)) iban = iban.replace(/(.{4})/g, '$1 ').trim();
    if (r.chance(0.1)) iban = iban.replace(/ /g, '-');
    if (r.chance(0.2)) iban = iban.toLowerCase();
    out.push(iban);
  }
  return out;
}

describe('iban against ibantools', () => {
  test('the country table is the ibantools 4.5.4 table, entry for entry', () => {
    expect(IBAN_FORMATS).toEqual(ibantoolsTable());
    // Countries outside the SWIFT registry are in it.
    for (const c of ['IR', 'DZ', 'AO', 'CI', 'SN', 'MA']) expect(IBAN_FORMATS[c], c).toBeDefined();
  });

  const inputs = generateIbans(400);
  const ours = (raw: string) => tryCanonicalize('iban', raw);
  const theirs = (raw: string) => {
    const electronic = ibantools.electronicFormatIBAN(raw) ?? '';
    return { electronic, valid: ibantools.isValidIBAN(electronic), errors: ibantools.validateIBAN(electronic).errorCodes };
  };

  test('validity and electronic format agree, but for the listed classes', () => {
    const counts = differ(
      inputs,
      (raw) => {
        const a = ours(raw);
        const b = theirs(raw);
        return a.ok === b.valid && (!a.ok || a.canonical === b.electronic);
      },
      [
        {
          name: 'national check digits',
          reason:
            'ibantools also verifies national check digits inside the BBAN (BE, ES, FR, NO, PL, ...); they are not part of ISO 13616 and a value that fails one still has one canonical form, so the SPEC checks structure and MOD 97-10 only',
          covers: (raw) => {
            const b = theirs(raw);
            return ours(raw).ok && b.errors.length === 1 && b.errors[0] === ibantools.ValidationErrorsIBAN.WrongAccountBankBranchChecksum;
          },
        },
      ],
      (raw) => `${raw}: ours ${JSON.stringify(ours(raw))}, ibantools ${JSON.stringify(theirs(raw))}`,
    );
    // The generator reaches both outcomes.
    expect(inputs.filter((raw) => ours(raw).ok).length).toBeGreaterThan(100);
    expect(inputs.filter((raw) => !ours(raw).ok).length).toBeGreaterThan(100);
    expect(counts['national check digits']).toBeGreaterThan(0);
  });
});

// ---- phone --------------------------------------------------------------

const EXAMPLES = examples as Partial<Record<CountryCode, string>>;
const COUNTRIES = Object.keys(EXAMPLES).sort() as CountryCode[];

interface PhoneCase {
  raw: string;
  country: CountryCode;
  /** whether the raw value is written under the default country */
  national: boolean;
}

function generatePhones(n: number): PhoneCase[] {
  const r = rng(0x7e1);
  const out: PhoneCase[] = [];
  const separate = (digits: string, sep: string): string => digits.replace(/([0-9]{3})(?=[0-9]{2})/g, `$1${sep}`);
  for (let i = 0; i < n; i++) {
    const country = r.pick(COUNTRIES);
    const example = EXAMPLES[country] ?? '';
    // Vary the last digits of the example so the numbers are not all the same.
    let nsn = example.slice(0, Math.max(1, example.length - 3));
    while (nsn.length < example.length) nsn += String(r.int(10));
    const parsed = parseMax(nsn, country);
    const cc = getCountryCallingCode(country);
    const ext = r.chance(0.2) ? r.pick([' ext. 12', ' x7', ' #301', ', extension 4']) : '';
    const sep = r.pick([' ', '-', '.', '/', '']);
    switch (r.int(5)) {
      case 0:
        out.push({ raw: `+${cc} ${separate(nsn, sep)}${ext}`, country, national: false });
        break;
      case 1:
        out.push({ raw: `00${cc}${sep}${nsn}${ext}`, country, national: true });
        break;
      case 2:
        out.push({ raw: `tel:+${cc}-${separate(nsn, '-')}${r.chance(0.5) ? ';ext=5' : ''}`, country, national: false });
        break;
      default: {
        const written = parsed?.formatNational() ?? nsn;
        out.push({ raw: `${written.replace(/ /g, sep === '' ? ' ' : sep)}${ext}`, country, national: true });
      }
    }
  }
  return out;
}

describe('phone against libphonenumber-js (full metadata)', () => {
  const inputs = generatePhones(400);
  const ours = (t: PhoneCase) => tryCanonicalize('phone', t.raw, { defaultCountry: t.country });
  const theirs = (t: PhoneCase) => parseMax(t.raw, { defaultCountry: t.country, extract: false });
  const compact = (t: PhoneCase) => t.raw.replace(/[\s().\-/]/g, '');

  test('every number libphonenumber-js finds valid has the same E.164 here, but for the listed classes', () => {
    const valid = inputs.filter((t) => theirs(t)?.isValid() === true);
    expect(valid.length).toBeGreaterThan(200);
    differ(
      valid,
      (t) => {
        const a = ours(t);
        return a.ok && a.canonical === theirs(t)?.number;
      },
      // No disagreement class: on these inputs every valid number has the
      // same E.164 here. Numbers libphonenumber-js finds invalid are not
      // compared: the SPEC accepts possible numbers (isPossible), not only
      // allocated ranges (isValid), because metadata lags new ranges.
      [],
      (t) => `${t.country} ${t.raw}: ours ${JSON.stringify(ours(t))}, libphonenumber-js ${theirs(t)?.number}`,
    );
  });

  test('the written forms of one number agree: "/", extensions and tel: URIs', () => {
    expect(tryCanonicalize('phone', '089/3072904', { defaultCountry: 'DE' })).toEqual({ ok: true, canonical: '+49893072904' });
    expect(parseMax('089/3072904', 'DE')?.number).toBe('+49893072904');
    expect(tryCanonicalize('phone', 'tel:+49-89-3072904;ext=12')).toEqual({ ok: true, canonical: parseMax('tel:+49-89-3072904;ext=12')?.number });
  });
});

// ---- e-mail -------------------------------------------------------------

const LOCALS = [
  'john',
  'John.Doe',
  'first.last+tag',
  'x',
  'müller',
  'o\'brien',
  'a!b#c$d%e&f',
  'a..b',
  '.lead',
  'trail.',
  'q"uote',
  'a(b)c',
  'a,b',
  '用户',
  'x'.repeat(64),
  'x'.repeat(65),
];
const DOMAINS = [
  'example.com',
  'Example.COM',
  'sub.domain.example.org',
  'bücher.de',
  'xn--bcher-kva.de',
  'BÜCHER.DE',
  'faß.de',
  'почта.рф',
  'xn--80a1acny.xn--p1ai',
  'b-c.example',
  'b.c',
  '-ex.com',
  'ex-.com',
  'ex..com',
  '.ex.com',
  'ex.com.',
  'ex_ample.com',
  'ex!ample.com',
  'localhost',
  '192.0.2.1',
  'example.123',
  'xn--a.com',
  'a\u200db.com',
  `${'d'.repeat(63)}.com`,
  `${'d'.repeat(64)}.com`,
  `${'abcdefghi.'.repeat(24)}com`,
  `${'ü'.repeat(50)}.${'ü'.repeat(50)}.${'ü'.repeat(50)}.de`,
  'ab--cd.com',
  '例え.テスト',
];

function generateEmails(n: number): string[] {
  const r = rng(0xe4a1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${r.pick(LOCALS)}@${r.pick(DOMAINS)}`);
  return out;
}

// RFC 5322 dot-atom over ASCII atext, as validator checks a local part.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

describe('email against validator.isEmail and url.domainToASCII', () => {
  const inputs = generateEmails(400);
  const ours = (raw: string) => tryCanonicalize('email', raw);
  const theirs = (raw: string) =>
    validator.isEmail(raw, {
      allow_utf8_local_part: true,
      require_tld: true,
      allow_ip_domain: false,
      allow_underscores: false,
      domain_specific_validation: false,
      allow_display_name: false,
      ignore_max_length: false,
    });
  const local = (raw: string) => raw.slice(0, raw.lastIndexOf('@'));
  const domain = (raw: string) => raw.slice(raw.lastIndexOf('@') + 1).toLowerCase().normalize('NFKC');

  test('the canonical domain is url.domainToASCII of the domain', () => {
    for (const raw of inputs) {
      const a = ours(raw);
      if (a.ok) expect(a.canonical.slice(a.canonical.lastIndexOf('@') + 1), raw).toBe(domainToASCII(domain(raw)));
    }
    // Unicode and punycode spellings, one value.
    expect(ours('hans@bücher.de')).toEqual(ours('hans@xn--bcher-kva.de'));
  });

  test('validity agrees with validator.isEmail, but for the listed classes', () => {
    const counts = differ(
      inputs,
      (raw) => ours(raw).ok === theirs(raw),
      [
        {
          name: 'local part outside dot-atom',
          reason:
            'validator refuses local parts that are not an RFC 5322 dot-atom (consecutive, leading or trailing dots, "(", ",", a lone quote); the SPEC keeps the local part as written beyond length and whitespace, since folding or refusing it would drop addresses that real mail systems hand out, and it never merges two spellings',
          covers: (raw) => ours(raw).ok && !DOT_ATOM.test(local(raw)) && !/[^\x00-\x7f]/.test(local(raw)),
        },
        {
          name: 'one-letter top-level label',
          reason: 'validator requires a top-level label of two or more letters; the SPEC requires only that it start with a letter (RFC 1123 host name rules), as before',
          covers: (raw) => ours(raw).ok && /\.[a-z]$/.test(domain(raw)),
        },
        {
          name: 'domain length measured on the A-label form',
          reason:
            'validator measures the UTF-8 octets of the Unicode spelling; the SPEC measures the canonical A-label form, so the Unicode and the punycode spelling of one address are accepted or refused together',
          covers: (raw) => ours(raw).ok && new TextEncoder().encode(domain(raw)).length > 253,
        },
        {
          name: 'IDNA validity',
          reason:
            'validator checks Unicode labels by character ranges only and does not decode A-labels; the SPEC runs UTS #46, which refuses invalid punycode ("xn--a"), joiners outside their contexts, and labels whose A-label form is over 63 characters',
          covers: (raw) => !ours(raw).ok && theirs(raw) && (/xn--|\u200d/.test(domain(raw)) || /[^\x00-\x7f]/.test(domain(raw))),
        },
      ],
      (raw) => `${raw}: ours ${JSON.stringify(ours(raw))}, validator ${theirs(raw)}`,
    );
    expect(inputs.filter((raw) => ours(raw).ok).length).toBeGreaterThan(100);
    expect(inputs.filter((raw) => !ours(raw).ok).length).toBeGreaterThan(100);
    // Every listed class is met by the generated inputs.
    for (const [name, n] of Object.entries(counts)) expect(n, name).toBeGreaterThan(0);
  });
});
