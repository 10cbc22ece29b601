import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { base58, bech32, bech32m } from '@scure/base';
import { fail } from './errors.js';

const KIND = 'crypto_address';
const FORMAT = 'crypto_address.format';
const CHECKSUM = 'crypto_address.checksum';

const ascii = new TextEncoder();

// ---- Bitcoin Base58Check (P2PKH, P2SH) -------------------------------------

// Mainnet P2PKH addresses start with "1", P2SH with "3"; a 25-byte payload
// encodes to 26..35 characters.
const BASE58_SHAPE = /^[13][1-9A-HJ-NP-Za-km-z]{25,34}$/;
const P2PKH_VERSION = 0x00;
const P2SH_VERSION = 0x05;

function canonicalBase58(address: string): string {
  // Base58 (alphabet 1-9 A-H J-N P-Z a-k m-z); each leading "1" is a zero byte.
  const payload = base58.decode(address);
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

// "bc", the separator "1", then data characters of the bech32 alphabet, which
// has no "1", so the separator is the last "1" as BIP 173 requires; at least
// the witness version, 2 program bytes (4 words) and 6 checksum characters,
// and at most 90 characters in all.
const SEGWIT_SHAPE = /^bc1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{11,87}$/;

function canonicalSegwit(address: string): string {
  // BIP 173: mixed case is invalid; the canonical spelling is lower case.
  const lower = address.toLowerCase();
  if (address !== lower && address !== address.toUpperCase()) return fail(KIND, FORMAT);
  if (!SEGWIT_SHAPE.test(lower)) return fail(KIND, FORMAT);
  // The checksum is tested first so that a mistyped character reports as a
  // checksum failure rather than as whatever structure it happens to break.
  // A string in this shape fails both decoders only by its checksum.
  const asBech32 = bech32.decodeUnsafe(lower);
  const decoded = asBech32 ?? bech32m.decodeUnsafe(lower);
  if (decoded === undefined) return fail(KIND, CHECKSUM);
  const words = decoded.words;
  const version = words[0] ?? 0;
  if (version > 16) return fail(KIND, FORMAT);
  // Regrouped from 5 to 8 bits; over-long or non-zero padding is refused.
  const program = bech32.fromWordsUnsafe(words.slice(1));
  if (program === undefined || program.length < 2 || program.length > 40) return fail(KIND, FORMAT);
  if (version === 0 && program.length !== 20 && program.length !== 32) return fail(KIND, FORMAT);
  // BIP 350: witness v0 uses the bech32 constant, v1..v16 the bech32m one.
  if ((version === 0) !== (asBech32 !== undefined)) return fail(KIND, CHECKSUM);
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
