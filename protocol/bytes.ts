// Byte helpers shared by every construction. Pure: no Node Buffer, so the
// protocol runs unchanged in Workers and browsers.

import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';

const enc = new TextEncoder();

export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** RFC 8017 §4.1 I2OSP: big-endian, fixed length; throws if the value does not fit. */
export function i2osp(value: number, length: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * length)) {
    throw new RangeError(`i2osp: ${value} does not fit in ${length} byte(s)`);
  }
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

/** `I2OSP(len(x), 2) ‖ x`, the length-prefixed framing RFC 9497 uses in every transcript. */
export function lengthPrefixed(x: Uint8Array): Uint8Array {
  return concatBytes(i2osp(x.length, 2), x);
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/i;

/**
 * Hex (either case, even length) to bytes through @noble/hashes. The shape is
 * checked here first so that every caller gets one TypeError naming its field
 * and never the offending text.
 */
export function hexToBytes(hex: string, label = 'hex'): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) {
    throw new TypeError(`${label}: expected an even-length hex string`);
  }
  return nobleHexToBytes(hex);
}

/** Lower-case hex through @noble/hashes. */
export function bytesToHex(bytes: Uint8Array): string {
  return nobleBytesToHex(bytes);
}

/** Constant-time for equal lengths; lengths are public in every use here. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
