// Phonetic blocking keys for `name_dob_phonetic` (SPEC.md, "name_dob_phonetic").
//
// `name_dob` matches only when two clerks' spellings reduce to the same
// letters. The phonetic kind is derived from the same input and gives each
// person several keys, each "two name parts sound alike and the birth date
// agrees", so that Чайковский Пётр, Tschaikowski Peter, Tchaïkovski Piotr,
// Czajkowski Piotr and Tchaikovsky Pyotr born on one day share a key. A match
// on this kind is a candidate for a person to confirm, never a hit by itself.
//
// Every table here is part of the protocol: two agencies derive the same keys
// only if they run the same rules, so a change is a new kind version, never an
// edit in place.
import { nameTokens, normalizeDate } from './name-dob.js';
import { GIVEN_NAME_CLASSES } from './given-names.js';
import { fail } from './errors.js';

const KIND = 'name_dob_phonetic';

/** At most this many name parts count (in written order), so one person yields at most 6 pairs. */
export const MAX_NAME_PARTS = 4;
/** Upper bound on keys per person; alternatives beyond it are dropped in a fixed order. */
export const MAX_KEYS = 24;

// ---------------------------------------------------------------------------
// Daitch–Mokotoff Soundex (G. Mokotoff and R. Daitch, "Daitch-Mokotoff
// Soundex System", Avotaynu 1985; the coding chart as JewishGen publishes it).
// Designed for Slavic, Germanic and Yiddish surnames as transliterated by
// different countries' clerks, which is exactly the variation this kind is for.
// Each rule: letter group, code at the start of the name, before a vowel, in
// any other position; `null` = not coded; a pair = two branches (the group is
// ambiguous, e.g. CH as in "Chaim" or as in "Charles").
// One deliberate change: a lone H is coded in every position but the end of
// the name. The chart leaves an H before a consonant uncoded, which splits
// Arabic names whose vowels one spelling writes and another omits
// (MOHAMMED / MHMD); a silent H after a vowel is rare in the names this kind
// is for.
type Code = string | null | readonly [string | null, string | null];
type Rule = readonly [group: string, start: Code, beforeVowel: Code, other: Code];

