import { describe, expect, it, test } from 'vitest';
import {
  canonicalize,
  identifierInput,
  identifierKindSchema,
  IdentifierError,
  identifierRowSchema,
  IDENTIFIER_KINDS,
  inputFor,
  isIdentifierKind,
  KIND_RULES,
  tryCanonicalize,
  type CanonicalizeOptions,
  type IdentifierKind,
  type IdentifierRow,
} from '../protocol/identifiers/index.js';

type Accepted = readonly [raw: string, canonical: string, opts?: CanonicalizeOptions];
type Rejected = readonly [raw: string, code: string, opts?: CanonicalizeOptions];

const ACCEPTED: Record<Exclude<IdentifierKind, "name_dob_phonetic">, readonly Accepted[]> = {
  passport: [
    ['esp:p1234567', 'ESP:P1234567'],
    ['ESP-P1234567', 'ESP:P1234567'],
    ['ESP P 123 4567', 'ESP:P1234567'],
    ['Esp:P 1234567', 'ESP:P1234567'],
    ['  ESP   P1234567\t', 'ESP:P1234567'],
    ['ESP - P1234567', 'ESP:P1234567'],
    ['ＥＳＰ：Ｐ１２３４５６７', 'ESP:P1234567'],
    ['deu:c01x00t47', 'DEU:C01X00T47'],
    ['XXA:AB123456', 'XXA:AB123456'],
    ['gbn 123456789', 'GBN:123456789'],
    ['EUE:A1', 'EUE:A1'],
    ['USA:12345678901234567890', 'USA:12345678901234567890'],
  ],
  national_id: [
    ['esp:12345678z', 'ESP:12345678Z'],
    ['ESP-12345678Z', 'ESP:12345678Z'],
    ['FRA 1234 5678 9012', 'FRA:123456789012'],
    ['ita:ca00000aa', 'ITA:CA00000AA'],
    ['nld  123456782', 'NLD:123456782'],
    ['RKS:1234567890', 'RKS:1234567890'],
    ['SWE:' + '1'.repeat(30), 'SWE:' + '1'.repeat(30)],
  ],
  phone: [
    ['+34 91 123 45 67', '+34911234567'],
    ['0034911234567', '+34911234567'],
    ['(+34) 911-234-567', '+34911234567'],
    ['911234567', '+34911234567', { defaultCountry: 'ES' }],
    ['911 23 45 67', '+34911234567', { defaultCountry: 'es' }],
    ['+3491 1234567', '+34911234567'],
    ['＋３４ ９１１ ２３４ ５６７', '+34911234567'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+44 (0)20 7946 0958', '+442079460958'],
    ['020 7946 0958', '+442079460958', { defaultCountry: 'GB' }],
    ['+1 (202) 555-0123', '+12025550123'],
    ['+1.202.555.0123', '+12025550123'],
    ['+7 495 123-45-67', '+74951234567'],
    ['8 (495) 123-45-67', '+74951234567', { defaultCountry: 'RU' }],
    ['+34911234567', '+34911234567', { defaultCountry: 'FR' }],
    // "/" between area code and subscriber number (DE, AT).
    ['089/3072904', '+49893072904', { defaultCountry: 'DE' }],
    ['(089) 30 72 90 4', '+49893072904', { defaultCountry: 'DE' }],
    ['+49 (0)89/3072904', '+49893072904'],
    // Extensions are dropped.
    ['+34 91 123 45 67 ext 5', '+34911234567'],
    ['+34 91 123 45 67 ext. 5', '+34911234567'],
    ['+34 91 123 45 67 x5', '+34911234567'],
    ['+34 91 123 45 67 #5', '+34911234567'],
    ['+34 91 123 45 67, extension 55', '+34911234567'],
    // RFC 3966 tel: URIs, parameters dropped.
    ['tel:+34911234567', '+34911234567'],
    ['TEL:+34-91-123-45-67;ext=5', '+34911234567'],
    ['tel:+34.91.123.45.67;isub=12;foo=bar', '+34911234567'],
    ['tel:911234567;phone-context=+34', '+34911234567'],
    ['tel:0893072904;phone-context=example.com', '+49893072904', { defaultCountry: 'DE' }],
  ],
  email: [
    [' John.Doe+tag@Example.COM ', 'john.doe+tag@example.com'],
    ['ANA@EXAMPLE.ES', 'ana@example.es'],
    ['ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'john@example.com'],
    ['MÜLLER@Beispiel.DE', 'müller@beispiel.de'],
    ['a@b.c', 'a@b.c'],
    ['first.last@sub.domain.example.org', 'first.last@sub.domain.example.org'],
    ['x'.repeat(64) + '@example.com', 'x'.repeat(64) + '@example.com'],
    // IDNA (UTS #46, nontransitional): the domain in its A-label form.
    ['hans@bücher.de', 'hans@xn--bcher-kva.de'],
    ['hans@xn--bcher-kva.de', 'hans@xn--bcher-kva.de'],
    ['Hans@XN--BCHER-KVA.DE', 'hans@xn--bcher-kva.de'],
    ['hans@BÜCHER.de', 'hans@xn--bcher-kva.de'],
    ['info@faß.de', 'info@xn--fa-hia.de'],
    ['иван@почта.рф', 'иван@xn--80a1acny.xn--p1ai'],
    ['hans@bücher。de', 'hans@xn--bcher-kva.de'],
    // mailto: URIs (RFC 6068): prefix and header fields dropped, %-decoding.
    ['mailto:John.Doe@Example.com', 'john.doe@example.com'],
    ['MAILTO:john.doe@example.com?subject=hello', 'john.doe@example.com'],
    ['mailto:hans@b%C3%BCcher.de', 'hans@xn--bcher-kva.de'],
    ['a@b-c.d-e.example', 'a@b-c.d-e.example'],
    ['a@' + 'd'.repeat(63) + '.com', 'a@' + 'd'.repeat(63) + '.com'],
  ],
  iban: [
    ['GB82 WEST 1234 5698 7654 32', 'GB82WEST12345698765432'],
    ['gb82west12345698765432', 'GB82WEST12345698765432'],
    ['IBAN GB82 WEST 1234 5698 7654 32', 'GB82WEST12345698765432'],
    ['DE89 3704 0044 0532 0130 00', 'DE89370400440532013000'],
    ['DE89-3704-0044-0532-0130-00', 'DE89370400440532013000'],
    ['FR14 2004 1010 0505 0001 3M02 606', 'FR1420041010050500013M02606'],
    ['NO93 8601 1117 947', 'NO9386011117947'],
    ['ES91 2100 0418 4502 0005 1332', 'ES9121000418450200051332'],
    ['DE98370400440532013420', 'DE98370400440532013420'],
    ['DE02370400440532013790', 'DE02370400440532013790'],
    // Outside the SWIFT registry (ibantools country table).
    ['IR11 0170 0000 0012 3456 7890 01', 'IR110170000000123456789001'],
    ['DZ58 0002 1000 0111 3000 0005 70', 'DZ580002100001113000000570'],
    ['ci10 a008 0111 3011 3429 1200 5891', 'CI10A00801113011342912005891'],
  ],
  name_dob: [
    ['José María García-López|1980-02-29', 'GARCIA JOSE LOPEZ MARIA|1980-02-29'],
    ['García López, José María|19800229', 'GARCIA JOSE LOPEZ MARIA|1980-02-29'],
    ['GARCIA LOPEZ JOSE MARIA | 1980-02-29', 'GARCIA JOSE LOPEZ MARIA|1980-02-29'],
    ['Müller, Hans|19750105', 'HANS MULLER|1975-01-05'],
    ["Seán O'Brien|1990-12-31", 'OBRIEN SEAN|1990-12-31'],
    ['Sean O’Brien|1990-12-31', 'OBRIEN SEAN|1990-12-31'],
    ['J.R.R. Tolkien|1900-01-01', 'J R R TOLKIEN|1900-01-01'],
    ['Владимир Путин|1952-10-07', 'PUTIN VLADIMIR|1952-10-07'],
    ['Андрей Ёлкин|1961-05-20', 'ANDREI ELKIN|1961-05-20'],
    // any-ascii reads Greek letter by letter (ου → OY), not by ELOT 743.
    ['Αλέξανδρος Παπαδόπουλος|1970-01-01', 'ALEXANDROS PAPADOPOYLOS|1970-01-01'],
    ['محمد علي|1942-01-17', 'LY MHMD|1942-01-17'],
    ['مُحَمَّد عَلِي|1942-01-17', 'LY MHMD|1942-01-17'],
    ['习近平|1953-06-15', 'XIJINPING|1953-06-15'],
    ['Nguyễn Văn An|2000-02-29', 'AN NGUYEN VAN|2000-02-29'],
    ['Łukasz Żółć|2100-12-31', 'LUKASZ ZOLC|2100-12-31'],
  ],
  imei: [
    ['49-015420-323751-8', '49015420323751'],
    ['490154203237518', '49015420323751'],
    ['49 015420 323751 8', '49015420323751'],
    ['49015420323751', '49015420323751'],
    ['49.015420.323751', '49015420323751'],
    ['35/209900/176148/1', '35209900176148'],
    ['４９０１５４２０３２３７５１８', '49015420323751'],
    // The network form: check digit sent as 0 (3GPP TS 23.003 §6.2.1).
    ['490154203237510', '49015420323751'],
    // A wrong check digit is not part of the canonical value.
    ['490154203237517', '49015420323751'],
    // IMEISV: TAC, serial number and a 2-digit software version.
    ['4901542032375101', '49015420323751'],
    ['49 015420 323751 23', '49015420323751'],
  ],
  vin: [
    ['1M8GDM9AXKP042788', '1M8GDM9AXKP042788'],
    ['1m8gdm9axkp042788', '1M8GDM9AXKP042788'],
    ['1M8 GDM9A-XKP042788', '1M8GDM9AXKP042788'],
    ['11111111111111111', '11111111111111111'],
    ['wvwzzz1jzxw000001', 'WVWZZZ1JZXW000001'],
    ['JH4KA7561PC008269', 'JH4KA7561PC008269'],
  ],
  crypto_address: [
    ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'],
    ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'],
    ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'],
    [
      'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3',
      'btc:bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3',
    ],
    [
      'bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
      'btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
    ],
    ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    ['0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', 'eth:0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359'],
    ['0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED', 'eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    ['0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    ['ETH:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    ['Btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'],
  ],
};

const REJECTED: Record<Exclude<IdentifierKind, "name_dob_phonetic">, readonly Rejected[]> = {
  passport: [
    ['P1234567', 'passport.format'],
    ['ES:P1234567', 'passport.format'],
    ['ESPP1234567', 'passport.format'],
    ['D:C01X00T47', 'passport.format'],
    ['ZZZ:P1234567', 'passport.country'],
    ['ESP:P123-4567', 'passport.number'],
    ['ESP:' + 'A'.repeat(21), 'passport.number'],
    ['DEU:STRAßE1', 'passport.number'],
    ['ESP:', 'passport.number'],
  ],
  national_id: [
    ['12345678Z', 'national_id.format'],
    ['ESP12345678Z', 'national_id.format'],
    ['XYZ:12345678Z', 'national_id.country'],
    ['ESP:12345678-Z', 'national_id.number'],
    ['USA:123_45_6789', 'national_id.number'],
    ['SWE:' + '1'.repeat(31), 'national_id.number'],
  ],
  phone: [
    ['911234567', 'phone.no_country'],
    ['34911234567', 'phone.no_country'],
    ['+34 91 123 45 67 ext', 'phone.format'],
    ['+34 91 123 45 67 ext 5a', 'phone.format'],
    ['+34-91-123+4567', 'phone.format'],
    ['tel:911234567', 'phone.no_country'],
    ['tel:+34 91 abc', 'phone.format'],
    ['tel:911234567;phone-context=example.com', 'phone.no_country'],
    ['sip:+34911234567', 'phone.format'],
    ['+', 'phone.format'],
    ['+123', 'phone.invalid'],
    ['+34 1', 'phone.invalid'],
    ['+999 123456789', 'phone.invalid'],
    ['+34911234567999999', 'phone.invalid'],
    ['12345', 'phone.invalid', { defaultCountry: 'ES' }],
    ['911234567', 'phone.default_country', { defaultCountry: 'XX' }],
    ['911234567', 'phone.default_country', { defaultCountry: 'ESP' }],
    ['+34911234567', 'phone.default_country', { defaultCountry: '' }],
  ],
  email: [
    ['john.example.com', 'email.format'],
    ['john@doe@example.com', 'email.format'],
    ['@example.com', 'email.format'],
    ['john@localhost', 'email.format'],
    ['john doe@example.com', 'email.format'],
    ['john@example..com', 'email.format'],
    ['john@.example.com', 'email.format'],
    ['john@example.com.', 'email.format'],
    ['x'.repeat(65) + '@example.com', 'email.format'],
    ['x@' + 'd'.repeat(250) + '.com', 'email.format'],
    // Host-name rules (RFC 1123 LDH labels, RFC 1035 lengths) on the A-label form.
    ['x@-ex.com', 'email.format'],
    ['x@ex-.com', 'email.format'],
    ['x@ex.-com', 'email.format'],
    ['x@' + 'd'.repeat(64) + '.com', 'email.format'],
    ['x@' + 'dddddddd.'.repeat(28) + 'com', 'email.format'],
    ['x@ex_ample.com', 'email.format'],
    ['x@ex!ample.com', 'email.format'],
    ['x@exa%6dple.com', 'email.format'],
    ['x@example.com/path', 'email.format'],
    ['x@example.com:25', 'email.format'],
    ['x@[192.0.2.1]', 'email.format'],
    ['x@192.0.2.1', 'email.format'],
    ['x@example.123', 'email.format'],
    ['x@xn--a.com', 'email.format'],
    ['x@a\u200db.com', 'email.format'],
    ['mailto:', 'email.format'],
    ['mailto:x@example.com,y@example.com', 'email.format'],
    ['mailto:x%ZZ@example.com', 'email.format'],
  ],
  iban: [
    ['GB82 WEST 1234 5698 7654 33', 'iban.checksum'],
    ['GB28 WEST 1234 5698 7654 32', 'iban.checksum'],
    // 01 and 99 are congruent to 98 and 02 mod 97: they pass MOD 97-10 but
    // are outside ISO 13616's 02..98.
    ['DE01370400440532013420', 'iban.checksum'],
    ['DE99370400440532013790', 'iban.checksum'],
    ['XX82WEST12345698765432', 'iban.country'],
    ['US12345678901234567890', 'iban.country'],
    ['GB82WEST123456987654', 'iban.length'],
    ['DE89 3704 0044 0532 0130 0', 'iban.length'],
    ['GB82WEST1234569876543!', 'iban.format'],
    ['82GBWEST12345698765432', 'iban.format'],
    ['GBXXWEST12345698765432', 'iban.format'],
    // BBAN structure: DE is 18 digits, GB 4 letters then 14 digits.
    ['DE89 3704 0044 0532 0130 0O', 'iban.bban'],
    ['GB82 WES7 1234 5698 7654 32', 'iban.bban'],
    ['IR11 0170 0000 0012 3456 7890 0I', 'iban.bban'],
    ['IR11 0170 0000 0012 3456 7890 02', 'iban.checksum'],
  ],
  name_dob: [
    ['John Smith 1980-01-01', 'name_dob.format'],
    ['John|Smith|1980-01-01', 'name_dob.format'],
    ['---|1980-01-01', 'name_dob.name'],
    [' |1980-01-01', 'name_dob.name'],
    ['John Smith|1980-02-30', 'name_dob.date'],
    ['John Smith|1900-02-29', 'name_dob.date'],
    ['John Smith|1899-12-31', 'name_dob.date'],
    ['John Smith|2101-01-01', 'name_dob.date'],
    ['John Smith|01/02/1980', 'name_dob.date'],
    ['John Smith|1980-1-1', 'name_dob.date'],
    ['John Smith|', 'name_dob.date'],
  ],
  imei: [
    ['4901542032375', 'imei.format'],
    ['49015420323751890', 'imei.format'],
    ['49015420323751A', 'imei.format'],
    ['49_015420_323751_8', 'imei.format'],
  ],
  vin: [
    ['1M8GDM9AYKP042788', 'vin.check_digit'],
    ['11111111211111111', 'vin.check_digit'],
    ['1M8GDM9AXKP04278', 'vin.format'],
    ['1M8GDM9AXKP0427888', 'vin.format'],
    ['1M8GDM9AXKP04278O', 'vin.format'],
    ['WVWZZZ1JZXW00000I', 'vin.format'],
    ['1M8GDM9AXKP04278Q', 'vin.format'],
    ['1M8GDM9AXKP0427_8', 'vin.format'],
  ],
  crypto_address: [
    ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3', 'crypto_address.checksum'],
    ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz', 'crypto_address.checksum'],
    ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', 'crypto_address.checksum'],
    ['0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'crypto_address.checksum'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', 'crypto_address.checksum'],
    // Witness v1 with the bech32 constant and v0 with bech32m (BIP 350).
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd', 'crypto_address.checksum'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh', 'crypto_address.checksum'],
    ['bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'crypto_address.format'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kqq7e2cw9', 'crypto_address.format'],
    ['bc13w508d6qejxtdg4y5r3zarvary0c5xw7kxflzvg', 'crypto_address.format'],
    ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'crypto_address.format'],
    ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', 'crypto_address.format'],
    ['0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea', 'crypto_address.format'],
    ['eth:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'crypto_address.format'],
    ['btc:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'crypto_address.format'],
    ['ltc:LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9', 'crypto_address.format'],
    ['hello world', 'crypto_address.format'],
  ],
};

// Kinds whose values are mostly digits: the error message must not contain
// the digit run either, whatever separators the raw value used.
const NUMERIC_KINDS: ReadonlySet<IdentifierKind> = new Set([
  'passport',
  'national_id',
  'phone',
  'iban',
  'imei',
  'vin',
]);

function errorOf(fn: () => unknown): IdentifierError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdentifierError) return error;
    throw error;
  }
  throw new Error('expected an IdentifierError');
}

function expectNoLeak(error: IdentifierError, kind: IdentifierKind, raw: string): void {
  // Values of one to three characters ("+", "ab") occur in any sentence.
  const trimmed = raw.trim();
  if (trimmed.length >= 4) expect(error.message).not.toContain(trimmed);
  if (NUMERIC_KINDS.has(kind)) {
    const digits = raw.replace(/\D/g, '');
    if (digits.length >= 5) expect(error.message.replace(/\D/g, '')).not.toContain(digits);
  }
}

describe('identifier kinds', () => {
  it('lists the ten kinds in protocol order', () => {
    expect(IDENTIFIER_KINDS).toEqual([
      'passport',
      'national_id',
      'phone',
      'email',
      'iban',
      'name_dob',
      'imei',
      'vin',
      'crypto_address',
      'name_dob_phonetic',
    ]);
  });

  it('recognises kinds with isIdentifierKind and the zod schema', () => {
    for (const kind of IDENTIFIER_KINDS) {
      expect(isIdentifierKind(kind)).toBe(true);
      expect(identifierKindSchema.parse(kind)).toBe(kind);
    }
    for (const bad of ['', 'PASSPORT', 'ssn', 'national-id', 'toString', '__proto__']) {
      expect(isIdentifierKind(bad)).toBe(false);
      expect(identifierKindSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('documents every kind in KIND_RULES', () => {
    expect(Object.keys(KIND_RULES).sort()).toEqual([...IDENTIFIER_KINDS].sort());
    for (const kind of IDENTIFIER_KINDS) {
      expect(KIND_RULES[kind].input.length).toBeGreaterThan(20);
      expect(KIND_RULES[kind].canonical.length).toBeGreaterThan(20);
    }
  });
});

// name_dob_phonetic has no canonical form of its own: its keys are derived
// from name_dob input (test/identifiers-phonetic.test.ts).
describe.each(IDENTIFIER_KINDS.filter((k) => k !== 'name_dob_phonetic'))('%s', (kind) => {
  const accepted = ACCEPTED[kind];
  const rejected = REJECTED[kind];

  it('has at least 4 accepted and 3 rejected cases', () => {
    expect(accepted.length).toBeGreaterThanOrEqual(4);
    expect(rejected.length).toBeGreaterThanOrEqual(3);
  });

  for (const [raw, canonical, opts] of accepted) {
    test(`accepts ${JSON.stringify(raw)}`, () => {
      expect(canonicalize(kind, raw, opts)).toBe(canonical);
      expect(tryCanonicalize(kind, raw, opts)).toEqual({ ok: true, canonical });
    });

    test(`is idempotent on the canonical form of ${JSON.stringify(raw)}`, () => {
      expect(canonicalize(kind, canonical, opts)).toBe(canonical);
      expect(canonicalize(kind, canonical)).toBe(canonical);
    });
  }

  for (const [raw, code, opts] of rejected) {
    test(`rejects ${JSON.stringify(raw)} with ${code}`, () => {
      const error = errorOf(() => canonicalize(kind, raw, opts));
      expect(error.name).toBe('IdentifierError');
      expect(error.code).toBe(code);
      expect(error.kind).toBe(kind);
      expect(error.message).toContain(kind);
      expect(error.message).toContain(code);
      expectNoLeak(error, kind, raw);

      const result = tryCanonicalize(kind, raw, opts);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe(code);
    });
  }

  it('rejects empty and whitespace-only values', () => {
    for (const raw of ['', '   ', '\t\n', '\u3000']) {
      expect(errorOf(() => canonicalize(kind, raw)).code).toBe('value.empty');
    }
  });

  it('rejects unpaired surrogates', () => {
    expect(errorOf(() => canonicalize(kind, 'a\ud800b')).code).toBe('value.encoding');
  });
});

describe('common rules', () => {
  it('rejects an unknown kind without echoing it', () => {
    const error = errorOf(() => canonicalize('ssn', '123-45-6789'));
    expect(error.code).toBe('kind.unknown');
    expect(error.kind).toBe('ssn');
    expect(error.message).not.toContain('123-45-6789');

    // Swapped columns: the "kind" is really a value and must not be logged.
    const swapped = errorOf(() => canonicalize('ESP:P1234567', 'passport'));
    expect(swapped.code).toBe('kind.unknown');
    expect(swapped.message).not.toContain('ESP:P1234567');
  });

  it('rejects non-string values from untyped callers', () => {
    const error = errorOf(() => canonicalize('email', 42 as unknown as string));
    expect(error.code).toBe('value.type');
  });

  it('tryCanonicalize reports instead of throwing', () => {
    const result = tryCanonicalize('iban', 'GB82 WEST 1234 5698 7654 33');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(IdentifierError);
      expect(result.error.code).toBe('iban.checksum');
    }
    const unknown = tryCanonicalize('nope', 'x');
    expect(unknown.ok).toBe(false);
  });

  it('IdentifierError is an Error with a stable name', () => {
    const error = errorOf(() => canonicalize('vin', 'x'));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('IdentifierError');
  });
});

describe('the same identifier written in different national formats', () => {
  const groups: ReadonlyArray<{ kind: IdentifierKind; forms: readonly Accepted[] }> = [
    {
      kind: 'passport',
      forms: [
        ['ESP:P1234567', ''],
        ['esp p 123 4567', ''],
        ['Esp-P1234567', ''],
        ['ＥＳＰ Ｐ１２３４５６７', ''],
      ],
    },
    {
      kind: 'phone',
      forms: [
        ['+34 911 23 45 67', ''],
        ['0034 911 234 567', ''],
        ['911 23 45 67', '', { defaultCountry: 'ES' }],
        ['(+34) 911-234-567', ''],
        ['+34.911.234.567', ''],
      ],
    },
    {
      kind: 'phone',
      forms: [
        ['+44 (0)20 7946 0958', ''],
        ['020 7946 0958', '', { defaultCountry: 'GB' }],
        ['0044 20 7946 0958', ''],
      ],
    },
    {
      kind: 'name_dob',
      forms: [
        ['José María García López|1980-02-29', ''],
        ['GARCIA LOPEZ, Jose Maria|19800229', ''],
        ['García-López José-María|1980-02-29', ''],
        ['garcía lópez, josé maría | 1980-02-29', ''],
      ],
    },
    {
      kind: 'name_dob',
      forms: [
        ['Hans Müller|1975-01-05', ''],
        ['MULLER, Hans|19750105', ''],
        ['Müller Hans|1975-01-05', ''],
      ],
    },
    {
      kind: 'iban',
      forms: [
        ['DE89 3704 0044 0532 0130 00', ''],
        ['de89370400440532013000', ''],
        ['IBAN DE89-3704-0044-0532-0130-00', ''],
      ],
    },
    {
      kind: 'imei',
      forms: [
        ['49-015420-323751-8', ''],
        ['49015420323751', ''],
        ['49/015420/323751/8', ''],
        ['490154203237510', ''],
        ['4901542032375101', ''],
      ],
    },
    {
      kind: 'email',
      forms: [
        ['hans@bücher.de', ''],
        ['hans@xn--bcher-kva.de', ''],
        ['mailto:Hans@Bücher.DE', ''],
        ['ｈａｎｓ＠ｂüｃｈｅｒ．ｄｅ', ''],
      ],
    },
    {
      kind: 'phone',
      forms: [
        ['089/3072904', '', { defaultCountry: 'DE' }],
        ['089 3072904', '', { defaultCountry: 'DE' }],
        ['(089) 307 2904', '', { defaultCountry: 'DE' }],
        ['+49 89 3072904', ''],
        ['tel:+49-89-3072904;ext=12', ''],
        ['0049 89 3072904 ext. 12', ''],
      ],
    },
  ];

  test.each(groups)('$kind forms agree', ({ kind, forms }) => {
    const canonical = forms.map(([raw, , opts]) => canonicalize(kind, raw, opts));
    expect(new Set(canonical).size).toBe(1);
  });
});

describe('identifierInput', () => {
  it('is UTF8(kind) ‖ 0x00 ‖ UTF8(canonical)', () => {
    const expected = new TextEncoder().encode('email\0a@b.c');
    expect(identifierInput('email', 'a@b.c')).toEqual(expected);
    expect(Array.from(identifierInput('email', 'a@b.c'))).toEqual([
      0x65, 0x6d, 0x61, 0x69, 0x6c, 0x00, 0x61, 0x40, 0x62, 0x2e, 0x63,
    ]);
  });

  it('encodes non-ASCII canonical values as UTF-8', () => {
    const bytes = identifierInput('email', 'müller@beispiel.de');
    expect(bytes).toEqual(new TextEncoder().encode('email\u0000müller@beispiel.de'));
    expect(bytes.length).toBe('email'.length + 1 + 'müller@beispiel.de'.length + 1);
  });

  it('separates kinds: equal strings of different kinds give different inputs', () => {
    const a = identifierInput('passport', 'ESP:P1234567');
    const b = identifierInput('national_id', 'ESP:P1234567');
    expect(a).not.toEqual(b);
  });

  it('inputFor canonicalises first', () => {
    expect(inputFor('email', '  A@B.C ')).toEqual(identifierInput('email', 'a@b.c'));
    expect(inputFor('phone', '911234567', { defaultCountry: 'ES' })).toEqual(
      new TextEncoder().encode('phone\0+34911234567'),
    );
    expect(errorOf(() => inputFor('iban', 'GB00')).code).toBe('iban.format');
  });

  it('rejects unknown kinds and empty values', () => {
    expect(errorOf(() => identifierInput('ssn' as IdentifierKind, 'x')).code).toBe('kind.unknown');
    expect(errorOf(() => identifierInput('email', '')).code).toBe('value.empty');
    expect(errorOf(() => identifierInput('email', '\udc00')).code).toBe('value.encoding');
  });
});

describe('identifierRowSchema', () => {
  const row: IdentifierRow = { record_id: 'case-42.a_b:7', kind: 'iban', value: 'GB82 WEST 1234 5698 7654 32' };

  it('accepts a well-formed row', () => {
    expect(identifierRowSchema.parse(row)).toEqual(row);
    expect(identifierRowSchema.safeParse({ ...row, record_id: 'x'.repeat(128), value: 'v'.repeat(512) }).success).toBe(
      true,
    );
  });

  test.each([
    ['empty record_id', { ...row, record_id: '' }],
    ['record_id over 128 chars', { ...row, record_id: 'x'.repeat(129) }],
    ['record_id with a space', { ...row, record_id: 'case 42' }],
    ['record_id with a slash', { ...row, record_id: 'case/42' }],
    ['unknown kind', { ...row, kind: 'ssn' }],
    ['empty value', { ...row, value: '' }],
    ['value over 512 chars', { ...row, value: 'v'.repeat(513) }],
    ['non-string value', { ...row, value: 42 }],
    ['missing kind', { record_id: 'r1', value: 'x' }],
  ])('rejects %s', (_label, candidate) => {
    expect(identifierRowSchema.safeParse(candidate).success).toBe(false);
  });

  it('does not echo the value in its issues', () => {
    const secret = 'GB82WEST12345698765432' + 'X'.repeat(600);
    const result = identifierRowSchema.safeParse({ ...row, value: secret });
    expect(result.success).toBe(false);
    if (!result.success) expect(JSON.stringify(result.error.issues)).not.toContain('GB82WEST');
  });
});
