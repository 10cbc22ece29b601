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

/** SHA-512 of `data` written into `out[0..64)`: lets an engine supply a native hash (node:crypto, libsodium). */
export type Sha512Into = (out: Uint8Array, data: Uint8Array) => void;

const OVERSIZE_DST_PREFIX = new TextEncoder().encode('H2C-OVERSIZE-DST-');

/**
 * RFC 9380 §5.3.1 expand_message_xmd with SHA-512 (b_in_bytes 64, s_in_bytes
 * 128) over an injected hash, for a fixed DST and output length. The message
 * block layout is fixed per DST, so one scratch buffer per closure is reused
 * and each output costs ell + 1 one-shot hash calls with no other allocation.
 * Byte-identical to @noble/curves' expand_message_xmd (test/engine-native.test.ts).
 */
export function createExpandXmd(hash: Sha512Into, dstIn: Uint8Array, lenInBytes: number): (msg: Uint8Array) => Uint8Array {
  const ell = Math.ceil(lenInBytes / 64);
  if (lenInBytes <= 0 || lenInBytes > 65535 || ell > 255) throw new RangeError('expand_message_xmd: len_in_bytes out of range');
  let dst = dstIn;
  if (dst.length > 255) {
    // RFC 9380 §5.3.3: an oversize DST is replaced by its hash.
    const buf = new Uint8Array(OVERSIZE_DST_PREFIX.length + dst.length);
    buf.set(OVERSIZE_DST_PREFIX);
    buf.set(dst, OVERSIZE_DST_PREFIX.length);
    dst = new Uint8Array(64);
    hash(dst, buf);
  }
  // DST_prime = DST ‖ I2OSP(len(DST), 1)
  const tailLen = dst.length + 1;
  // b_i input: (b_0 xor b_{i-1}) ‖ I2OSP(i, 1) ‖ DST_prime
  const bi = new Uint8Array(64 + 1 + tailLen);
  bi.set(dst, 65);
  bi[65 + dst.length] = dst.length;
  const b0 = new Uint8Array(64);
  // Z_pad stays zero: messages are written after it.
  let scratch = new Uint8Array(512);
  return (msg) => {
    // msg_prime = Z_pad(128) ‖ msg ‖ I2OSP(len_in_bytes, 2) ‖ I2OSP(0, 1) ‖ DST_prime
    const need = 128 + msg.length + 3 + tailLen;
    if (scratch.length < need) scratch = new Uint8Array(2 * need);
    scratch.set(msg, 128);
    let o = 128 + msg.length;
    scratch[o++] = lenInBytes >>> 8;
    scratch[o++] = lenInBytes & 0xff;
    scratch[o++] = 0;
    scratch.set(dst, o);
    scratch[o + dst.length] = dst.length;
    hash(b0, scratch.subarray(0, need));
    const out = new Uint8Array(ell * 64);
    bi.set(b0, 0);
    bi[64] = 1;
    hash(out.subarray(0, 64), bi);
    for (let i = 2; i <= ell; i++) {
      const prev = out.subarray((i - 2) * 64, (i - 1) * 64);
      for (let j = 0; j < 64; j++) bi[j] = (b0[j] as number) ^ (prev[j] as number);
      bi[64] = i;
      hash(out.subarray((i - 1) * 64, i * 64), bi);
    }
    return ell * 64 === lenInBytes ? out : out.slice(0, lenInBytes);
  };
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
