import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { fail } from './errors.js';

const KIND = 'crypto_address';
const FORMAT = 'crypto_address.format';
const CHECKSUM = 'crypto_address.checksum';

const ascii = new TextEncoder();

// ---- Bitcoin Base58Check (P2PKH, P2SH) -------------------------------------

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
// Mainnet P2PKH addresses start with "1", P2SH with "3"; a 25-byte payload
// encodes to 26..35 characters.
const BASE58_SHAPE = /^[13][1-9A-HJ-NP-Za-km-z]{25,34}$/;
const P2PKH_VERSION = 0x00;
const P2SH_VERSION = 0x05;

function base58Decode(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const ch of text) {
    let carry = BASE58_ALPHABET.indexOf(ch);
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] ?? 0) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  // Each leading "1" encodes one leading zero byte.
  for (let i = 0; i < text.length && text[i] === '1'; i++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

function canonicalBase58(address: string): string {
  const payload = base58Decode(address);
  if (payload.length !== 25) return fail(KIND, FORMAT);
  const version = payload[0];
  if (version !== P2PKH_VERSION && version !== P2SH_VERSION) return fail(KIND, FORMAT);
  const digest = sha256(sha256(payload.subarray(0, 21)));
  for (let i = 0; i < 4; i++) {
    if (digest[i] !== payload[21 + i]) return fail(KIND, CHECKSUM);
  }
  // Base58 is case-sensitive: the address is kept exactly as given.
  return `btc:${address}`;
}

// ---- Bitcoin segwit: bech32 (BIP 173) and bech32m (BIP 350) ----------------

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) {
      if ((top >>> i) & 1) chk = (chk ^ (GENERATOR[i] ?? 0)) >>> 0;
    }
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

/** Regroup 5-bit words into bytes, rejecting non-zero or over-long padding (BIP 173). */
function fiveToEight(words: readonly number[]): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const w of words) {
    acc = (acc << 5) | w;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits >= 5 || acc !== 0) return null;
  return out;
}

function canonicalSegwit(address: string): string {
  // BIP 173: mixed case is invalid; the canonical spelling is lower case.
  const lower = address.toLowerCase();
  if (address !== lower && address !== address.toUpperCase()) return fail(KIND, FORMAT);
  if (lower.length > 90) return fail(KIND, FORMAT);
  const sep = lower.lastIndexOf('1');
  if (lower.slice(0, sep) !== 'bc') return fail(KIND, FORMAT);
  const data: number[] = [];
  for (const ch of lower.slice(sep + 1)) {
    const v = BECH32_CHARSET.indexOf(ch);
    if (v < 0) return fail(KIND, FORMAT);
    data.push(v);
  }
  // Witness version, at least 2 program bytes (4 words), 6 checksum words.
  if (data.length < 1 + 4 + 6) return fail(KIND, FORMAT);
  // The checksum is tested first so that a mistyped character reports as a
  // checksum failure rather than as whatever structure it happens to break.
  const residue = polymod([...hrpExpand('bc'), ...data]);
  if (residue !== BECH32_CONST && residue !== BECH32M_CONST) return fail(KIND, CHECKSUM);
  const version = data[0] ?? 0;
  if (version > 16) return fail(KIND, FORMAT);
  const program = fiveToEight(data.slice(1, -6));
  if (program === null || program.length < 2 || program.length > 40) return fail(KIND, FORMAT);
  if (version === 0 && program.length !== 20 && program.length !== 32) return fail(KIND, FORMAT);
  // BIP 350: witness v0 uses the bech32 constant, v1..v16 the bech32m one.
  const expected = version === 0 ? BECH32_CONST : BECH32M_CONST;
  if (residue !== expected) return fail(KIND, CHECKSUM);
  return `btc:${lower}`;
}

// ---- Ethereum (EIP-55) ------------------------------------------------------

const ETH_SHAPE = /^0[xX]([0-9a-fA-F]{40})$/;

function canonicalEthereum(address: string): string {
  const match = ETH_SHAPE.exec(address);
  if (match === null) return fail(KIND, FORMAT);
  const hex = match[1] ?? '';
  const lower = hex.toLowerCase();
  // EIP-55: an all-lower or all-upper address carries no checksum; a mixed
  // case one must capitalise exactly the letters whose keccak-256 nibble of
  // the lower-case hex address is 8 or more.
  if (/[a-f]/.test(hex) && /[A-F]/.test(hex)) {
    const hash = keccak_256(ascii.encode(lower));
    for (let i = 0; i < 40; i++) {
      const ch = hex.charAt(i);
      if (ch >= '0' && ch <= '9') continue;
      const byte = hash[i >> 1] ?? 0;
      const nibble = i % 2 === 0 ? byte >> 4 : byte & 0x0f;
      const upper = ch >= 'A' && ch <= 'F';
      if (upper !== nibble >= 8) return fail(KIND, CHECKSUM);
    }
  }
  return `eth:0x${lower}`;
}

// ---- Dispatch -----------------------------------------------------------------

const NETWORK_PREFIX = /^(btc|eth):/i;

function canonicalBitcoin(address: string): string {
  if (/^bc1/i.test(address)) return canonicalSegwit(address);
  if (BASE58_SHAPE.test(address)) return canonicalBase58(address);
  return fail(KIND, FORMAT);
}

/**
 * `value` is trimmed and NFKC-normalised. The canonical form carries the
 * network ("btc:" / "eth:") so that equal strings on different chains can
 * never be taken for the same address.
 */
export function canonicalizeCryptoAddress(value: string): string {
  const prefix = NETWORK_PREFIX.exec(value);
  if (prefix !== null) {
    const address = value.slice(prefix[0].length);
    return (prefix[1] ?? '').toLowerCase() === 'btc' ? canonicalBitcoin(address) : canonicalEthereum(address);
  }
  if (/^0x/i.test(value)) return canonicalEthereum(value);
  return canonicalBitcoin(value);
}

export const CRYPTO_ADDRESS_RULE = {
  input:
    'Bitcoin mainnet address (Base58Check P2PKH "1..." / P2SH "3...", or bech32/bech32m "bc1...") or Ethereum address ("0x" + 40 hex digits, EIP-55 checksum verified when mixed case); an explicit "btc:" or "eth:" prefix is accepted. Example: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".',
  canonical:
    'Network prefix and address: "btc:<Base58 as given>", "btc:<bech32 in lower case>" or "eth:0x<40 lower-case hex digits>". Example: "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed".',
} as const;
