import { fail } from './errors.js';

const KIND = 'iban';

/**
 * IBAN formats per country code: total length and BBAN structure, as
 * `CC:length:structure`. The structure is written as in the SWIFT IBAN
 * Registry: runs of `n` (digits 0-9), `a` (letters A-Z) and `c` (letters or
 * digits), each with its length. Generated from the country specification
 * table of the ibantools package, version 4.5.4, which
 * carries the SWIFT IBAN Registry and the countries that issue IBANs outside
 * it (Iran, Algeria, the BCEAO and BEAC states, ...), together with the
 * territories it lists under their own codes (AX, GF, GP, ...). The table is
 * part of the protocol: test/identifiers-differential.test.ts checks it
 * against that ibantools table.
 */
const IBAN_TABLE: readonly string[] = [
  'AD:24:8n12c AE:23:19n AL:28:8n16c AO:25:21n AT:20:16n AX:18:14n AZ:28:4a20c BA:20:16n',
  'BE:16:12n BF:28:2c22n BG:22:4a6n8c BH:22:4a14c BI:27:23n BJ:28:2c22n BL:27:10n11c2n BR:29:23n1a1c',
  'BY:28:4a4n16c CF:27:23n CG:27:23n CH:21:5n12c CI:28:1a23n CM:27:23n CR:22:18n CV:25:21n',
  'CY:28:8n16c CZ:24:20n DE:22:18n DJ:27:23n DK:18:14n DO:28:4a20n DZ:26:22n EE:20:16n',
  'EG:29:25n ES:24:20n FI:18:14n FK:18:2a12n FO:18:14n FR:27:10n11c2n GA:27:23n GB:22:4a14n',
  'GE:22:2c16n GF:27:10n11c2n GI:23:4a15c GL:18:14n GP:27:10n11c2n GQ:27:23n GR:27:7n16c GT:28:24c',
  'GW:25:2a19n HN:28:4a20n HR:21:17n HU:28:24n IE:22:4c14n IL:23:19n IQ:23:4a15n IR:26:22n',
  'IS:26:22n IT:27:1a10n12c JO:30:4a4n18c KM:27:23n KW:30:4a22c KZ:20:3n13c LB:28:4n20c LC:32:4a24c',
  'LI:21:5n12c LT:20:16n LU:20:3n13c LV:21:4a13c LY:25:21n MA:28:24n MC:27:10n11c2n MD:24:20c',
  'ME:22:18n MF:27:10n11c2n MG:27:23n MK:19:3n10c2n ML:28:2c22n MN:20:16n MQ:27:10n11c2n MR:27:23n',
  'MT:31:4a5n18c MU:30:4a19n3a MZ:25:21n NC:27:10n11c2n NE:28:2a22n NI:28:4a20n NL:18:4a10n NO:15:11n',
  'OM:23:3n16c PF:27:10n11c2n PK:24:4c16n PL:28:24n PM:27:10n11c2n PS:29:4c21n PT:25:21n QA:29:4a21c',
  'RE:27:10n11c2n RO:24:4a16c RS:22:18n RU:33:14n15c SA:24:2n18c SC:31:4a20n3a SD:18:14n SE:24:20n',
  'SI:19:15n SK:24:20n SM:27:1a10n12c SN:28:2a22n SO:23:19n ST:25:21n SV:28:4a20n TD:27:23n',
  'TF:27:10n11c2n TG:28:2a22n TL:23:19n TN:24:20n TR:26:5n17c UA:29:6n19c VA:22:18n VG:24:4c16n',
  'WF:27:10n11c2n XK:20:16n YE:30:4a4n18c YT:27:10n11c2n',
];

export interface IbanFormat {
  /** Total IBAN length in characters. */
  readonly length: number;
  /** BBAN structure in registry notation, e.g. `4a14n`. */
  readonly bban: string;
}

export const IBAN_FORMATS: Readonly<Record<string, IbanFormat>> = Object.freeze(
  Object.fromEntries(
    IBAN_TABLE.flatMap((line) => line.split(' ')).map((entry) => {
      const [country = '', length = '', bban = ''] = entry.split(':');
      return [country, Object.freeze({ length: Number(length), bban })];
    }),
  ),
);

const CLASS: Readonly<Record<string, string>> = { n: '[0-9]', a: '[A-Z]', c: '[A-Z0-9]' };

/** Registry notation (`4a14n`) to an anchored regular expression over the upper-cased BBAN. */
export function bbanPattern(structure: string): RegExp {
  const source = structure.replace(/([0-9]+)([nac])/g, (_, n: string, t: string) => `${CLASS[t] ?? ''}{${n}}`);
  return new RegExp(`^${source}$`);
}

const BBAN_PATTERNS: ReadonlyMap<string, RegExp> = new Map(
  Object.entries(IBAN_FORMATS).map(([country, format]) => [country, bbanPattern(format.bban)]),
);

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
  const country = iban.slice(0, 2);
  const format = IBAN_FORMATS[country];
  if (format === undefined) return fail(KIND, 'iban.country');
  if (iban.length !== format.length) return fail(KIND, 'iban.length');
  // The registry fixes which positions of the BBAN are digits and which
  // letters; a letter where a digit belongs (O for 0, I for 1) is a typo
  // that MOD 97-10 can miss.
  if (!(BBAN_PATTERNS.get(country)?.test(iban.slice(4)) ?? false)) return fail(KIND, 'iban.bban');
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
    'Electronic format: upper case, no separators, length and BBAN structure as listed for the country, MOD 97-10 verified. Example: "GB82WEST12345698765432".',
} as const;