const CHART: readonly Rule[] = [
  ['AI', '0', '1', null], ['AJ', '0', '1', null], ['AY', '0', '1', null], ['AU', '0', '7', null], ['A', '0', null, null],
  ['B', '7', '7', '7'],
  ['CHS', '5', '54', '54'], ['CH', ['5', '4'], ['5', '4'], ['5', '4']], ['CK', ['5', '45'], ['5', '45'], ['5', '45']],
  ['CSZ', '4', '4', '4'], ['CZS', '4', '4', '4'], ['CZ', '4', '4', '4'], ['CS', '4', '4', '4'], ['C', ['5', '4'], ['5', '4'], ['5', '4']],
  ['DRZ', '4', '4', '4'], ['DRS', '4', '4', '4'], ['DSH', '4', '4', '4'], ['DSZ', '4', '4', '4'], ['DZH', '4', '4', '4'],
  ['DZS', '4', '4', '4'], ['DS', '4', '4', '4'], ['DZ', '4', '4', '4'], ['DT', '3', '3', '3'], ['D', '3', '3', '3'],
  ['EI', '0', '1', null], ['EJ', '0', '1', null], ['EY', '0', '1', null], ['EU', '1', '1', null], ['E', '0', null, null],
  ['FB', '7', '7', '7'], ['F', '7', '7', '7'],
  ['G', '5', '5', '5'],
  ['H', '5', '5', '5'],
  ['IA', '1', null, null], ['IE', '1', null, null], ['IO', '1', null, null], ['IU', '1', null, null], ['I', '0', null, null],
  ['J', ['1', '4'], [null, '4'], [null, '4']],
  ['KS', '5', '54', '54'], ['KH', '5', '5', '5'], ['K', '5', '5', '5'],
  ['L', '8', '8', '8'],
  ['MN', '66', '66', '66'], ['NM', '66', '66', '66'], ['M', '6', '6', '6'], ['N', '6', '6', '6'],
  ['OI', '0', '1', null], ['OJ', '0', '1', null], ['OY', '0', '1', null], ['O', '0', null, null],
  ['PF', '7', '7', '7'], ['PH', '7', '7', '7'], ['P', '7', '7', '7'],
  ['Q', '5', '5', '5'],
  ['RZ', ['94', '4'], ['94', '4'], ['94', '4']], ['RS', ['94', '4'], ['94', '4'], ['94', '4']], ['R', '9', '9', '9'],
  ['SCHTSCH', '2', '4', '4'], ['SCHTSH', '2', '4', '4'], ['SCHTCH', '2', '4', '4'], ['SHTCH', '2', '4', '4'],
  ['SHCH', '2', '4', '4'], ['SHTSH', '2', '4', '4'], ['SCH', '4', '4', '4'], ['SHT', '2', '43', '43'],
  ['SCHT', '2', '43', '43'], ['SCHD', '2', '43', '43'], ['SH', '4', '4', '4'], ['STCH', '2', '4', '4'],
  ['STSCH', '2', '4', '4'], ['SC', '2', '4', '4'], ['STRZ', '2', '4', '4'], ['STRS', '2', '4', '4'], ['STSH', '2', '4', '4'],
  ['ST', '2', '43', '43'], ['SZCZ', '2', '4', '4'], ['SZCS', '2', '4', '4'], ['SZT', '2', '43', '43'], ['SHD', '2', '43', '43'],
  ['SZD', '2', '43', '43'], ['SD', '2', '43', '43'], ['SZ', '4', '4', '4'], ['S', '4', '4', '4'],
  ['TCH', '4', '4', '4'], ['TTCH', '4', '4', '4'], ['TTSCH', '4', '4', '4'], ['TH', '3', '3', '3'], ['TRZ', '4', '4', '4'],
  ['TRS', '4', '4', '4'], ['TSCH', '4', '4', '4'], ['TSH', '4', '4', '4'], ['TS', '4', '4', '4'], ['TTS', '4', '4', '4'],
  ['TTSZ', '4', '4', '4'], ['TC', '4', '4', '4'], ['TZ', '4', '4', '4'], ['TTZ', '4', '4', '4'], ['TZS', '4', '4', '4'],
  ['TSZ', '4', '4', '4'], ['T', '3', '3', '3'],
  ['UI', '0', '1', null], ['UJ', '0', '1', null], ['UY', '0', '1', null], ['UE', '0', null, null], ['U', '0', null, null],
  ['V', '7', '7', '7'], ['W', '7', '7', '7'], ['X', '5', '54', '54'], ['Y', '1', null, null],
  ['ZHDZH', '2', '4', '4'], ['ZDZH', '2', '4', '4'], ['ZDZ', '2', '4', '4'], ['ZHD', '2', '43', '43'], ['ZD', '2', '43', '43'],
  ['ZSCH', '4', '4', '4'], ['ZSH', '4', '4', '4'], ['ZH', '4', '4', '4'], ['ZS', '4', '4', '4'], ['Z', '4', '4', '4'],
];

// Longest group first within each initial letter: the chart codes the
// longest group that matches ("SCHTSCH" before "SCH" before "S").
const RULES_BY_LETTER: ReadonlyMap<string, readonly Rule[]> = (() => {
  const m = new Map<string, Rule[]>();
  for (const rule of CHART) {
    const letter = rule[0][0] as string;
    const list = m.get(letter) ?? [];
    list.push(rule);
    m.set(letter, list);
  }
  for (const list of m.values()) list.sort((a, b) => b[0].length - a[0].length);
  return m;
})();

