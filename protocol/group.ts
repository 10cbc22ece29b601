// ristretto255 group operations (RFC 9496) through @noble/curves, and the one
// strict decoder used at every wire boundary.
import { ristretto255 } from '@noble/curves/ed25519.js';
import { ELEMENT_BYTES, SCALAR_BYTES } from './constants.js';
import { DecodeError } from './errors.js';

export const Point: typeof ristretto255.Point = ristretto255.Point;
export type Point = InstanceType<typeof ristretto255.Point>;
/** Scalar field of the prime-order group, order ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const Fn = ristretto255.Point.Fn;
export const GROUP_ORDER: bigint = Fn.ORDER;

/**
 * Decode a ristretto255 element arriving from outside (wire, file, vector).
 * RFC 9497 §4.1 DeserializeElement: reject non-canonical encodings and the
 * identity. The error names `label`, never the bytes.
 */
export function decodePoint(label: string, bytes: Uint8Array): Point {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ELEMENT_BYTES) {
    throw new DecodeError(label, 'length', `expected ${ELEMENT_BYTES} bytes, got ${bytes?.length ?? 'none'}`);
  }
  let p: Point;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new DecodeError(label, 'non-canonical', 'not a canonical ristretto255 encoding');
  }
  if (p.is0()) throw new DecodeError(label, 'identity', 'the identity element is not allowed');
  return p;
}

export function encodePoint(p: Point): Uint8Array {
  return p.toBytes();
}

function bytesToNumberLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
}

/** Reduce a little-endian byte string (any length) modulo ℓ: RFC 9496 scalar reduction. */
export function reduceScalarLE(b: Uint8Array): bigint {
  return bytesToNumberLE(b) % GROUP_ORDER;
}

/** RFC 9497 §4.1 SerializeScalar: 32 bytes little-endian. */
export function encodeScalar(s: bigint): Uint8Array {
  const out = new Uint8Array(SCALAR_BYTES);
  let v = s;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * RFC 9497 §4.1 DeserializeScalar: 32 bytes little-endian, < ℓ. Secret keys
 * additionally must not be zero (`allowZero = false`).
 */
export function decodeScalar(label: string, bytes: Uint8Array, allowZero = false): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) {
    throw new DecodeError(label, 'length', `expected ${SCALAR_BYTES} bytes, got ${bytes?.length ?? 'none'}`);
  }
  const s = bytesToNumberLE(bytes);
  if (s >= GROUP_ORDER) throw new DecodeError(label, 'out-of-range', 'scalar is not reduced modulo the group order');
  if (s === 0n && !allowZero) throw new DecodeError(label, 'zero-scalar', 'scalar must not be zero');
  return s;
}

/** RFC 9497 §4.1 RandomScalar: uniform in [1, ℓ) by reducing 64 random bytes. */
export function randomScalar(rng: (n: number) => Uint8Array): bigint {
  for (;;) {
    const s = reduceScalarLE(rng(64));
    if (s !== 0n) return s;
  }
}

export function scalarMulBase(s: bigint): Point {
  return Point.BASE.multiply(s);
}
