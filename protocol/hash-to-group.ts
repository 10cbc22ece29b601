// RFC 9497 §4.1 HashToGroup / HashToScalar for ristretto255-SHA512.
// HashToGroup is RFC 9380 hash_to_ristretto255: expand_message_xmd(SHA-512,
// msg, DST, 64) followed by the RFC 9496 §4.3.4 one-way map.
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { Suite } from './constants.js';
import { ProtocolError } from './errors.js';
import { type Point, reduceScalarLE } from './group.js';

/** RFC 9380 §5.3.1 expand_message_xmd with SHA-512 and 64 output bytes. */
export function expandXmd64(msg: Uint8Array, dst: Uint8Array): Uint8Array {
  return expand_message_xmd(msg, dst, 64, sha512);
}

/** The uniform bytes fed to the one-way map; the fast engine maps these with libsodium. */
export function hashToGroupBytes(suite: Suite, input: Uint8Array): Uint8Array {
  return expandXmd64(input, suite.hashToGroupDST);
}

export function hashToGroup(suite: Suite, input: Uint8Array): Point {
  const p = ristretto255_hasher.hashToCurve(input, { DST: suite.hashToGroupDST });
  // RFC 9497 §3.3.1: an input mapping to the identity is an error (probability ~2^-252).
  if (p.is0()) throw new ProtocolError('HashToGroup produced the identity element');
  return p;
}

/** RFC 9497 §4.1 HashToScalar; `dst` defaults to "HashToScalar-" ‖ contextString. */
export function hashToScalar(suite: Suite, input: Uint8Array, dst: Uint8Array = suite.hashToScalarDST): bigint {
  return reduceScalarLE(expandXmd64(input, dst));
}