const VOWELS = new Set(['A', 'E', 'I', 'O', 'U', 'Y']);
const CODE_LENGTH = 6;

interface Branch {
  code: string;
  /** The last group's code ('' after an uncoded group), for the chart's "adjacent equal codes count once". */
  last: string;
}

/**
 * Spellings of one sound that romanisation conventions write differently and
 * the chart codes differently, reduced to one before coding. A part may give
 * two spellings (an initial J is a glide in German, ж in French).
 * - The Cyrillic iotated vowels е ё ю я are written with a glide (Ye, Je, Ju,
 *   Ya — BGN/PCGN, Duden, Polish), as a vowel pair (Ie, Iu, Ia — French,
 *   ICAO 9303) or bare (E — ICAO): a glide before a vowel at the start and a
 *   glide between vowels are dropped (Yevgeniy, Jewgeni, Evgeni; Tsvetayeva,
 *   Tsvetaeva; Greek Vasileiou, Vasiliou).
 * - щ is SHCH, SZCZ, SCHTSCH, or in French CHTCH.
 * - Greek μπ, ντ at the start of a word are B, D in phonetic spellings and
 *   MP, NT in ELOT 743; γγ is NG or GG.
 * - Arabic ذ and ض are DH in English usage and D elsewhere (Gaddafi, Kadhafi).
 */
export function respellings(part: string): string[] {
  const base = part
    .replace(/CHTCH/g, 'SHCH')
    .replace(/^MP/, 'B')
    .replace(/^NT/, 'D')
    .replace(/GG/g, 'NG')
    .replace(/DH/g, 'D')
    .replace(/(?<=[AEIOU])[IYJ](?=[AEIOU])/g, '')
    .replace(/^[YI](?=[AEOU])/, '');
  return /^J[AEOU]/.test(base) ? [base, base.slice(1)] : [base];
}

/**
 * Daitch–Mokotoff codes of one name part (upper-case A–Z), six digits each,
 * one per branch, sorted. Letters outside A–Z are ignored.
 */
export function daitchMokotoff(part: string): string[] {
  const s = part.replace(/[^A-Z]/g, '');
  let branches: Branch[] = [{ code: '', last: '' }];
  let i = 0;
  while (i < s.length) {
    const rules = RULES_BY_LETTER.get(s[i] as string) ?? [];
    const rule = rules.find((r) => s.startsWith(r[0], i));
    if (rule === undefined) {
      i += 1;
      continue;
    }
    const next = i + rule[0].length;
    let code: Code;
    if (i === 0) code = rule[1];
    else if (next < s.length && VOWELS.has(s[next] as string)) code = rule[2];
    else code = rule[3];
    // The one change to the chart (see above): a lone H at the end is silent.
    if (rule[0] === 'H' && i > 0 && next === s.length) code = null;
    const alternatives: readonly (string | null)[] = Array.isArray(code) ? code : [code as string | null];
    const grown: Branch[] = [];
    for (const b of branches) {
      for (const alt of alternatives) {
        if (alt === null) grown.push({ code: b.code, last: '' });
        else if (alt === b.last) grown.push(b);
        else grown.push({ code: b.code + alt, last: alt });
      }
    }
    branches = grown;
    i = next;
  }
  const codes = new Set(branches.map((b) => (b.code + '000000').slice(0, CODE_LENGTH)));
  return [...codes].sort();
}

