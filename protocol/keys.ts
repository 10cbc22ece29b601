// RFC 9497 §3.2.1 DeriveKeyPair. An agency keeps one 32-byte seed and derives
// each epoch key from it with info = "epoch:" ‖ epochId (protocol/SPEC.md §1.4).
import { concatBytes, i2osp } from './bytes.js';
import type { Suite } from './constants.js';
import { ProtocolError } from './errors.js';
import { decodeScalar, encodePoint, encodeScalar, scalarMulBase } from './group.js';
import { hashToScalar } from './hash-to-group.js';

export interface KeyPair {
  /** Secret scalar, 32 bytes little-endian. */
  readonly sk: Uint8Array;
  /** Public element sk·G, 32 bytes. */
  readonly pk: Uint8Array;
}

/** sk·G for an encoded non-zero scalar (@noble/curves); an engine's `publicKey` gives the same bytes. */
const nobleBase = (sk: Uint8Array): Uint8Array => encodePoint(scalarMulBase(decodeScalar('sk', sk)));

/**
 * `publicKey` computes pk from the encoded sk: an engine's (native libsodium
 * takes microseconds where @noble/curves' first base multiplication in a
 * process builds its tables, tens of milliseconds).
 */
export function deriveKeyPair(suite: Suite, seed: Uint8Array, info: Uint8Array, publicKey: (sk: Uint8Array) => Uint8Array = nobleBase): KeyPair {
  if (seed.length !== 32) throw new ProtocolError(`seed: expected 32 bytes, got ${seed.length}`);
  const deriveInput = concatBytes(seed, i2osp(info.length, 2), info);
  for (let counter = 0; counter <= 255; counter++) {
    const sk = hashToScalar(suite, concatBytes(deriveInput, i2osp(counter, 1)), suite.deriveKeyPairDST);
    if (sk !== 0n) {
      const encoded = encodeScalar(sk);
      return { sk: encoded, pk: publicKey(encoded) };
    }
  }
  throw new ProtocolError('DeriveKeyPairError');
}

/** Public key for a secret scalar. */
export function publicKey(sk: bigint): Uint8Array {
  return encodePoint(scalarMulBase(sk));
}
