import anyAscii from 'any-ascii';
import { fail } from './errors.js';

const KIND = 'name_dob';

// Marks removed before transliteration: the Latin/Greek/Cyrillic combining
// diacritics (U+0300 block and its extensions), Hebrew points and Arabic
// harakat. Names reach agencies typed on keyboards that lack the accented
// letter as often as not, and the bare letter is the common fallback; ICAO
// 9303 Part 3 §6 also maps most accented Latin letters (É, Ç, Ñ) and
// Cyrillic Й, Ё to the bare letter. Its two-letter forms for Ä, Ö, Ü, Å
// (AE, OE, UE, AA) are not used: "Müller" becomes MULLER, not MUELLER.
// Hebrew points and Arabic harakat are optional in ordinary writing, so
// stripping them makes the vocalised and the plain spelling meet. Other
// scripts' marks (Indic vowel signs, kana voicing marks) carry sound and are
// kept for any-ascii to read.
const STRIPPED_MARKS =
  /(?=\p{Mn})[\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/gu;

// Apostrophes (and what any-ascii renders them as) join the parts of a
// name: O'Brien, D’Angelo, N'Diaye.
const APOSTROPHES = /['`\u2018\u2019\u02bc]/g;

/**
 * Normalise a personal name to its sorted upper-case Latin token string.
 * The any-ascii table (pinned at 0.3.3) is part of the protocol: another
 * version may transliterate some characters differently.
 */
export function normalizeName(name: string): string {
  // Token order varies by culture and by form (family name first, given name
  // first, "Family, Given"), so the token multiset is what is compared.
  const tokens = nameTokens(name);
  tokens.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return tokens.join(' ');
}

/** The upper-case Latin tokens of a name, in written order (the phonetic keys need the order). */
export function nameTokens(name: string): string[] {
  const unmarked = name.normalize('NFKC').normalize('NFD').replace(STRIPPED_MARKS, '').normalize('NFC');
  const latin = anyAscii(unmarked).toUpperCase().replace(APOSTROPHES, '');
  // Every other non-alphanumeric character (hyphen, comma, dot, ...) splits
  // tokens: "García-López", "Müller, Hans" and "J.R.R." break into words.
  return latin.split(/[^A-Z0-9]+/).filter((t) => t.length > 0);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    // Proleptic Gregorian leap year rule, as ISO 8601 specifies.
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** ISO 8601 calendar date, extended (YYYY-MM-DD) or basic (YYYYMMDD) format. */
export function normalizeDate(date: string): string {
  const match = ISO_DATE.exec(date) ?? BASIC_DATE.exec(date);
  if (match === null) return fail(KIND, 'name_dob.date');
  const [, y = '', m = '', d = ''] = match;
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return fail(KIND, 'name_dob.date');
  }
  return `${y}-${m}-${d}`;
}

/** `value` is trimmed and NFKC-normalised. */
export function canonicalizeNameDob(value: string): string {
  const parts = value.split('|');
  if (parts.length !== 2) return fail(KIND, 'name_dob.format');
  const [rawName = '', rawDate = ''] = parts;
  const name = normalizeName(rawName);
  if (name === '') return fail(KIND, 'name_dob.name');
  return `${name}|${normalizeDate(rawDate.trim())}`;
}

export const NAME_DOB_RULE = {
  input:
    'Full name and date of birth separated by "|": "<name>|<YYYY-MM-DD>" (or YYYYMMDD), any script, any name order. Example: "José María García-López|1980-02-29".',
  canonical:
    'Name transliterated to Latin without diacritics, upper case, punctuation removed, tokens sorted and joined by one space, then "|" and the date as YYYY-MM-DD. Example: "GARCIA JOSE LOPEZ MARIA|1980-02-29".',
} as const;