// ---------------------------------------------------------------------------
// Arabic script. Written Arabic usually omits short vowels, and any-ascii's
// letter-by-letter reading keeps the ain as an apostrophe and drops the alif.
// This table gives each letter the Latin consonant or long vowel that
// English, French and German renderings of Arabic names commonly use, so that
// the consonant skeleton Daitch–Mokotoff compares is the same whichever way a
// name was written: محمد → MHMD ≈ MOHAMMED, عمر → AMR ≈ OMAR.
const ARABIC: Readonly<Record<string, string>> = {
  '\u0621': '', '\u0622': 'A', '\u0623': 'A', '\u0624': '', '\u0625': 'I', '\u0626': '', '\u0627': 'A', '\u0628': 'B',
  '\u0629': 'H', '\u062a': 'T', '\u062b': 'TH', '\u062c': 'J', '\u062d': 'H', '\u062e': 'KH', '\u062f': 'D', '\u0630': 'DH',
  '\u0631': 'R', '\u0632': 'Z', '\u0633': 'S', '\u0634': 'SH', '\u0635': 'S', '\u0636': 'D', '\u0637': 'T', '\u0638': 'Z',
  '\u0639': 'A', '\u063a': 'GH', '\u0641': 'F', '\u0642': 'K', '\u0643': 'K', '\u0644': 'L', '\u0645': 'M', '\u0646': 'N',
  '\u0647': 'H', '\u0648': 'U', '\u0649': 'A', '\u064a': 'I', '\u06a9': 'K', '\u06cc': 'I', '\u067e': 'P', '\u0686': 'CH',
  '\u0698': 'ZH', '\u06af': 'G',
};
const ARABIC_LETTER = /[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]/;
const ARABIC_MARKS = /[\u064b-\u065f\u0670\u0640]/g; // harakat, superscript alif, tatweel

function arabicToLatin(word: string): string {
  let w = word.replace(ARABIC_MARKS, '');
  // The article al- is written joined to the noun; Latin spellings write it
  // apart or not at all, and the phonetic keys drop it (see PARTICLES).
  if (w.length > 3 && w.startsWith('\u0627\u0644')) w = w.slice(2);
  let out = '';
  for (const ch of w) out += ARABIC[ch] ?? ch;
  return out;
}

// Greek script, by ELOT 743 (ISO 843, the Greek passport convention):
// any-ascii reads υ in αυ, ευ as Y where every convention writes V or F.
const GREEK_PAIRS: Readonly<Record<string, string>> = {
  αυ: 'AV', ευ: 'EV', ηυ: 'IV', ου: 'OU', γγ: 'NG', γκ: 'GK', γξ: 'NX', γχ: 'NCH', μπ: 'MP', ντ: 'NT',
};
const GREEK_LETTERS: Readonly<Record<string, string>> = {
  α: 'A', β: 'V', γ: 'G', δ: 'D', ε: 'E', ζ: 'Z', η: 'I', θ: 'TH', ι: 'I', κ: 'K', λ: 'L', μ: 'M', ν: 'N', ξ: 'X',
  ο: 'O', π: 'P', ρ: 'R', σ: 'S', ς: 'S', τ: 'T', υ: 'Y', φ: 'F', χ: 'CH', ψ: 'PS', ω: 'O',
};
const GREEK_LETTER = /[\u0370-\u03ff\u1f00-\u1fff]/;

function greekToLatin(word: string): string {
  const w = word.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();
  let out = '';
  for (let i = 0; i < w.length; i++) {
    const pair = GREEK_PAIRS[w.slice(i, i + 2)];
    if (pair !== undefined) {
      out += pair;
      i += 1;
    } else {
      out += GREEK_LETTERS[w[i] as string] ?? (w[i] as string);
    }
  }
  return out;
}

// Name particles that one convention writes and another omits: the Arabic
// article and the patronymic "son of". Particles that are also given names
// (Ben, Abu) are kept.
const PARTICLES = new Set(['AL', 'EL', 'UL', 'UD', 'ED', 'BIN', 'IBN', 'BINT']);
// "Abd al-Rahman", "Abdel Rahman", "Abdulrahman", "Abderrahmane": the servant
// prefix joins the next part in some spellings and not in others.
const ABD_PREFIX = /^ABD(?:UL|EL|AL|OUL|UR|ER|OR|UL|U|E|A)?/;
const ABD_ALONE = new Set(['ABD', 'ABDUL', 'ABDEL', 'ABDAL', 'ABDOUL', 'ABDUR', 'ABDER', 'ABDOR']);

