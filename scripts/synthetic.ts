// Synthetic watchlists with planted overlaps, written the way different
// national systems write the same identifiers. Deterministic for a seed.

export interface Person {
  id: number;
  passportState: string;
  passportNumber: string;
  email: string;
  phoneCc: string;
  phoneNational: string;
  given: string;
  family: string;
  dob: string;
  iban?: string;
}

/** Small deterministic PRNG (mulberry32): reproducible data, not a secret. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = ['José', 'María', 'João', 'Inês', 'François', 'Zoë', 'Ahmed', 'Olga', 'Søren', 'Łukasz', 'Ana', 'Pierre', 'Luís', 'Chloé', 'Dmitri', 'Aoife'];
const FAMILY = ['García-López', 'Fernández', 'Gonçalves', "O'Brien", 'Dubois', 'Müller', 'Kowalski', 'Petrov', 'Santos', 'Lefèvre', 'Núñez', 'Silva', 'Moreau', 'Ibáñez', 'Costa', 'Nowak'];
const STATES = ['ESP', 'PRT', 'FRA', 'DEU', 'ITA', 'MAR', 'COL', 'ROU'];
const PHONE = [
  { cc: '34', len: 9, lead: '6' },
  { cc: '351', len: 9, lead: '9' },
  { cc: '33', len: 9, lead: '6' },
];

function ibanFor(n: number): string {
  // A valid Spanish IBAN (ISO 13616 mod-97) from a 20-digit BBAN.
  const bban = String(20800000 + (n % 1000)).padStart(8, '0') + String(n).padStart(12, '0');
  const numeric = `${bban}142800`; // "ES" = 14 28, check digits 00
  let r = 0;
  for (const ch of numeric) r = (r * 10 + Number(ch)) % 97;
  return `ES${String(98 - r).padStart(2, '0')}${bban}`;
}

export function makePerson(id: number, rnd: () => number): Person {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const ph = pick(PHONE);
  // Phone and date of birth derive from the id so unrelated people never collide by chance.
  const national = ph.lead + String(id).padStart(ph.len - 1, '0');
  const dob = new Date(Date.UTC(1940, 0, 1) + (id % 25000) * 86400000).toISOString().slice(0, 10);
  const given = pick(GIVEN);
  const family = pick(FAMILY);
  return {
    id,
    passportState: pick(STATES),
    passportNumber: `X${String(id).padStart(7, '0')}`,
    email: `${given.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${id}@mail.example`,
    phoneCc: ph.cc,
    phoneNational: national,
    given,
    family,
    dob,
    ...(rnd() < 0.3 ? { iban: ibanFor(id) } : {}),
  };
}

export type Style = 'es' | 'pt' | 'fr';

/** Identifier rows for one person, written in an agency's house style. */
export function rowsFor(p: Person, recordId: string, style: Style): Array<[string, string, string]> {
  const rows: Array<[string, string, string]> = [];
  const n = p.phoneNational;
  switch (style) {
    case 'es':
      rows.push([recordId, 'passport', `${p.passportState}-${p.passportNumber}`]);
      rows.push([recordId, 'email', p.email]);
      rows.push([recordId, 'phone', `+${p.phoneCc} ${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`]);
      rows.push([recordId, 'name_dob', `${p.given} ${p.family}|${p.dob}`]);
      break;
    case 'pt':
      rows.push([recordId, 'passport', `${p.passportState.toLowerCase()} ${p.passportNumber}`]);
      rows.push([recordId, 'email', `  ${p.email.toUpperCase()} `]);
      rows.push([recordId, 'phone', `00${p.phoneCc}${n}`]);
      rows.push([recordId, 'name_dob', `${p.family.toUpperCase()}, ${p.given}|${p.dob.replace(/-/g, '')}`]);
      break;
    case 'fr':
      rows.push([recordId, 'passport', `${p.passportState}:${p.passportNumber.slice(0, 4)} ${p.passportNumber.slice(4)}`]);
      rows.push([recordId, 'email', p.email.replace(/^./, (c) => c.toUpperCase())]);
      rows.push([recordId, 'phone', `(+${p.phoneCc}) ${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}`]);
      break;
  }
  if (p.iban) rows.push([recordId, 'iban', p.iban.replace(/(.{4})/g, '$1 ').trim()]);
  return rows;
}

export function toCsv(rows: Array<[string, string, string]>): string {
  const esc = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `record_id,kind,value\n${rows.map((r) => r.map(esc).join(',')).join('\n')}\n`;
}