/** The name parts a person's keys are built from, in written order. */
export function phoneticParts(name: string): string[] {
  const latin = name
    .normalize('NFKC')
    .split(/(\s+)/)
    .map((w) => (ARABIC_LETTER.test(w) ? arabicToLatin(w) : GREEK_LETTER.test(w) ? greekToLatin(w) : w))
    .join('');
  const tokens = nameTokens(latin).filter((t) => /^[A-Z]{2,}$/.test(t) && !PARTICLES.has(t));
  const parts: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    if (ABD_ALONE.has(t) && next !== undefined) {
      parts.push(`ABD${next}`);
      i += 1;
    } else if (t.length > 6 && ABD_PREFIX.test(t)) {
      parts.push(`ABD${t.replace(ABD_PREFIX, '')}`);
    } else {
      parts.push(t);
    }
  }
  return parts.slice(0, MAX_NAME_PARTS);
}

/**
 * Codes of one name part: its Daitch–Mokotoff codes and, when the part is a
 * listed given-name variant (Pyotr, Piotr, Pierre), its class ("=PETER").
 */
export function partCodes(part: string): string[] {
  const cls = GIVEN_NAME_CLASSES.get(part);
  // A listed spelling keeps its own codes too: a transliteration the list
  // lacks (German "Pjotr") still meets "Pyotr" through Daitch–Mokotoff.
  const codes = [...new Set(respellings(part).flatMap(daitchMokotoff))].sort();
  return cls !== undefined ? [`=${cls}`, ...codes] : codes;
}

/**
 * The date part of a key. Day and month are swapped between conventions
 * (03/05 read as 5 March or 3 May), so when both could be a month the key
 * holds them unordered; otherwise the date as it is.
 */
export function dateKey(isoDate: string): string {
  const [y, m, d] = isoDate.split('-') as [string, string, string];
  if (Number(d) <= 12 && d !== m) {
    const [a, b] = m < d ? [m, d] : [d, m];
    return `${y}-${a}~${b}`;
  }
  return isoDate;
}

/**
 * The keys of one person for `name_dob_phonetic`: for every two of the first
 * MAX_NAME_PARTS name parts, every combination of their codes, with the date
 * key: "<code>+<code>|<date key>", codes in byte order. `value` is the
 * `name_dob` input ("<name>|<date>"), trimmed and NFKC-normalised.
 */
export function phoneticKeys(value: string): string[] {
  const fields = value.split('|');
  if (fields.length !== 2) return fail(KIND, 'name_dob.format');
  const [rawName = '', rawDate = ''] = fields;
  const parts = phoneticParts(rawName);
  if (parts.length < 2) return fail(KIND, 'name_dob_phonetic.parts');
  const date = dateKey(normalizeDate(rawDate.trim()));
  const codes = parts.map(partCodes);
  const keys = new Set<string>();
  for (let a = 0; a < codes.length; a++) {
    for (let b = a + 1; b < codes.length; b++) {
      for (const ca of codes[a] as string[]) {
        for (const cb of codes[b] as string[]) {
          if (keys.size >= MAX_KEYS) break;
          const [x, y] = ca <= cb ? [ca, cb] : [cb, ca];
          keys.add(`${x}+${y}|${date}`);
        }
      }
    }
  }
  return [...keys].sort();
}

export const NAME_DOB_PHONETIC_RULE = {
  input: 'Derived from the same input as name_dob: "<name>|<YYYY-MM-DD>" with at least two name parts of two or more letters.',
  canonical:
    'Several keys per person: for each two of the first four name parts, each part coded by its Daitch–Mokotoff codes and its given-name class ("=PETER") if listed, the two codes in byte order joined by "+", then "|" and the date (day and month unordered when both are ≤ 12). Example: "457450+=PETER|1940-05~07".',
} as const;
